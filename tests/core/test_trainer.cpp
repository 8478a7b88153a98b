// The trainer: learning, determinism, live controls from another thread, pause/resume/stop,
// the commit phase, evaluation, snapshots, and an end-to-end run on Fashion-MNIST.
#include "core/data/dataset.h"
#include "core/error.h"
#include "core/io/run_files.h"
#include "core/trainer.h"
#include "support/fashion_mnist.h"
#include "synthetic_data.h"

#include <QtTest>

#include <atomic>
#include <thread>

using namespace sq;

namespace {

TrainConfig smallConfig()
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
    c.snapshotEveryBatches = 4;
    c.histogramBins = 32;
    return c;
}

std::vector<float> allWeights(const Trainer& t)
{
    std::vector<float> out;
    for (const Param* p : t.model().params())
        out.insert(out.end(), p->value.data(), p->value.data() + p->value.size());
    return out;
}

} // namespace

class TestTrainer : public QObject {
    Q_OBJECT

private slots:
    void learnsSeparableData();
    void sameSeedSameHistory();
    void stepLoopEqualsRunEpoch();
    void lambdaChangeFromAnotherThreadAppliesAtNextBatch();
    void controlsHammeredWhileRunning();
    void invalidLiveValuesAreIgnored();
    void pauseResumeStop();
    void lambdaScheduleRamps();
    void commitPhaseFreezesDecisions();
    void evaluationRestoresFloatStatistics();
    void evaluationInCommitPhaseIsRepeatable();
    void snapshotsCarryHistogramsAndMemory();
    void gammaPushesLayersToBinary();
    void invalidConfig_data();
    void invalidConfig();
    void runFilesAreWritten();
    void fashionMnistEndToEnd();
};

void TestTrainer::learnsSeparableData()
{
    auto data = testing::blobs(1024, 256);
    TrainConfig c = smallConfig();
    c.sq.mode = QuantMode::Sq;
    Trainer t(c, data);
    t.run();
    QVERIFY(t.finished());
    const auto& epochs = t.history().epochs;
    QCOMPARE(epochs.size(), std::size_t(3));
    QVERIFY(epochs.back().trainCrossEntropy < epochs.front().trainCrossEntropy);
    QVERIFY2(epochs.back().evaluation.floatAccuracy > 0.9, qPrintable(QString::number(epochs.back().evaluation.floatAccuracy)));
    QVERIFY2(epochs.back().evaluation.quantizedAccuracy > 0.85,
             qPrintable(QString::number(epochs.back().evaluation.quantizedAccuracy)));
}

void TestTrainer::sameSeedSameHistory()
{
    auto data = testing::blobs(512, 128);
    TrainConfig c = smallConfig();
    Trainer a(c, data);
    Trainer b(c, data);
    a.run();
    b.run();
    QCOMPARE(allWeights(a), allWeights(b));
    const auto& ha = a.history();
    const auto& hb = b.history();
    QCOMPARE(ha.steps.size(), hb.steps.size());
    for (std::size_t i = 0; i < ha.steps.size(); ++i) {
        QCOMPARE(ha.steps[i].crossEntropy, hb.steps[i].crossEntropy);
        QCOMPARE(ha.steps[i].alpha, hb.steps[i].alpha);
        QCOMPARE(ha.steps[i].beta, hb.steps[i].beta);
    }
    for (std::size_t i = 0; i < ha.epochs.size(); ++i)
        QCOMPARE(ha.epochs[i].evaluation.quantizedAccuracy, hb.epochs[i].evaluation.quantizedAccuracy);

    c.seed = 1;
    Trainer other(c, data);
    other.run();
    QVERIFY(allWeights(other) != allWeights(a));
}

void TestTrainer::stepLoopEqualsRunEpoch()
{
    auto data = testing::blobs(300, 64);
    TrainConfig c = smallConfig();
    Trainer a(c, data);
    Trainer b(c, data);
    a.runEpoch();
    for (int i = 0; i < b.batchesPerEpoch(); ++i)
        QVERIFY(b.step());
    QCOMPARE(a.epoch(), 1);
    QCOMPARE(b.epoch(), 1);
    QCOMPARE(allWeights(a), allWeights(b));
}

