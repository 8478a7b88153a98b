// Divergence: a NaN or infinite loss is caught within the batch that produced it, the trainer
// pauses and comes back to its last good state bit for bit, names the likely cause, and trains
// on once the user lowers it.
#include "core/data/dataset.h"
#include "core/divergence.h"
#include "core/error.h"
#include "core/io/binary_io.h"
#include "core/trainer.h"
#include "support/fashion_mnist.h"
#include "synthetic_data.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>

using namespace sq;

namespace {

TrainConfig config()
{
    TrainConfig c;
    c.arch = "dense 32, bn, relu, dense 16, relu, dense 4";
    c.epochs = 3;
    c.commitEpochs = 1;
    c.batchSize = 32;
    c.threads = 1;
    c.learningRate = 3e-3;
    c.recalibrationImages = 256;
    c.historyEveryBatches = 4;
    c.snapshotEveryBatches = 1000;
    c.goodStateEveryBatches = 5;
    return c;
}

TrainConfig sgdConfig()
{
    TrainConfig c = config();
    c.arch = "dense 64, relu, dense 4"; // no BatchNorm to tame a blow-up
    c.optimizer.kind = OptimizerKind::Sgd;
    c.learningRate = 0.05;
    return c;
}

std::shared_ptr<const DatasetSplits> data()
{
    static const auto d = testing::blobs(1024, 256);
    return d;
}

bool sameTensors(const std::vector<Tensor>& a, const std::vector<Tensor>& b)
{
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].shape() != b[i].shape() || std::memcmp(a[i].data(), b[i].data(), 4 * a[i].size()) != 0)
            return false;
    return true;
}

bool allFinite(Trainer& t)
{
    for (const Param* p : t.model().params())
        if (!p->value.vec().allFinite())
            return false;
    return true;
}

// Steps until the trainer reports a divergence; false if none came within `limit` steps.
bool stepUntilDiverged(Trainer& t, int limit)
{
    for (int i = 0; i < limit && !t.finished(); ++i)
        if (!t.step())
            return t.divergences() > 0;
    return false;
}

} // namespace

class TestDivergence : public QObject {
    Q_OBJECT

private slots:
    void nanIsCaughtWithinOneBatchAndTheLastGoodStateComesBack();
    void liveLrRaiseIsBlamedAndLoweringItTrainsOn();
    void configuredLrIsBlamedAndTheStateBeforeTheBlowUpComesBack();
    void diagnosis_data();
    void diagnosis();
    void goodStateIsRefreshedOnItsCadence();
    void finiteBlowUpIsCaughtOverItsWindow();
    void collapseToChanceIsCaughtAndNamesLambda();
    void healthyRunNeverFails();
};

void TestDivergence::nanIsCaughtWithinOneBatchAndTheLastGoodStateComesBack()
{
    Trainer t(config(), data());
    for (int i = 0; i < 12; ++i)
        QVERIFY(t.step());
    QCOMPARE(t.goodStateStep(), std::int64_t(10));
    t.model().quantTargets()[1].weight->param.value[7] = std::numeric_limits<float>::quiet_NaN();

    QVERIFY(!t.step()); // the very next batch
    QCOMPARE(t.divergences(), 1);
    const DivergenceReport& r = *t.lastDivergence();
    QCOMPARE(r.step, std::int64_t(13));
    QCOMPARE(r.epoch, 1);
    QCOMPARE(r.batch, 13);
    QVERIFY(std::isnan(r.value));
    QCOMPARE(r.restoredStep, std::int64_t(10));
    QVERIFY(t.controls().paused());
    QCOMPARE(t.stepCount(), std::int64_t(10));

    // Bit for bit the state of a run that stopped at step 10.
    Trainer reference(config(), data());
    for (int i = 0; i < 10; ++i)
        QVERIFY(reference.step());
    const TrainerState a = t.captureState();
    const TrainerState b = reference.captureState();
    QVERIFY(sameTensors(a.params, b.params));
    QVERIFY(sameTensors(a.buffers, b.buffers));
    QVERIFY(sameTensors(a.optimizer, b.optimizer));
    QCOMPARE(a.optimizerSteps, b.optimizerSteps);
    QVERIFY(a.method == b.method);
    QCOMPARE(a.batchInEpoch, b.batchInEpoch);
    QCOMPARE(a.history.steps.size(), b.history.steps.size()); // rows of steps 11 and 12 are gone
    QCOMPARE(a.sinceRecord.batches, b.sinceRecord.batches);

    // Resuming replays the same batches: the run ends as one that never diverged.
    t.controls().resume();
    Trainer clean(config(), data());
    while (!clean.finished())
        QVERIFY(clean.step());
    while (!t.finished())
        QVERIFY(t.step());
    QVERIFY(sameTensors(t.captureState().params, clean.captureState().params));
    QCOMPARE(t.history().epochs.back().evaluation.quantizedAccuracy,
             clean.history().epochs.back().evaluation.quantizedAccuracy);
}

