// Loaded runs in the explorer: the frontier has one marker per run at its (model bits, quantized
// accuracy) and the float run as a line; the compare view has one curve per run and panel; opening
// one run re-displays its last snapshot; the GUI saves its own runs' folders on the worker.
#include "core/synthetic_data.h"
#include "support/idx_fixture.h"
#include "support/tiny_run.h"

#include "core/io/run_files.h"
#include "core/io/run_loader.h"
#include "core/io/snapshot_log.h"
#include "core/snapshot_recorder.h"
#include "core/trainer.h"
#include "ui/compare_view.h"
#include "ui/frontier_view.h"
#include "ui/main_window.h"
#include "ui/training_controller.h"

#include <qcustomplot.h>

#include <QFileInfo>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>
#include <vector>

using namespace sq;
using namespace sq::ui;

namespace {

std::string writeRun(const QString& root, const QString& name, QuantMode mode)
{
    TrainConfig c;
    c.arch = "dense 24, bn, relu, dense 4";
    c.sq.mode = mode;
    c.epochs = 3;
    c.commitEpochs = 1;
    c.batchSize = 32;
    c.threads = 1;
    c.recalibrationImages = 128;
    c.snapshotEveryBatches = 3;
    c.snapshotEveryMs = 1'000'000;
    c.histogramBins = 16;
    Trainer trainer(c, testing::blobs(256, 96));
    SnapshotRecorder recorder;
    trainer.setSnapshotSink([&](std::shared_ptr<const Snapshot> s) { recorder.add(std::move(s)); });
    while (!trainer.finished())
        trainer.step();
    recorder.add(trainer.makeSnapshot());
    const SnapshotList snapshots = recorder.snapshots();
    const std::string dir = (root + '/' + name).toStdString();
    writeRunFiles(dir, trainer, "blobs", &snapshots);
    return dir;
}

} // namespace

class TestCompare : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init() { QSettings().clear(); }
    void frontierAndCompareViews();
    void openingOneRunRedisplaysIt();
    void guiSavesItsRunsOnTheWorker();
    void runsStartedTogetherKeepTheirOwnFolders();

private:
    QTemporaryDir tmp_;
    std::string sq_, ternary_, float_;
};

void TestCompare::initTestCase()
{
    QCoreApplication::setOrganizationName(QStringLiteral("SQ Explorer tests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_compare"));
    QVERIFY(tmp_.isValid());
    sq_ = writeRun(tmp_.path(), "sq", QuantMode::Sq);
    ternary_ = writeRun(tmp_.path(), "ternary", QuantMode::Ternary);
    float_ = writeRun(tmp_.path(), "float", QuantMode::Float);
}

void TestCompare::frontierAndCompareViews()
{
    std::vector<std::shared_ptr<const LoadedRun>> runs;
    for (const std::string& dir : {sq_, ternary_, float_})
        runs.push_back(std::make_shared<const LoadedRun>(loadRun(dir)));
    const QList<ComparedRun> compared = compareRuns(runs);
    QCOMPARE(compared.size(), 3);
    QVERIFY(compared[0].color != compared[1].color);

    FrontierView frontier;
    frontier.resize(900, 600);
    frontier.setRuns(compared);
    // One marker per quantized run, where its summary puts it; the float run is a line.
    QCOMPARE(frontier.markers().size(), 2);
    for (int i = 0; i < 2; ++i) {
        const RunSummary& s = runs[static_cast<std::size_t>(i)]->summary;
        const FrontierView::Marker& m = frontier.markers()[i];
        QCOMPARE(m.modelBits, static_cast<double>(s.final->memory.modelBits));
        QCOMPARE(m.accuracyPercent, 100.0 * s.final->evaluation.quantizedAccuracy);
        QCOMPARE(m.label, compared[i].label);
    }
    QCOMPARE(frontier.markers()[0].family, MethodFamily::Sq);
    QCOMPARE(frontier.markers()[1].family, MethodFamily::Ternary);
    QCOMPARE(frontier.referenceLines().size(), 1);
    QCOMPARE(frontier.referenceLines().front(), 100.0 * runs[2]->summary.final->evaluation.floatAccuracy);
    int points = 0;
    for (int g = 0; g < frontier.plot()->graphCount(); ++g)
        points += frontier.plot()->graph(g)->data()->size();
    QCOMPARE(points, 2); // markers only: the float run's legend key draws nothing
    QVERIFY(frontier.plot()->xAxis->scaleType() == QCPAxis::stLogarithmic);
    QVERIFY(frontier.plot()->xAxis->range().contains(frontier.markers()[0].modelBits));
    QVERIFY(frontier.plot()->yAxis->range().contains(frontier.referenceLines().front()));

    CompareView compare;
    compare.resize(1000, 700);
    compare.setRuns(compared);
    QCOMPARE(compare.runCount(), 3);
    QCOMPARE(compare.curves(CompareView::Panel::Accuracy).size(), 6); // quantized and float per run
    QCOMPARE(compare.curves(CompareView::Panel::ModelBits).size(), 3);
    QCOMPARE(compare.curves(CompareView::Panel::Loss).size(), 6);
    for (QCPGraph* g : compare.curves(CompareView::Panel::ModelBits))
        QCOMPARE(g->data()->size(), 3); // one point per epoch
    QCOMPARE(compare.curves(CompareView::Panel::ModelBits)[0]->data()->at(2)->value,
             static_cast<double>(runs[0]->summary.final->memory.modelBits));
    // The legend names each run (and, after them, the line styles).
    QCOMPARE(compare.plot()->legend->itemCount(), 5);
    QCOMPARE(qobject_cast<QCPPlottableLegendItem*>(compare.plot()->legend->item(0))->plottable()->name(), compared[0].label);
}