void TestTrainer::lambdaChangeFromAnotherThreadAppliesAtNextBatch()
{
    auto data = testing::blobs(512, 64);
    auto controls = std::make_shared<Controls>();
    TrainConfig c = smallConfig();
    Trainer t(c, data, controls);
    t.step();
    t.step();
    QCOMPARE(t.lambda(), 1.0);
    std::thread([&] { controls->lambda.set(7.5); }).join();
    QCOMPARE(t.lambda(), 1.0); // nothing changes between batches
    t.step();
    QCOMPARE(t.lambda(), 7.5);
    const auto& events = t.history().events;
    QCOMPARE(events.size(), std::size_t(1));
    QCOMPARE(events[0].parameter, std::string("lambda"));
    QCOMPARE(events[0].step, std::int64_t(2)); // applied before the third batch
    QCOMPARE(events[0].from, 1.0);
    QCOMPARE(events[0].to, 7.5);
    // The override holds against the schedule and shows in the history.
    for (int i = 0; i < 5; ++i)
        t.step();
    QCOMPARE(t.history().steps.back().lambda, 7.5);

    std::thread([&] {
        controls->gamma.set(0.02);
        controls->learningRate.set(1e-4);
    }).join();
    t.step();
    QCOMPARE(t.gamma(), 0.02);
    QCOMPARE(t.learningRate(), 1e-4);
    QCOMPARE(t.history().events.size(), std::size_t(3));
}

void TestTrainer::controlsHammeredWhileRunning()
{
    auto data = testing::blobs(2048, 64);
    auto controls = std::make_shared<Controls>();
    TrainConfig c = smallConfig();
    c.epochs = 2;
    Trainer t(c, data, controls);
    std::atomic<bool> done{false};
    std::thread worker([&] {
        t.run();
        done = true;
    });
    int changes = 0;
    // At least one change even when the worker finishes before this thread first runs (a fast
    // engine on a busy machine can train the whole run in one time slice).
    do {
        controls->lambda.set(0.5 + (changes % 10) * 0.1);
        controls->gamma.set(0.001 * (changes % 7));
        ++changes;
    } while (!done);
    worker.join();
    QVERIFY(t.finished());
    QVERIFY(changes > 0);
    for (const auto& e : t.history().events)
        QVERIFY(e.to >= 0.0 && e.to <= 1.4 + 1e-9);
    QVERIFY(std::isfinite(t.history().epochs.back().trainCrossEntropy));
}

void TestTrainer::invalidLiveValuesAreIgnored()
{
    auto data = testing::blobs(256, 64);
    auto controls = std::make_shared<Controls>();
    Trainer t(smallConfig(), data, controls);
    controls->lambda.set(std::nan(""));
    controls->learningRate.set(0.0);
    controls->gamma.set(-1.0);
    t.step();
    QCOMPARE(t.lambda(), 1.0);
    QCOMPARE(t.learningRate(), static_cast<double>(3e-3f)); // the schedule computes in float
    QCOMPARE(t.gamma(), 3e-3);
    QVERIFY(t.history().events.empty());
}