void TestDivergence::liveLrRaiseIsBlamedAndLoweringItTrainsOn()
{
    Trainer t(sgdConfig(), data());
    for (int i = 0; i < 5; ++i)
        QVERIFY(t.step());
    t.controls().learningRate.set(300.0);
    QVERIFY(stepUntilDiverged(t, 60));
    const DivergenceReport r = *t.lastDivergence();
    QCOMPARE(r.parameter, std::string("lr"));
    QCOMPARE(r.parameterValue, 300.0);
    QVERIFY2(r.message.find("right after lr was raised from 0.05 to 300 at step 5") != std::string::npos,
             r.message.c_str());
    QVERIFY2(r.message.find("lower lr (--lr, now 300) and resume") != std::string::npos, r.message.c_str());
    QCOMPARE(r.restoredStep, std::int64_t(5)); // the loss after the raise was no longer sane
    QVERIFY(t.controls().paused());
    QVERIFY(allFinite(t));
    QCOMPARE(t.learningRate(), 300.0); // the user's value stays until the user changes it

    t.controls().learningRate.set(0.05);
    t.controls().resume();
    while (!t.finished())
        QVERIFY(t.step());
    QCOMPARE(t.divergences(), 1);
    QVERIFY(allFinite(t));
    QVERIFY2(t.history().epochs.back().evaluation.floatAccuracy > 0.8,
             qPrintable(QString::number(t.history().epochs.back().evaluation.floatAccuracy)));
    QCOMPARE(t.history().events.back().to, 0.05);
}

void TestDivergence::configuredLrIsBlamedAndTheStateBeforeTheBlowUpComesBack()
{
    TrainConfig c = sgdConfig();
    c.learningRate = 100.0;
    Trainer t(c, data());
    QVERIFY(stepUntilDiverged(t, 200));
    const DivergenceReport r = *t.lastDivergence();
    QCOMPARE(r.parameter, std::string("lr"));
    QVERIFY2(r.message.find("with lr = 100, 1000 times its usual 0.1") != std::string::npos, r.message.c_str());
    // Finite but already exploding states (a loss of 1e28 a few steps before the NaN) are not
    // kept: the state that comes back is one whose loss was sane.
    QVERIFY(r.restoredStep < r.step - 1);
    for (const StepRecord& row : t.history().steps)
        QVERIFY2(row.crossEntropy < 5.0, qPrintable(QString::number(row.crossEntropy)));
    Trainer reference(c, data());
    for (std::int64_t i = 0; i < r.restoredStep; ++i)
        QVERIFY(reference.step());
    QVERIFY(sameTensors(t.captureState().params, reference.captureState().params));

    t.controls().learningRate.set(0.05);
    t.controls().resume();
    while (!t.finished())
        QVERIFY(t.step());
    QVERIFY(allFinite(t));
    QVERIFY(t.history().epochs.back().evaluation.floatAccuracy > 0.8);
}

void TestDivergence::diagnosis_data()
{
    QTest::addColumn<double>("lr");
    QTest::addColumn<double>("lambda");
    QTest::addColumn<bool>("sq");
    QTest::addColumn<bool>("recentRaise");
    QTest::addColumn<QString>("parameter");
    QTest::addColumn<QString>("phrase");
    QTest::addRow("recent lambda raise wins") << 1e-3 << 50.0 << true << true << "lambda"
                                              << "right after lambda was raised from 1 to 50 at step 95";
    QTest::addRow("lr far above usual") << 100.0 << 1.0 << true << false << "lr" << "lr = 100, 100000 times its usual 0.001";
    QTest::addRow("lambda ignored by uniq") << 1e-3 << 1e6 << false << false << "lr"
                                            << "with every setting near its usual value";
    QTest::addRow("raise of an unused knob") << 1e-3 << 50.0 << false << true << "lr" << "a smaller learning rate";
}

void TestDivergence::diagnosis()
{
    QFETCH(double, lr);
    QFETCH(double, lambda);
    QFETCH(bool, sq);
    QFETCH(bool, recentRaise);
    QFETCH(QString, parameter);
    QFETCH(QString, phrase);
    DivergenceContext c;
    c.step = 100;
    c.epoch = 2;
    c.batch = 4;
    c.quantity = "loss";
    c.value = std::numeric_limits<double>::infinity();
    c.restoredStep = 80;
    c.knobs = {{"lr", "--lr", lr, 1e-3, true}, {"lambda", "--lambda", lambda, 1.0, sq}};
    if (recentRaise)
        c.events = {{3, 0.1, "lambda", 0.5, 1.0}, {95, 1.9, "lambda", 1.0, lambda}};
    const DivergenceReport r = diagnoseDivergence(c);
    QCOMPARE(QString::fromStdString(r.parameter), parameter);
    const QString message = QString::fromStdString(r.message);
    QVERIFY2(message.contains(phrase), qPrintable(message));
    QVERIFY2(message.startsWith("training diverged: the loss became +infinity at step 100 (epoch 2, batch 4)"),
             qPrintable(message));
    QVERIFY2(message.contains("The state of step 80 was restored and training is paused"), qPrintable(message));
}

