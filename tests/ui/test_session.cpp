// The training worker seen from the GUI thread: snapshots arrive (latest wins), live controls
// reach the engine at the next batch, pause/resume/stop/step behave, failures are reported,
// divergence pauses and names its cause, sessions save and resume, the recovery file follows the
// epochs, and shutting down mid-training ends the thread cleanly.
#include "core/error.h"
#include "support/idx_fixture.h"
#include "support/tiny_run.h"
#include "ui/session_io.h"
#include "ui/training_controller.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

using namespace sq;
using namespace sq::ui;
using State = TrainingController::State;

namespace {

TrainConfig tinyConfig(const QString& dir, int epochs) { return testing::tinyRunConfig(dir, epochs); }

} // namespace

class TestSession : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void runDeliversSnapshotsAndFinishes();
    void lambdaFromGuiAppliesAtNextBatch();
    void pauseResumeStop();
    void stepBatchAndEpoch();
    void badDatasetFails();
    void divergencePausesNamesTheParameterAndResumes();
    void sessionSavedAndResumedContinuesAtItsStep();
    void recoveryFileFollowsEpochsAndGoesAwayAtTheEnd();
    void shutdownMidTraining();
    void restartQuicklyIgnoresOldRun();

private:
    QTemporaryDir dir_;
};

void TestSession::initTestCase()
{
    QVERIFY(dir_.isValid());
    QVERIFY(testing::writeIdxDataset(dir_.path(), 2048, 256));
}

void TestSession::runDeliversSnapshotsAndFinishes()
{
    TrainingController controller;
    QSignalSpy snapshots(&controller, &TrainingController::snapshot);
    QSignalSpy states(&controller, &TrainingController::stateChanged);
    controller.start(tinyConfig(dir_.path(), 2));
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Finished, 60000);
    QVERIFY(snapshots.count() >= 2);
    const auto last = controller.latestSnapshot();
    QVERIFY(last);
    QVERIFY(last->finished);
    QCOMPARE(last->evaluatedEpochs, 2);
    QVERIFY(last->lastEvaluation->quantizedAccuracy > 0.5);
    // Snapshots never go backwards even though the GUI may skip some.
    std::int64_t previous = -1;
    for (const auto& args : snapshots) {
        const auto s = args.at(0).value<std::shared_ptr<const Snapshot>>();
        QVERIFY(s->step >= previous);
        previous = s->step;
    }
    QVERIFY(states.count() >= 3); // loading, running, finished
}

void TestSession::lambdaFromGuiAppliesAtNextBatch()
{
    TrainingController controller;
    controller.start(tinyConfig(dir_.path(), 2), true);
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Paused, 30000);
    controller.stepBatch();
    QTRY_VERIFY_WITH_TIMEOUT(controller.latestSnapshot() && controller.latestSnapshot()->step == 1, 10000);
    QCOMPARE(controller.latestSnapshot()->lambda, 1.0);
    controller.setLambda(4.5);
    controller.stepBatch();
    QTRY_VERIFY_WITH_TIMEOUT(controller.latestSnapshot()->step == 2, 10000);
    const auto s = controller.latestSnapshot();
    QCOMPARE(s->lambda, 4.5);
    QCOMPARE(s->events.size(), std::size_t(1));
    QCOMPARE(s->events[0].step, std::int64_t(1));
    QCOMPARE(s->events[0].to, 4.5);
}

void TestSession::pauseResumeStop()
{
    TrainingController controller;
    controller.start(tinyConfig(dir_.path(), 500));
    QTRY_VERIFY_WITH_TIMEOUT(controller.latestSnapshot() && controller.latestSnapshot()->step > 10, 30000);
    controller.pause();
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Paused, 10000);
    const std::int64_t frozen = controller.latestSnapshot()->step;
    QVERIFY(controller.latestSnapshot()->paused);
    QTest::qWait(150);
    QCOMPARE(controller.latestSnapshot()->step, frozen);
    controller.resume();
    QCOMPARE(controller.state(), State::Running);
    QTRY_VERIFY_WITH_TIMEOUT(controller.latestSnapshot()->step > frozen + 5, 30000);
    controller.stop();
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Stopped, 10000);
    QVERIFY(!controller.latestSnapshot()->finished);
}

void TestSession::stepBatchAndEpoch()
{
    TrainingController controller;
    controller.start(tinyConfig(dir_.path(), 3), true);
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Paused, 30000);
    QCOMPARE(controller.latestSnapshot()->step, std::int64_t(0));
    controller.stepBatch();
    controller.stepBatch();
    QTRY_COMPARE_WITH_TIMEOUT(controller.latestSnapshot()->step, std::int64_t(2), 10000);
    controller.stepEpoch();
    const std::int64_t perEpoch = controller.latestSnapshot()->batchesPerEpoch;
    QTRY_COMPARE_WITH_TIMEOUT(controller.latestSnapshot()->step, perEpoch, 30000);
    QCOMPARE(controller.latestSnapshot()->evaluatedEpochs, 1);
    QCOMPARE(controller.state(), State::Paused);
    controller.stop();
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Stopped, 10000);
}