void TestTrainer::pauseResumeStop()
{
    auto data = testing::blobs(4096, 64);
    auto controls = std::make_shared<Controls>();
    TrainConfig c = smallConfig();
    c.epochs = 200; // far more than this test lets it run
    c.commitEpochs = 0;
    auto t = std::make_unique<Trainer>(c, data, controls);
    std::atomic<std::int64_t> steps{0};
    std::atomic<bool> waiting{false};
    t->setSnapshotSink([&](std::shared_ptr<const Snapshot> s) {
        steps = s->step;
        waiting = s->paused;
    });
    // Joins the worker however the test ends (a failed check returns early).
    struct Worker {
        std::shared_ptr<Controls> controls;
        std::thread thread;
        ~Worker()
        {
            if (!thread.joinable())
                return;
            controls->requestStop();
            thread.join();
        }
    } worker{controls, std::thread([&] { t->run(); })};
    QTRY_VERIFY_WITH_TIMEOUT(steps.load() > 20, 20000);
    controls->pause();
    // A step under way when pause() lands still completes; then the trainer publishes a
    // snapshot marked paused and waits, and the step count freezes.
    QTRY_VERIFY_WITH_TIMEOUT(waiting.load(), 5000);
    const std::int64_t frozen = steps.load();
    QTest::qWait(200);
    QCOMPARE(steps.load(), frozen);
    controls->resume();
    QTRY_VERIFY_WITH_TIMEOUT(steps.load() > frozen + 10, 20000);
    controls->requestStop();
    worker.thread.join();
    QVERIFY(!t->finished());
    QVERIFY(t->stepCount() < static_cast<std::int64_t>(c.epochs) * t->batchesPerEpoch());
}

void TestTrainer::lambdaScheduleRamps()
{
    auto data = testing::blobs(256, 64);
    TrainConfig c = smallConfig();
    c.lambda = 2.0;
    c.lambdaSchedule.kind = LambdaScheduleKind::Linear;
    c.lambdaSchedule.start = 0.0f;
    c.lambdaSchedule.rampEpochs = 2.0;
    Trainer t(c, data);
    t.step();
    QCOMPARE(t.lambda(), 0.0);
    t.step();
    QVERIFY(std::abs(t.lambda() - 2.0 / t.batchesPerEpoch() / 2.0) < 1e-6); // one batch into the ramp
    t.runEpoch();
    t.step();
    QVERIFY(std::abs(t.lambda() - 1.0) < 1e-6); // halfway
    t.runEpoch();
    t.step();
    QCOMPARE(t.lambda(), 2.0);
}

void TestTrainer::commitPhaseFreezesDecisions()
{
    auto data = testing::blobs(512, 128);
    TrainConfig c = smallConfig();
    c.epochs = 3;
    c.commitEpochs = 2;
    Trainer t(c, data);
    t.runEpoch();
    QCOMPARE(t.phase(), Phase::Commit);
    QVERIFY(!t.method().committed()); // commits as the next epoch begins
    t.step();
    QVERIFY(t.method().committed());
    const auto decisions = t.method().layerStates();
    for (const auto& target : t.model().quantTargets())
        QVERIFY(target.weight->useQuantized); // STE forward
    t.run();
    const auto& epochs = t.history().epochs;
    QCOMPARE(epochs[0].phase, Phase::Search);
    QCOMPARE(epochs[1].phase, Phase::Commit);
    QCOMPARE(epochs[2].phase, Phase::Commit);
    const auto after = t.method().layerStates();
    for (std::size_t i = 0; i < after.size(); ++i) {
        QCOMPARE(after[i].decision, decisions[i].decision);
        QVERIFY(after[i].committed);
        QCOMPARE(after[i].beta, decisions[i].beta);
    }
}

void TestTrainer::evaluationRestoresFloatStatistics()
{
    auto data = testing::blobs(512, 128);
    TrainConfig c = smallConfig();
    Trainer t(c, data);
    t.runEpoch();
    std::vector<std::vector<float>> before;
    for (const Tensor* b : t.model().buffers())
        before.emplace_back(b->data(), b->data() + b->size());
    const Evaluation e1 = t.evaluate();
    std::vector<std::vector<float>> after;
    for (const Tensor* b : t.model().buffers())
        after.emplace_back(b->data(), b->data() + b->size());
    QCOMPARE(after, before);
    for (const auto& target : t.model().quantTargets())
        QVERIFY(!target.weight->useQuantized);
    QCOMPARE(t.evaluate().quantizedAccuracy, e1.quantizedAccuracy); // repeatable
    QVERIFY(e1.floatAccuracy >= 0.0 && e1.floatAccuracy <= 1.0);
}