void TestDivergence::goodStateIsRefreshedOnItsCadence()
{
    TrainConfig c = config();
    c.goodStateEveryBatches = 7;
    Trainer t(c, data());
    QVERIFY(t.step());
    QCOMPARE(t.goodStateStep(), std::int64_t(0));
    for (int i = 0; i < 20; ++i)
        QVERIFY(t.step());
    QCOMPARE(t.stepCount(), std::int64_t(21));
    QCOMPARE(t.goodStateStep(), std::int64_t(14)); // taken before step 15; the one before step 22 is next
    QVERIFY(t.step());
    QCOMPARE(t.goodStateStep(), std::int64_t(21));
}

QTEST_GUILESS_MAIN(TestDivergence)
// Adam with lr = 100 never overflows: the loss sits at 1e4-1e5 with finite weights. The mean
// over the blow-up window gives it away; the state before it comes back and lr is named.
void TestDivergence::finiteBlowUpIsCaughtOverItsWindow()
{
    TrainConfig c = config();
    c.learningRate = 100.0;
    c.collapseWindow = 0;
    Trainer t(c, data());
    QVERIFY(stepUntilDiverged(t, 200));
    const DivergenceReport r = *t.lastDivergence();
    QCOMPARE(int(r.failure), int(Failure::BlowUp));
    QVERIFY(std::isfinite(r.value) && r.value > 10.0 * std::log(4.0));
    QCOMPARE(r.step % c.blowUpWindow, std::int64_t(0)); // judged when a window ends
    QCOMPARE(r.parameter, std::string("lr"));
    QVERIFY2(r.message.find("training diverged: the loss averaged") != std::string::npos, r.message.c_str());
    QVERIFY2(r.message.find("over the 10 batches up to step " + std::to_string(r.step)) != std::string::npos,
             r.message.c_str());
    QVERIFY2(r.message.find("lower lr (--lr, now 100) and resume.") != std::string::npos, r.message.c_str());
    QVERIFY(r.restoredStep < r.step);
    QCOMPARE(t.stepCount(), r.restoredStep);
    QVERIFY(t.controls().paused());
}

// lambda = 1e6 pins every weight to its grid and nothing is learnt, with finite numbers (on
// Fashion-MNIST, not on the separable blobs, which even pinned weights tell apart): after the
// collapse window at chance accuracy the run goes back to its last state above chance (here the
// first: it collapsed from the start), pauses and names lambda; lowered, the run learns again
// (pinned weights would take epochs to recover).
void TestDivergence::collapseToChanceIsCaughtAndNamesLambda()
{
    SQ_REQUIRE_FASHION_MNIST(dir);
    auto fashion = std::make_shared<const DatasetSplits>(loadDataset(dir, DatasetKind::Idx, 3200, 500));
    TrainConfig c = config();
    c.arch = "flatten, dense 32, relu, dense 10";
    c.epochs = 2;
    c.lambda = 1e6;
    c.collapseWindow = 50;
    Trainer t(c, fashion);
    QVERIFY(stepUntilDiverged(t, 200));
    const DivergenceReport r = *t.lastDivergence();
    QCOMPARE(int(r.failure), int(Failure::Collapse));
    QVERIFY(r.value <= 1.25 * 0.1);
    QCOMPARE(r.step % 50, std::int64_t(0));
    QCOMPARE(r.restoredStep, std::int64_t(0));
    QCOMPARE(t.stepCount(), std::int64_t(0));
    QVERIFY(allFinite(t));
    QCOMPARE(r.parameter, std::string("lambda"));
    QVERIFY2(r.message.find("training collapsed: the training accuracy was") != std::string::npos, r.message.c_str());
    QVERIFY2(r.message.find("where guessing scores 10%, with lambda = 1e+06") != std::string::npos, r.message.c_str());
    QVERIFY2(r.message.find("The state of step 0 was restored and training is paused: lower lambda (--lambda, now 1e+06)")
                 != std::string::npos,
             r.message.c_str());
    QVERIFY(t.controls().paused());

    t.controls().lambda.set(1.0);
    t.controls().resume();
    while (!t.finished())
        QVERIFY2(t.step(), t.lastDivergence()->message.c_str());
    QCOMPARE(t.divergences(), 1);
    QVERIFY(t.history().epochs.back().evaluation.quantizedAccuracy > 0.5);
}

// Short windows on a healthy run: neither judge ever fires.
void TestDivergence::healthyRunNeverFails()
{
    TrainConfig c = config();
    c.blowUpWindow = 1;
    c.collapseWindow = 8;
    Trainer t(c, data());
    for (int i = 0; i < 16; ++i) // the first windows: accuracy rises from chance within them
        t.step();
    t.run();
    QVERIFY(t.finished());
    QCOMPARE(t.divergences(), 0);
}

#include "test_divergence.moc"