void TestCompare::openingOneRunRedisplaysIt()
{
    MainWindow window;
    window.show();
    QCOMPARE(window.openRunFolders({QString::fromStdString(sq_)}), 1);
    QCOMPARE(window.loadedRuns().size(), std::size_t(1));
    // The views show the run's last snapshot, exactly as the last line of its log holds it.
    const SnapshotList log = readSnapshotLog(sq_ + "/snapshots.jsonl");
    QVERIFY(window.shownSnapshot());
    QCOMPARE(window.snapshotsShown(), static_cast<int>(log.size()));
    QCOMPARE(snapshotJson(*window.shownSnapshot()), snapshotJson(*log.back()));
    QVERIFY(window.shownSnapshot()->finished);
    QCOMPARE(window.views().size(), 6); // one run: no comparison views yet

    // Two more: the comparison views join the figures and export with them.
    QCOMPARE(window.openRunFolders({QString::fromStdString(ternary_), QString::fromStdString(float_)}), 2);
    QCOMPARE(window.loadedRuns().size(), std::size_t(3));
    QVERIFY(window.views().contains(window.frontierView()));
    QVERIFY(window.views().contains(window.compareView()));
    QCOMPARE(window.frontierView()->markers().size(), 2);
    QTemporaryDir out;
    QVERIFY(window.exportAllFigures(out.path()));
    for (const char* name : {"frontier.png", "compare.svg", "metrics.png", "report.html"})
        QVERIFY2(QFileInfo(out.filePath(name)).size() > 1000, name);

    // A bad folder is named in the error; the good ones stay loaded.
    QCOMPARE(window.openRunFolders({tmp_.filePath("absent")}), 0);
    QVERIFY2(window.lastError().contains("absent: not a folder"), qPrintable(window.lastError()));
    QCOMPARE(window.loadedRuns().size(), std::size_t(3));
    window.closeRuns();
    QCOMPARE(window.views().size(), 6);
}

void TestCompare::guiSavesItsRunsOnTheWorker()
{
    QTemporaryDir data;
    QVERIFY(testing::writeIdxDataset(data.path(), 192, 64));
    TrainingController controller;
    controller.setRunsDirectory(tmp_.filePath("gui-runs"));
    QSignalSpy saved(&controller, &TrainingController::runSaved);
    TrainConfig c;
    c.datasetDir = data.path().toStdString();
    c.arch = "dense 16, relu, dense 10";
    c.epochs = 2;
    c.commitEpochs = 1;
    c.batchSize = 16;
    c.threads = 1;
    c.recalibrationImages = 64;
    c.snapshotEveryBatches = 2;
    controller.start(c);
    QTRY_COMPARE_WITH_TIMEOUT(saved.size(), 1, 60000);
    const QString dir = saved.front().front().toString();
    QVERIFY2(dir.startsWith(tmp_.filePath("gui-runs/custom-sq-")), qPrintable(dir));
    const LoadedRun run = loadRun(dir.toStdString());
    QVERIFY(run.summary.finished);
    QCOMPARE(run.history.epochs.size(), std::size_t(2));
    QVERIFY(run.snapshots.size() > 3);
    QVERIFY(run.snapshots.back()->finished);
    QCOMPARE(run.snapshots.back()->step, run.summary.steps);
}

// Folders are named to the second: runs started within one second each reserve their own, and a
// run stopped before its first step leaves no folder behind.
void TestCompare::runsStartedTogetherKeepTheirOwnFolders()
{
    QTemporaryDir data;
    QVERIFY(testing::writeIdxDataset(data.path(), 64, 32));
    const QString runs = tmp_.filePath("same-second");
    TrainConfig c = testing::tinyRunConfig(data.path(), 1);
    c.commitEpochs = 0;

    // Three explorers' worth of runs, all started before any has saved.
    std::vector<std::unique_ptr<TrainingController>> controllers;
    std::vector<std::unique_ptr<QSignalSpy>> spies;
    for (int i = 0; i < 3; ++i) {
        controllers.push_back(std::make_unique<TrainingController>());
        controllers.back()->setRunsDirectory(runs);
        spies.push_back(std::make_unique<QSignalSpy>(controllers.back().get(), &TrainingController::runSaved));
    }
    for (auto& controller : controllers)
        controller->start(c);
    QStringList folders;
    for (auto& saved : spies) {
        QTRY_COMPARE_WITH_TIMEOUT(saved->size(), 1, 60000);
        folders << saved->front().front().toString();
    }
    folders.removeDuplicates();
    QCOMPARE(folders.size(), 3);
    for (const QString& f : folders)
        QVERIFY2(QFileInfo::exists(f + "/summary.json"), qPrintable(f));

    {
        TrainingController controller;
        controller.setRunsDirectory(runs);
        controller.start(c, /*startPaused=*/true);
        controller.stop(); // before any step
    }
    QCOMPARE(QDir(runs).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 3);
}

QTEST_MAIN(TestCompare)
#include "test_compare.moc"
