// The explorer window as a user drives it: defaults, refusals at the field, a short run that
// reaches every view, the lambda slider steering the engine, run commands, errors, presentation
// mode, and closing mid-training.
#include "core/data/dataset.h"
#include "core/io/session_file.h"
#include "core/trainer.h"
#include "support/idx_fixture.h"
#include "ui/log_slider_field.h"
#include "ui/main_window.h"
#include "ui/model_actions.h"
#include "ui/run_setup_panel.h"
#include "ui/theme.h"

#include <QAction>
#include <QComboBox>
#include <QDockWidget>
#include <QLineEdit>
#include <QMessageBox>
#include <QSet>
#include <QSlider>
#include <QTemporaryDir>
#include <QtTest>

using namespace sq;
using namespace sq::ui;
using State = TrainingController::State;

namespace {

int distinctColours(const QImage& image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 3)
        for (int x = 0; x < image.width(); x += 3)
            colours.insert(image.pixel(x, y));
    return colours.size();
}

void type(QWidget* editor, const QString& text)
{
    auto* edit = qobject_cast<QLineEdit*>(editor);
    QVERIFY(edit);
    edit->selectAll();
    QTest::keyClicks(edit, text);
}

void choose(QWidget* editor, const QString& text)
{
    auto* combo = qobject_cast<QComboBox*>(editor);
    QVERIFY(combo);
    combo->setCurrentText(text);
}

} // namespace

class TestMainWindow : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void startsOnDefaultDataset();
    void refusesBadFieldsWithReasons();
    void shortRunReachesEveryView();
    void lambdaSliderSteersNextBatch();
    void runCommands();
    void errorsAreShownAndWindowStaysUsable();
    void presentationMode();
    void closeMidTraining();
    void recoveryFileOfACrashedRunIsOffered();
    void modelExportAndEvaluation();

private:
    void setUpTinyRun(MainWindow& w, int epochs);
    QTemporaryDir dir_;
};

void TestMainWindow::initTestCase()
{
    QCoreApplication::setOrganizationName(QStringLiteral("SQ Explorer tests"));
    QCoreApplication::setApplicationName(QStringLiteral("test_main_window"));
    QVERIFY(testing::writeIdxDataset(dir_.path(), 1024, 128));
}

void TestMainWindow::init() { QSettings().clear(); }

void TestMainWindow::setUpTinyRun(MainWindow& w, int epochs)
{
    RunSetupPanel* setup = w.setupPanel();
    setup->setDatasetDir(dir_.path());
    choose(setup->editor("--model"), "custom");
    type(setup->editor("--arch"), "dense 32, bn, relu, dense 10");
    type(setup->editor("--epochs"), QString::number(epochs));
    type(setup->editor("--commit-epochs"), "1");
    type(setup->editor("--batch"), "32");
    QVERIFY2(setup->isValid(), qPrintable(setup->errorFor("--arch")));
}

void TestMainWindow::startsOnDefaultDataset()
{
    MainWindow w;
    w.show();
    QCOMPARE(w.setupPanel()->datasetDir(), QString::fromStdString(defaultDatasetDir()));
    QCOMPARE(w.controller()->state(), State::Idle);
    QCOMPARE(w.views().size(), 6);
    const auto config = w.setupPanel()->config();
    if (QDir(QString::fromStdString(defaultDatasetDir())).exists()) {
        QVERIFY(config.has_value());
        QCOMPARE(config->model, std::string("mlp"));
        QVERIFY(config->sq.mode == QuantMode::Sq);
        QVERIFY(w.startAction()->isEnabled());
    }
}

void TestMainWindow::refusesBadFieldsWithReasons()
{
    MainWindow w;
    RunSetupPanel* setup = w.setupPanel();
    setup->setDatasetDir(dir_.path());
    type(setup->editor("--lr"), "fast");
    QVERIFY(!setup->isValid());
    QVERIFY(setup->errorFor("--lr").contains("number"));
    QVERIFY(!w.startAction()->isEnabled());
    type(setup->editor("--lr"), "0");
    QVERIFY(setup->errorFor("--lr").contains("> 0"));
    type(setup->editor("--lr"), "0.001");
    QVERIFY(setup->errorFor("--lr").isEmpty());
    type(setup->editor("--lambda"), "-2");
    QVERIFY(setup->errorFor("--lambda").contains(">= 0"));
    type(setup->editor("--lambda"), "1");
    type(setup->editor("--epochs"), "2");
    type(setup->editor("--commit-epochs"), "5");
    QVERIFY(setup->errorFor("--commit-epochs").contains("[0, 2]"));
    type(setup->editor("--commit-epochs"), "1");
    type(setup->editor("--keep-float"), "dense7");
    QVERIFY(setup->errorFor("--keep-float").contains("dense1"));
    type(setup->editor("--keep-float"), "first");
    choose(setup->editor("--model"), "custom");
    type(setup->editor("--arch"), "dense 32, softmax, dense 10");
    QVERIFY(setup->errorFor("--arch").contains("unknown layer 'softmax'"));
    type(setup->editor("--arch"), "dense 32, relu, dense 10");
    setup->setDatasetDir(dir_.filePath("nowhere"));
    QVERIFY(setup->errorFor("--dataset").contains("not found"));
    setup->setDatasetDir(dir_.path());
    QVERIFY(setup->isValid());
    QVERIFY(w.startAction()->isEnabled());
    QVERIFY(setup->recentDatasets().contains(dir_.path()));
}