void TestSession::badDatasetFails()
{
    TrainingController controller;
    QSignalSpy failures(&controller, &TrainingController::failed);
    TrainConfig c = tinyConfig(dir_.filePath("missing"), 1);
    controller.start(c);
    QTRY_COMPARE_WITH_TIMEOUT(failures.count(), 1, 10000);
    QVERIFY(failures.at(0).at(0).toString().contains(dir_.filePath("missing")));
    QCOMPARE(controller.state(), State::Failed);
    // Still usable: a good run afterwards works.
    controller.start(tinyConfig(dir_.path(), 1));
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Finished, 60000);
}

void TestSession::divergencePausesNamesTheParameterAndResumes()
{
    TrainingController controller;
    QSignalSpy failures(&controller, &TrainingController::failed);
    QSignalSpy divergences(&controller, &TrainingController::diverged);
    TrainConfig c = tinyConfig(dir_.path(), 2);
    c.arch = "dense 64, relu, dense 10"; // no BatchNorm to tame the blow-up
    c.optimizer.kind = OptimizerKind::Sgd;
    c.learningRate = 900.0;
    c.goodStateEveryBatches = 4;
    controller.start(c);
    QTRY_COMPARE_WITH_TIMEOUT(divergences.count(), 1, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Paused, 10000);
    const QString message = divergences.at(0).at(0).toString();
    QVERIFY2(message.contains("diverged") && message.contains("lower lr (--lr, now 900)"), qPrintable(message));
    QCOMPARE(failures.count(), 0);
    const auto paused = controller.latestSnapshot();
    QVERIFY(paused->paused);
    QVERIFY(std::isfinite(paused->layers[0].state.alpha));

    controller.setLearningRate(0.05);
    controller.resume();
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Finished, 60000);
    QCOMPARE(divergences.count(), 1);
    QVERIFY(controller.latestSnapshot()->lastEvaluation->quantizedAccuracy > 0.3);
    QCOMPARE(controller.latestSnapshot()->learningRate, 0.05);
}

void TestSession::sessionSavedAndResumedContinuesAtItsStep()
{
    const QString path = dir_.filePath("saved.sqs");
    TrainingController controller;
    QSignalSpy saved(&controller, &TrainingController::sessionSaved);
    controller.start(tinyConfig(dir_.path(), 2), true);
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Paused, 30000);
    for (int i = 0; i < 5; ++i)
        controller.stepBatch();
    QTRY_COMPARE_WITH_TIMEOUT(controller.latestSnapshot()->step, std::int64_t(5), 10000);
    controller.saveSession(path);
    QTRY_COMPARE_WITH_TIMEOUT(saved.count(), 1, 10000);
    QCOMPARE(saved.at(0).at(1).toString(), QString());
    controller.stop();
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Stopped, 10000);

    auto state = std::make_shared<const TrainerState>(loadSessionFile(path));
    QCOMPARE(state->step, std::int64_t(5));
    controller.resumeSession(state, path);
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Paused, 30000);
    QTRY_COMPARE_WITH_TIMEOUT(controller.latestSnapshot()->step, std::int64_t(5), 10000);
    controller.resume();
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Finished, 60000);
    QCOMPARE(controller.latestSnapshot()->evaluatedEpochs, 2);
}

void TestSession::recoveryFileFollowsEpochsAndGoesAwayAtTheEnd()
{
    const QString recovery = dir_.filePath("recovery/recovery.sqs");
    TrainingController controller;
    controller.setRecoveryFile(recovery);
    controller.start(tinyConfig(dir_.path(), 3), true);
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Paused, 30000);
    QVERIFY(!QFile::exists(recovery));
    controller.stepEpoch();
    QTRY_COMPARE_WITH_TIMEOUT(controller.latestSnapshot()->evaluatedEpochs, 1, 30000);
    QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(recovery), 10000);
    const TrainerState state = loadSessionFile(recovery);
    QCOMPARE(state.step, controller.latestSnapshot()->step);
    QCOMPARE(state.history.epochs.size(), std::size_t(1));
    controller.resume();
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Finished, 60000);
    QVERIFY(!QFile::exists(recovery)); // a clean end removes it

    // A corrupt session is refused with its name, and nothing starts.
    QFile bad(dir_.filePath("bad.sqs"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("\x89SQS\r\n\x1a\n garbage");
    bad.close();
    try {
        loadSessionFile(bad.fileName());
        QFAIL("a corrupt session was read");
    } catch (const Error& e) {
        QVERIFY2(QString(e.what()).startsWith(bad.fileName()), e.what());
    }
}

void TestSession::shutdownMidTraining()
{
    auto controller = std::make_unique<TrainingController>();
    controller->start(tinyConfig(dir_.path(), 1000));
    QTRY_VERIFY_WITH_TIMEOUT(controller->latestSnapshot() && controller->latestSnapshot()->step > 3, 30000);
    QCOMPARE(controller->state(), State::Running);
    controller.reset(); // destructor: stop at the next batch, join the thread (ASan checks for leaks)
    QVERIFY(true);
}

void TestSession::restartQuicklyIgnoresOldRun()
{
    TrainingController controller;
    for (int i = 0; i < 5; ++i) {
        controller.start(tinyConfig(dir_.path(), 1000));
        QTest::qWait(5);
    }
    controller.start(tinyConfig(dir_.path(), 1));
    QTRY_COMPARE_WITH_TIMEOUT(controller.state(), State::Finished, 60000);
    QCOMPARE(controller.latestSnapshot()->epochs, 1);
}

QTEST_GUILESS_MAIN(TestSession)
#include "test_session.moc"