// In the commit phase the layers train on q(w); an evaluation measures the float weights and then
// must hand the STE forward back, or a second evaluation would take the float half for a search
// phase model and skip recalibrating its statistics.
void TestTrainer::evaluationInCommitPhaseIsRepeatable()
{
    auto data = testing::blobs(512, 128);
    TrainConfig c = smallConfig();
    c.commitEpochs = 2;
    Trainer t(c, data);
    t.runEpoch();
    t.step();
    QVERIFY(t.method().committed());
    const Evaluation first = t.evaluate();
    for (const auto& target : t.model().quantTargets())
        QVERIFY(target.weight->useQuantized);
    const Evaluation second = t.evaluate();
    QCOMPARE(second.floatAccuracy, first.floatAccuracy);
    QCOMPARE(second.floatLoss, first.floatLoss);
    QCOMPARE(second.quantizedAccuracy, first.quantizedAccuracy);
    QCOMPARE(second.quantizedLoss, first.quantizedLoss);
}

void TestTrainer::snapshotsCarryHistogramsAndMemory()
{
    auto data = testing::blobs(512, 64);
    TrainConfig c = smallConfig();
    Trainer t(c, data);
    std::vector<std::shared_ptr<const Snapshot>> received;
    t.setSnapshotSink([&](std::shared_ptr<const Snapshot> s) { received.push_back(std::move(s)); });
    t.run();
    QVERIFY(received.size() >= 3);
    const Snapshot& last = *received.back();
    QVERIFY(last.finished);
    QCOMPARE(last.layers.size(), std::size_t(3));
    QVERIFY(last.lastEvaluation.has_value());
    std::uint64_t weightBits = 0;
    for (std::size_t l = 0; l < last.layers.size(); ++l) {
        const LayerSnapshot& ls = last.layers[l];
        QCOMPARE(static_cast<int>(ls.histogram.counts.size()), c.histogramBins);
        double total = 0.0;
        for (float count : ls.histogram.counts)
            total += count;
        QCOMPARE(static_cast<std::size_t>(total), ls.state.weights);
        const Tensor& w = t.model().quantTargets()[l].weight->param.value;
        QVERIFY(ls.histogram.lo <= -2.0f * ls.state.alpha && ls.histogram.lo <= w.vec().minCoeff());
        QVERIFY(ls.histogram.hi >= 2.0f * ls.state.alpha && ls.histogram.hi >= w.vec().maxCoeff());
        weightBits += static_cast<std::uint64_t>(ls.state.bits) * ls.state.weights;
    }
    QCOMPARE(last.memory.weightBits, weightBits);
    QVERIFY(last.memory.compression() > 1.0);
    QCOMPARE(last.step, last.totalSteps);
    for (std::size_t i = 1; i < received.size(); ++i)
        QVERIFY(received[i]->step >= received[i - 1]->step);
}

// SPEC §1: gamma * cot(beta) rewards a larger beta, so a strong memory pressure turns layers binary.
void TestTrainer::gammaPushesLayersToBinary()
{
    auto data = testing::blobs(512, 64);
    TrainConfig c = smallConfig();
    c.epochs = 2;
    c.commitEpochs = 0;
    c.sq.betaInit = 0.9; // start ternary
    c.sq.betaLrMultiplier = 10.0f;
    c.gamma = 0.0;
    Trainer low(c, data);
    low.run();
    c.gamma = 1.0;
    Trainer high(c, data);
    high.run();
    int ternaryLow = 0;
    int ternaryHigh = 0;
    for (const auto& s : low.method().layerStates())
        ternaryLow += s.decision == "ternary";
    for (const auto& s : high.method().layerStates())
        ternaryHigh += s.decision == "ternary";
    QCOMPARE(ternaryLow, 3);
    QCOMPARE(ternaryHigh, 0);
    QVERIFY(high.history().epochs.back().memory.weightBits < low.history().epochs.back().memory.weightBits);
}