void TestMainWindow::shortRunReachesEveryView()
{
    MainWindow w;
    w.resize(1400, 900);
    w.show();
    setUpTinyRun(w, 2);
    QVERIFY(w.startTraining());
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Finished, 60000);
    QTRY_VERIFY_WITH_TIMEOUT(w.controller()->latestSnapshot()->finished && w.snapshotsShown() >= 2, 5000);
    QTest::qWait(50); // queued replots
    for (QWidget* view : w.views()) {
        const QImage image = view->grab().toImage();
        QVERIFY2(!image.isNull() && image.width() > 50 && image.height() > 50, view->metaObject()->className());
        QVERIFY2(distinctColours(image) > 8, view->metaObject()->className());
    }
    if (qEnvironmentVariableIsSet("SQ_SCREENSHOT_DIR"))
        w.grab().save(qEnvironmentVariable("SQ_SCREENSHOT_DIR") + "/main-window-finished.png");
}

void TestMainWindow::lambdaSliderSteersNextBatch()
{
    MainWindow w;
    w.show();
    setUpTinyRun(w, 2);
    QVERIFY(w.startTraining(true));
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Paused, 30000);
    w.stepBatchAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->latestSnapshot()->step, std::int64_t(1), 10000);
    QSlider* slider = w.lambdaControl()->slider();
    slider->setValue(slider->maximum()); // lambda = 100
    const double chosen = w.lambdaControl()->value();
    QCOMPARE(chosen, 100.0);
    w.stepBatchAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->latestSnapshot()->step, std::int64_t(2), 10000);
    QCOMPARE(w.controller()->latestSnapshot()->lambda, chosen);
    QCOMPARE(w.controller()->latestSnapshot()->events.size(), std::size_t(1));
    // The numeric field applies what is typed, too.
    QLineEdit* field = w.lambdaControl()->field();
    field->setFocus();
    field->selectAll();
    QTest::keyClicks(field, "0.25");
    QTest::keyClick(field, Qt::Key_Return);
    w.stepBatchAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->latestSnapshot()->step, std::int64_t(3), 10000);
    QCOMPARE(w.controller()->latestSnapshot()->lambda, 0.25);
}

void TestMainWindow::runCommands()
{
    MainWindow w;
    w.show();
    setUpTinyRun(w, 400);
    QVERIFY(w.startAction()->isEnabled());
    w.startAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Running, 30000);
    QVERIFY(!w.startAction()->isEnabled());
    QVERIFY(!w.setupPanel()->isEnabled());
    w.pauseAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Paused, 10000);
    QCOMPARE(w.pauseAction()->text(), QStringLiteral("Resume"));
    QVERIFY(w.stepEpochAction()->isEnabled());
    const std::int64_t before = w.controller()->latestSnapshot()->step;
    w.stepEpochAction()->trigger();
    QTRY_VERIFY_WITH_TIMEOUT(w.controller()->latestSnapshot()->evaluatedEpochs >= 1
                                 && w.controller()->latestSnapshot()->step > before,
                             30000);
    w.pauseAction()->trigger(); // resume
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Running, 10000);
    w.stopAction()->trigger();
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Stopped, 10000);
    QVERIFY(w.startAction()->isEnabled());
    QVERIFY(w.setupPanel()->isEnabled());
}

void TestMainWindow::errorsAreShownAndWindowStaysUsable()
{
    MainWindow w;
    w.show();
    setUpTinyRun(w, 1);
    // A folder that exists but holds no dataset: the engine's error reaches a dialog and the status bar.
    QTemporaryDir empty;
    w.setupPanel()->setDatasetDir(empty.path());
    QVERIFY(w.startTraining());
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Failed, 10000);
    QVERIFY(w.lastError().contains(empty.path()));
    auto* dialog = w.findChild<QMessageBox*>(QStringLiteral("errorDialog"));
    QVERIFY(dialog);
    QVERIFY(dialog->text().contains(empty.path()));
    dialog->close();
    w.setupPanel()->setDatasetDir(dir_.path());
    QVERIFY(w.startTraining());
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Finished, 60000);
}

void TestMainWindow::presentationMode()
{
    MainWindow w;
    w.show();
    const int normal = Theme::instance().basePointSize();
    w.presentationAction()->trigger();
    QVERIFY(Theme::instance().presentation());
    QVERIFY(Theme::instance().basePointSize() > normal);
    QVERIFY(!w.findChild<QDockWidget*>(QStringLiteral("setupDock"))->isVisible());
    w.presentationAction()->trigger();
    QVERIFY(!Theme::instance().presentation());
    QVERIFY(w.findChild<QDockWidget*>(QStringLiteral("setupDock"))->isVisible());
}

void TestMainWindow::closeMidTraining()
{
    auto w = std::make_unique<MainWindow>();
    w->show();
    setUpTinyRun(*w, 1000);
    QVERIFY(w->startTraining());
    QTRY_VERIFY_WITH_TIMEOUT(w->controller()->latestSnapshot() && w->controller()->latestSnapshot()->step > 5, 30000);
    QVERIFY(w->close());
    w.reset(); // the worker thread is joined; ASan would report leaks or use-after-free here
    // Layout is remembered for the next launch.
    QVERIFY(!QSettings().value(QStringLiteral("window/state")).toByteArray().isEmpty());
}

void TestMainWindow::recoveryFileOfACrashedRunIsOffered()
{
    // What a run killed mid-training (kill -9) leaves behind: the recovery file of its last epoch.
    QTemporaryDir recovery;
    QSettings().setValue(QStringLiteral("recovery/folder"), recovery.path());
    TrainConfig c;
    c.datasetDir = dir_.path().toStdString();
    c.arch = "dense 16, relu, dense 10";
    c.epochs = 3;
    c.batchSize = 64;
    c.threads = 1;
    c.recalibrationImages = 128;
    std::int64_t savedStep = 0;
    {
        auto data = std::make_shared<const DatasetSplits>(loadDataset(c.datasetDir, c.datasetKind, 0, 0));
        Trainer crashed(c, data);
        crashed.runEpoch();
        savedStep = crashed.stepCount();
        writeSessionFile(recovery.filePath(QStringLiteral("recovery.sqs")).toStdString(), crashed.captureState());
    }
    QVERIFY(savedStep > 0);

    QString asked;
    MainWindow::setRecoveryPrompt([&asked](QWidget*, const QString& question) {
        asked = question;
        return true;
    });
    {
        MainWindow w;
        QTRY_VERIFY_WITH_TIMEOUT(!asked.isEmpty(), 5000);
        QVERIFY2(asked.contains(QStringLiteral("step %1").arg(savedStep)), qPrintable(asked));
        QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Paused, 30000);
        QTRY_VERIFY_WITH_TIMEOUT(w.controller()->latestSnapshot()
                                     && w.controller()->latestSnapshot()->step == savedStep,
                                 10000);
        QCOMPARE(w.controller()->latestSnapshot()->evaluatedEpochs, 1);
        w.close(); // a clean end removes the recovery file
    }
    QVERIFY(!QFile::exists(recovery.filePath(QStringLiteral("recovery.sqs"))));

    // Nothing to recover: no question.
    asked.clear();
    {
        MainWindow w;
        QTest::qWait(50);
        QVERIFY(asked.isEmpty());
        QCOMPARE(w.controller()->state(), State::Idle);
    }
    MainWindow::setRecoveryPrompt([](QWidget*, const QString&) { return false; });
}

void TestMainWindow::modelExportAndEvaluation()
{
    MainWindow w;
    ModelActions* models = w.modelActions();
    QSignalSpy exported(models, &ModelActions::exported);
    QSignalSpy evaluated(models, &ModelActions::evaluated);
    QSignalSpy failed(models, &ModelActions::failed);

    models->exportTo(dir_.filePath("early.sqm")); // nothing trained yet
    QCOMPARE(failed.count(), 1);

    setUpTinyRun(w, 2);
    QVERIFY(w.startTraining());
    QTRY_COMPARE_WITH_TIMEOUT(w.controller()->state(), State::Finished, 60000);
    const double reported = w.controller()->latestSnapshot()->lastEvaluation->quantizedAccuracy;

    QTemporaryDir out;
    int written = 0;
    for (const char* name : {"model.sqm", "model.onnx", "model.h"}) {
        models->exportTo(out.filePath(name));
        ++written;
        QTRY_COMPARE_WITH_TIMEOUT(exported.count(), written, 30000);
    }
    QCOMPARE(failed.count(), 1);
    for (const char* name : {"model.sqm", "model.onnx", "model.h"})
        QVERIFY(QFileInfo(out.filePath(name)).size() > 100);
    models->exportTo(out.filePath("model.txt"));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 2, 30000);
    QVERIFY(failed.last().at(0).toString().contains("unknown model format"));
    QVERIFY(!QFileInfo::exists(out.filePath("model.txt")));

    // The GUI's evaluation of the file reproduces the run's quantized accuracy exactly.
    models->evaluateFile(out.filePath("model.sqm"));
    QTRY_COMPARE_WITH_TIMEOUT(evaluated.count(), 1, 60000);
    const QString report = evaluated.first().at(0).toString();
    QVERIFY2(report.contains(QStringLiteral("%1 %").arg(100.0 * reported, 0, 'f', 2)), qPrintable(report));
    QVERIFY(report.contains("of 128 correct"));

    QFile garbage(out.filePath("garbage.sqm"));
    QVERIFY(garbage.open(QIODevice::WriteOnly) && garbage.write("not a model") > 0);
    garbage.close();
    models->evaluateFile(out.filePath("garbage.sqm"));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 3, 30000);
    QVERIFY(failed.last().at(0).toString().contains("garbage.sqm"));
}

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