void TestTrainer::invalidConfig_data()
{
    QTest::addColumn<QString>("flag");
    QTest::addRow("negative lambda") << "--lambda";
    QTest::addRow("zero lr") << "--lr";
    QTest::addRow("zero batch") << "--batch";
    QTest::addRow("commit beyond epochs") << "--commit-epochs";
    QTest::addRow("p = 3") << "--p";
    QTest::addRow("unknown model") << "--model";
    QTest::addRow("nan gamma") << "--gamma";
}

void TestTrainer::invalidConfig()
{
    QFETCH(QString, flag);
    TrainConfig c = smallConfig();
    if (flag == "--lambda")
        c.lambda = -1.0;
    else if (flag == "--lr")
        c.learningRate = 0.0;
    else if (flag == "--batch")
        c.batchSize = 0;
    else if (flag == "--commit-epochs")
        c.commitEpochs = 4;
    else if (flag == "--p")
        c.sq.p = 3;
    else if (flag == "--gamma")
        c.gamma = std::nan("");
    else {
        c.arch.clear();
        c.model = "alexnet";
    }
    try {
        Trainer t(c, testing::blobs(64, 16));
        QFAIL("accepted");
    } catch (const Error& e) {
        QVERIFY2(QString::fromUtf8(e.what()).startsWith(flag), e.what());
    }
}

void TestTrainer::runFilesAreWritten()
{
    QTemporaryDir dir;
    auto data = testing::blobs(256, 64);
    Trainer t(smallConfig(), data);
    t.run();
    const std::string out = dir.filePath("run/a").toStdString();
    writeRunFiles(out, t, "synthetic");
    QFile csv(QString::fromStdString(out + "/history.csv"));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(csv.readAll()).trimmed().split('\n');
    QCOMPARE(lines.size(), 4); // header + 3 epochs
    QVERIFY(lines[0].startsWith("epoch,step,phase"));
    QVERIFY(lines[0].contains("dense1_decision"));
    QCOMPARE(lines[0].count(','), lines[3].count(','));
    QFile json(QString::fromStdString(out + "/summary.json"));
    QVERIFY(json.open(QIODevice::ReadOnly));
    QJsonParseError error;
    const QJsonObject summary = QJsonDocument::fromJson(json.readAll(), &error).object();
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(summary["config"].toObject()["mode"].toString(), QString("sq"));
    QCOMPARE(summary["layers"].toArray().size(), 3);
    QVERIFY(summary["final"].toObject()["test_accuracy_quantized"].toDouble() > 0.5);
    // No temporary files are left behind.
    QCOMPARE(QDir(QString::fromStdString(out)).entryList(QDir::Files).size(), 2);
}

// SPEC §1 on real data: mlp on a Fashion-MNIST subset reaches a quantized accuracy far above
// chance (10%) in a short SQ run with a commit epoch.
void TestTrainer::fashionMnistEndToEnd()
{
    SQ_REQUIRE_FASHION_MNIST(dir);
    auto data = std::make_shared<const DatasetSplits>(loadDataset(dir, DatasetKind::Idx, 8000, 2000));
    TrainConfig c;
    c.model = "mlp";
    c.epochs = 3;
    c.commitEpochs = 1;
    c.threads = 2;
    c.recalibrationImages = 2048;
    Trainer t(c, data);
    t.run();
    const EpochRecord& last = t.history().epochs.back();
    qInfo("mlp on 8000 Fashion-MNIST images: float %.2f%%, quantized %.2f%%, %s/%s/%s",
          100 * last.evaluation.floatAccuracy, 100 * last.evaluation.quantizedAccuracy,
          last.layers[0].decision.c_str(), last.layers[1].decision.c_str(), last.layers[2].decision.c_str());
    QVERIFY(last.evaluation.quantizedAccuracy > 0.70);
    QVERIFY(last.evaluation.floatAccuracy > 0.70);
    for (const auto& l : last.layers)
        QVERIFY(l.decision == "binary" || l.decision == "ternary");
}

QTEST_GUILESS_MAIN(TestTrainer)
#include "test_trainer.moc"
