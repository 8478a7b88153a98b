#include "ui/main_window.h"

#include "core/error.h"
#include "ui/compare_view.h"
#include "ui/depth_view.h"
#include "ui/export_dialog.h"
#include "ui/figure_folder.h"
#include "ui/frontier_view.h"
#include "ui/histogram_heatmap_view.h"
#include "ui/histogram_view.h"
#include "ui/log_slider_field.h"
#include "ui/memory_view.h"
#include "ui/metrics_view.h"
#include "ui/model_actions.h"
#include "ui/regularizer_view.h"
#include "ui/run_setup_panel.h"
#include "ui/session_io.h"
#include "ui/theme.h"
#include "ui/view_set.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QListView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QRegularExpression>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QStyle>
#include <QTimer>
#include <QToolBar>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>

namespace sq::ui {

namespace {

QString duration(double seconds)
{
    const int s = static_cast<int>(seconds + 0.5);
    return s >= 3600 ? QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'))
                     : QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

QString stateName(TrainingController::State state)
{
    switch (state) {
    case TrainingController::State::Idle:
        return QObject::tr("Ready");
    case TrainingController::State::Loading:
        return QObject::tr("Loading data…");
    case TrainingController::State::Running:
        return QObject::tr("Training");
    case TrainingController::State::Paused:
        return QObject::tr("Paused");
    case TrainingController::State::Finished:
        return QObject::tr("Finished");
    case TrainingController::State::Stopped:
        return QObject::tr("Stopped");
    case TrainingController::State::Failed:
        return QObject::tr("Failed");
    }
    return {};
}

MainWindow::RecoveryPrompt& recoveryPrompt()
{
    static MainWindow::RecoveryPrompt prompt = [](QWidget* parent, const QString& question) {
        return QMessageBox::question(parent, QObject::tr("Restore the last run?"), question,
                                     QMessageBox::Yes | QMessageBox::No, QMessageBox::Yes)
               == QMessageBox::Yes;
    };
    return prompt;
}

} // namespace

void MainWindow::setRecoveryPrompt(RecoveryPrompt prompt) { recoveryPrompt() = std::move(prompt); }

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), controller_(new TrainingController(this))
{
    setWindowTitle(tr("SQ Explorer"));
    setObjectName(QStringLiteral("mainWindow"));
    setAcceptDrops(true);
    setDockOptions(AnimatedDocks | AllowTabbedDocks | AllowNestedDocks);
    resize(1600, 1000);
    // Side docks run the full height; the bottom dock stays under the histograms.
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);

    createViews();
    createControls();
    createActions();
    createMenus();

    stateLabel_ = new QLabel(stateName(TrainingController::State::Idle));
    throughputLabel_ = new QLabel;
    progress_ = new QProgressBar;
    progress_->setMinimumWidth(360);
    progress_->setRange(0, 1000);
    progress_->setValue(0);
    progress_->setFormat(tr("no run yet"));
    progress_->setTextVisible(true);
    statusBar()->addWidget(stateLabel_);
    statusBar()->addPermanentWidget(throughputLabel_);
    statusBar()->addPermanentWidget(progress_);

    connect(controller_, &TrainingController::snapshot, this, &MainWindow::showSnapshot);
    connect(controller_, &TrainingController::stateChanged, this, &MainWindow::updateState);
    connect(controller_, &TrainingController::failed, this, &MainWindow::showError);
    connect(controller_, &TrainingController::diverged, this, &MainWindow::showDivergence);
    connect(controller_, &TrainingController::sessionSaved, this, [this](const QString& path, const QString& error) {
        if (error.isEmpty())
            statusBar()->showMessage(tr("Saved session %1").arg(path), 8000);
        else
            showError(error);
    });
    controller_->setRecoveryFile(recoveryFilePath());
    // After the constructor: the window exists (and is shown) before the question is asked.
    QTimer::singleShot(0, this, &MainWindow::offerRecovery);
    controller_->setRunsDirectory(runsDirectory());
    connect(controller_, &TrainingController::runSaved, this,
            [this](const QString& dir) { statusBar()->showMessage(tr("Run saved in %1").arg(dir), 8000); });
    connect(controller_, &TrainingController::runSaveFailed, this, &MainWindow::showError);
    connect(controller_, &TrainingController::runStarted, this, [this] {
        views_->clear();
        snapshotsShown_ = 0;
        latest_.reset();
    });

    connect(setup_, &RunSetupPanel::validityChanged, this, [this] { updateState(controller_->state()); });

    defaultState_ = saveState();
    restoreLayout();
    updateState(TrainingController::State::Idle);
}

MainWindow::~MainWindow()
{
    // However the window goes (closed, or deleted without a close event), its run ended cleanly.
    controller_->shutdown();
    QFile::remove(recoveryFilePath());
}

void MainWindow::createViews()
{
    views_ = std::make_unique<ViewSet>();
    setCentralWidget(views_->histograms);

    QDockWidget* depth = addDock(tr("Depth decisions"), QStringLiteral("depthDock"), views_->depth, Qt::RightDockWidgetArea);
    QDockWidget* metrics = addDock(tr("Training metrics"), QStringLiteral("metricsDock"), views_->metrics, Qt::RightDockWidgetArea);
    QDockWidget* memory = addDock(tr("Memory"), QStringLiteral("memoryDock"), views_->memory, Qt::RightDockWidgetArea);
    QDockWidget* heatmap = addDock(tr("Histogram over time"), QStringLiteral("heatmapDock"), views_->heatmap, Qt::BottomDockWidgetArea);
    QDockWidget* regularizer = addDock(tr("Regularizer explorer"), QStringLiteral("regularizerDock"), views_->regularizer,
                                       Qt::BottomDockWidgetArea);
    tabifyDockWidget(metrics, memory);
    tabifyDockWidget(heatmap, regularizer);
    metrics->raise();
    heatmap->raise();
    resizeDocks({depth}, {520}, Qt::Horizontal);
    resizeDocks({depth, metrics}, {430, 520}, Qt::Vertical);
    resizeDocks({heatmap}, {320}, Qt::Vertical);

    connect(views_->histograms, &HistogramView::selectedLayerChanged, this, [this](int layer) { views_->selectLayer(layer); });

    // Shown once two or more runs are loaded for comparison.
    compare_ = new CompareView;
    frontier_ = new FrontierView;
    compareDock_ = addDock(tr("Compare runs"), QStringLiteral("compareDock"), compare_, Qt::BottomDockWidgetArea);
    frontierDock_ = addDock(tr("Frontier"), QStringLiteral("frontierDock"), frontier_, Qt::BottomDockWidgetArea);
    tabifyDockWidget(heatmap, compareDock_);
    tabifyDockWidget(heatmap, frontierDock_);
    compareDock_->hide();
    frontierDock_->hide();
    heatmap->raise();
}

QDockWidget* MainWindow::addDock(const QString& title, const QString& name, QWidget* content, Qt::DockWidgetArea area)
{
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(name);
    dock->setWidget(content);
    addDockWidget(area, dock);
    docks_ << dock;
    return dock;
}

void MainWindow::createControls()
{
    setup_ = new RunSetupPanel;
    auto* scroll = new QScrollArea;
    scroll->setWidget(setup_);
    scroll->setWidgetResizable(true);
    scroll->setMinimumWidth(400);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    QDockWidget* setupDock = addDock(tr("Run setup"), QStringLiteral("setupDock"), scroll, Qt::LeftDockWidgetArea);
    connect(setup_, &RunSetupPanel::browseDatasetRequested, this, &MainWindow::browseDataset);

    auto* live = new QWidget;
    auto* layout = new QVBoxLayout(live);
    lambda_ = new LogSliderField(tr("λ regularization"), 1e-3, 100.0, 1e6);
    gamma_ = new LogSliderField(tr("γ memory pressure"), 1e-4, 0.1, 10.0);
    learningRate_ = new LogSliderField(tr("learning rate"), 1e-5, 0.1, 100.0);
    mu_ = new LogSliderField(tr("μ memory pressure (CPQ)"), 1e-4, 10.0, 1e3);
    mu_->setToolTip(tr("CPQ (DropBits): pushes each layer's keep probabilities down, towards fewer bits"));
    layout->addWidget(lambda_);
    layout->addWidget(gamma_);
    layout->addWidget(mu_);
    layout->addWidget(learningRate_);
    layout->addStretch();
    lambda_->showValue(1.0);
    gamma_->showValue(3e-3);
    learningRate_->showValue(1e-3);
    mu_->showValue(kCpqMuDefault);
    connect(lambda_, &LogSliderField::valueChanged, controller_, &TrainingController::setLambda);
    connect(gamma_, &LogSliderField::valueChanged, controller_, &TrainingController::setGamma);
    connect(learningRate_, &LogSliderField::valueChanged, controller_, &TrainingController::setLearningRate);
    connect(mu_, &LogSliderField::valueChanged, controller_, &TrainingController::setMu);
    connect(setup_, &RunSetupPanel::modeChanged, this, &MainWindow::updateLiveControls);
    QDockWidget* liveDock = addDock(tr("Live controls"), QStringLiteral("liveDock"), live, Qt::LeftDockWidgetArea);
    splitDockWidget(setupDock, liveDock, Qt::Vertical);
}

void MainWindow::createActions()
{
    auto* toolbar = addToolBar(tr("Run"));
    toolbar->setObjectName(QStringLiteral("runToolbar"));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    auto add = [this, toolbar](const QString& text, const QKeySequence& key, const QString& tip, auto slot) {
        auto* action = new QAction(text, this);
        action->setShortcut(key);
        action->setToolTip(QStringLiteral("%1 (%2)").arg(tip, key.toString(QKeySequence::NativeText)));
        connect(action, &QAction::triggered, this, slot);
        toolbar->addAction(action);
        return action;
    };
    start_ = add(tr("Start"), QKeySequence(Qt::Key_F5), tr("Start a new run with the setup on the left"),
                 [this] { startTraining(false); });
    pause_ = add(tr("Pause"), QKeySequence(Qt::Key_F6), tr("Pause or resume training"), [this] {
        if (controller_->state() == TrainingController::State::Paused)
            controller_->resume();
        else
            controller_->pause();
    });
    stop_ = add(tr("Stop"), QKeySequence(Qt::SHIFT | Qt::Key_F5), tr("Stop the run"), [this] { controller_->stop(); });
    toolbar->addSeparator();
    stepBatch_ = add(tr("Step batch"), QKeySequence(Qt::Key_F10), tr("Train one batch (paused or before a run)"), [this] {
        if (controller_->state() == TrainingController::State::Paused)
            controller_->stepBatch();
        else if (!controller_->busy())
            startTraining(true);
    });
    stepEpoch_ = add(tr("Step epoch"), QKeySequence(Qt::Key_F11), tr("Train one epoch (paused)"),
                     [this] { controller_->stepEpoch(); });
    toolbar->addSeparator();
    presentation_ = add(tr("Presentation"), QKeySequence(Qt::Key_F9), tr("Large fonts and thick lines for projectors"),
                        [this](bool on) { setPresentation(on); });
    presentation_->setCheckable(true);
    dark_ = add(tr("Dark"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_D), tr("Dark palette"),
                [this](bool on) { setDark(on); });
    dark_->setCheckable(true);
}

void MainWindow::createMenus()
{
    models_ = new ModelActions(this, controller_, [this] { return setup_->datasetDir(); });
    connect(models_, &ModelActions::exported, this,
            [this](const QString& path) { statusBar()->showMessage(tr("Exported model %1").arg(path), 8000); });
    connect(models_, &ModelActions::failed, this, &MainWindow::showError);
    connect(models_, &ModelActions::evaluated, this, [this](const QString& report) {
        auto* box = new QMessageBox(QMessageBox::Information, tr("Model evaluation"), report, QMessageBox::Ok, this);
        box->setObjectName(QStringLiteral("modelEvaluation"));
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setModal(false);
        box->show();
        statusBar()->showMessage(QString(report).remove(QRegularExpression(QStringLiteral("<[^>]*>"))).right(120), 10000);
    });

    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open dataset folder…"), QKeySequence::Open, this, &MainWindow::browseDataset);
    file->addAction(tr("Open run folder(s)…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_O), this,
                    &MainWindow::openRunsDialog);
    file->addAction(tr("Close loaded runs"), this, &MainWindow::closeRuns);
    file->addAction(tr("Runs directory…"), this, &MainWindow::chooseRunsDirectory);
    file->addSeparator();
    file->addAction(tr("Save session…"), QKeySequence::Save, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save session"), exportFolder(),
                                                          tr("SQ Explorer sessions (*.sqs)"));
        if (!path.isEmpty())
            saveSession(path);
    });
    file->addAction(tr("Open session…"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open session"), exportFolder(),
                                                          tr("SQ Explorer sessions (*.sqs)"));
        if (!path.isEmpty())
            openSession(path);
    });
    file->addSeparator();
    file->addAction(tr("Export figure…"), QKeySequence(Qt::CTRL | Qt::Key_E), this, &MainWindow::exportFigureDialog);
    file->addAction(tr("Export all figures and report…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E), this,
                    [this] { exportAllFigures(QString()); });
    file->addSeparator();
    file->addAction(models_->exportAction());
    file->addAction(models_->evaluateAction());
    file->addSeparator();
    file->addAction(tr("Quit"), QKeySequence::Quit, this, &QWidget::close);

    QMenu* run = menuBar()->addMenu(tr("&Run"));
    run->addActions({start_, pause_, stop_});
    run->addSeparator();
    run->addActions({stepBatch_, stepEpoch_});

    QMenu* view = menuBar()->addMenu(tr("&View"));
    view->addActions({presentation_, dark_});
    view->addSeparator();
    for (QDockWidget* dock : docks_)
        view->addAction(dock->toggleViewAction());
    view->addSeparator();
    view->addAction(tr("Reset layout"), this, &MainWindow::resetLayout);

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("About SQ Explorer"), this, [this] {
        QMessageBox::about(this, tr("About SQ Explorer"),
                           tr("<b>SQ Explorer %1</b><p>Smart Quantization (adaptive binary-ternary quantization, "
                              "Razani et al., CVPR 2021 Workshops): every layer decides during training whether "
                              "it is stored with 1 or 2 bits per weight.</p>")
                               .arg(QStringLiteral(SQ_VERSION)));
    });
}

QList<QWidget*> MainWindow::views() const
{
    QList<QWidget*> views;
    for (const Figure& figure : views_->figures())
        views << figure.view;
    if (runs_.size() >= 2)
        views << compare_ << frontier_;
    return views;
}

bool MainWindow::startTraining(bool paused)
{
    const std::optional<TrainConfig> config = setup_->config();
    if (!config) {
        showError(tr("The run setup has invalid fields; their reasons are shown next to them."));
        return false;
    }
    lastError_.clear();
    lambda_->showValue(config->lambda);
    gamma_->showValue(config->gamma);
    learningRate_->showValue(config->learningRate);
    mu_->showValue(config->mu);
    setWindowTitle(tr("SQ Explorer — %1 · %2 · %3")
                       .arg(config->arch.empty() ? QString::fromStdString(config->model) : tr("custom"),
                            RunSetupPanel::modeChoiceText(config->sq.mode),
                            QFileInfo(QString::fromStdString(config->datasetDir)).fileName()));
    runConfig_ = *config;
    controller_->start(*config, paused);
    return true;
}

void MainWindow::showSnapshot(std::shared_ptr<const Snapshot> snapshot)
{
    latest_ = snapshot;
    ++snapshotsShown_;
    views_->addSnapshot(snapshot);
    lambda_->showValue(snapshot->lambda);
    gamma_->showValue(snapshot->gamma);
    learningRate_->showValue(snapshot->learningRate);
    mu_->showValue(snapshot->mu);
    updateProgress(*snapshot);
}

void MainWindow::updateProgress(const Snapshot& s)
{
    const double done = s.totalSteps ? static_cast<double>(s.step) / static_cast<double>(s.totalSteps) : 0.0;
    progress_->setValue(static_cast<int>(1000 * done));
    QString text = tr("epoch %1/%2 · batch %3/%4 · %5")
                       .arg(s.epoch + 1)
                       .arg(s.epochs)
                       .arg(s.batchInEpoch)
                       .arg(s.batchesPerEpoch)
                       .arg(s.phase == Phase::Commit ? tr("commit") : tr("search"));
    if (!s.finished && s.step > 0)
        text += tr(" · ETA %1").arg(duration(s.etaSeconds));
    progress_->setFormat(text);
    if (s.imagesPerSecond > 0)
        throughputLabel_->setText(tr("%L1 images/s").arg(s.imagesPerSecond, 0, 'f', 0));
}

void MainWindow::updateState(TrainingController::State state)
{
    using State = TrainingController::State;
    stateLabel_->setText(stateName(state) + (state == State::Failed && !lastError_.isEmpty() ? QStringLiteral(": ") + lastError_ : QString()));
    const bool active = state == State::Running || state == State::Paused || state == State::Loading;
    start_->setEnabled(!active && setup_->isValid());
    pause_->setEnabled(state == State::Running || state == State::Paused);
    pause_->setText(state == State::Paused ? tr("Resume") : tr("Pause"));
    stop_->setEnabled(active);
    stepBatch_->setEnabled(state == State::Paused || !active);
    stepEpoch_->setEnabled(state == State::Paused);
    setup_->setEnabled(!active);
    updateLiveControls();
}

void MainWindow::updateLiveControls()
{
    using State = TrainingController::State;
    const State state = controller_->state();
    const bool active = state == State::Running || state == State::Paused || state == State::Loading;
    const QuantMode mode = active && runConfig_ ? runConfig_->sq.mode : setup_->currentMode();
    lambda_->setEnabled(isSqFamily(mode));
    gamma_->setEnabled(isSqFamily(mode));
    mu_->setEnabled(mode == QuantMode::Cpq);
}

QString MainWindow::exportFolder() const
{
    return QSettings().value(QStringLiteral("exportFolder"), QDir::homePath()).toString();
}

void MainWindow::exportFigureDialog()
{
    ExportDialog dialog(views_->figures(), exportFolder(), this);
    if (dialog.exec() == QDialog::Accepted) {
        QSettings().setValue(QStringLiteral("exportFolder"), QFileInfo(dialog.path()).absolutePath());
        statusBar()->showMessage(tr("Exported %1").arg(dialog.path()), 8000);
    }
}

bool MainWindow::exportAllFigures(const QString& folder)
{
    if (!views_->latest() && runs_.size() < 2) {
        showError(tr("There is nothing to export yet: start a run first."));
        return false;
    }
    QString dir = folder;
    if (dir.isEmpty())
        dir = QFileDialog::getExistingDirectory(this, tr("Export all figures into"), exportFolder());
    if (dir.isEmpty())
        return false;
    try {
        QList<Figure> figures = views_->latest() ? views_->figures() : QList<Figure>();
        if (runs_.size() >= 2)
            figures << Figure{QStringLiteral("compare"), tr("Compare runs"), compare_}
                    << Figure{QStringLiteral("frontier"), tr("Accuracy-memory frontier"), frontier_};
        // Loaded runs without snapshot logs have no latest snapshot: their report describes none.
        const Snapshot none;
        const QStringList files = exportFigureFolder(figures, dir, {}, runConfig_ ? &*runConfig_ : nullptr,
                                                     views_->latest() ? *views_->latest() : none);
        QSettings().setValue(QStringLiteral("exportFolder"), dir);
        statusBar()->showMessage(tr("Exported %1 files and report.html into %2").arg(files.size() - 1).arg(dir), 8000);
        return true;
    } catch (const Error& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
}

void MainWindow::showError(const QString& message)
{
    lastError_ = message;
    stateLabel_->setText(tr("Error: %1").arg(message));
    statusBar()->showMessage(message, 15000);
    // Non-modal: the window stays usable and no nested event loop starts.
    auto* box = new QMessageBox(QMessageBox::Warning, tr("SQ Explorer"), message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setObjectName(QStringLiteral("errorDialog"));
    box->open();
}

void MainWindow::setPresentation(bool on)
{
    Theme::instance().setPresentation(on);
    QFont font = QApplication::font();
    font.setPointSize(on ? 14 : 10);
    QApplication::setFont(font);
    // Less chrome: the setup form and the menu bar step aside; F9 brings them back.
    if (QDockWidget* setup = findChild<QDockWidget*>(QStringLiteral("setupDock")))
        setup->setVisible(!on);
    menuBar()->setVisible(!on);
    presentation_->setChecked(on);
}

void MainWindow::setDark(bool on)
{
    Theme::instance().setDark(on);
    if (on) {
        QPalette p;
        p.setColor(QPalette::Window, QColor(0x2b, 0x2d, 0x31));
        p.setColor(QPalette::WindowText, QColor(0xe8, 0xe8, 0xe8));
        p.setColor(QPalette::Base, QColor(0x1e, 0x1f, 0x22));
        p.setColor(QPalette::AlternateBase, QColor(0x2b, 0x2d, 0x31));
        p.setColor(QPalette::Text, QColor(0xe8, 0xe8, 0xe8));
        p.setColor(QPalette::Button, QColor(0x3a, 0x3c, 0x40));
        p.setColor(QPalette::ButtonText, QColor(0xe8, 0xe8, 0xe8));
        p.setColor(QPalette::Highlight, QColor(0x56, 0xb4, 0xe9));
        p.setColor(QPalette::HighlightedText, Qt::black);
        p.setColor(QPalette::ToolTipBase, QColor(0x3a, 0x3c, 0x40));
        p.setColor(QPalette::ToolTipText, QColor(0xe8, 0xe8, 0xe8));
        p.setColor(QPalette::Disabled, QPalette::Text, QColor(0x80, 0x80, 0x80));
        p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(0x80, 0x80, 0x80));
        // A disabled slider (another method's live knob) must not keep the live blue groove.
        p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0x55, 0x58, 0x5c));
        QApplication::setPalette(p);
    } else {
        QApplication::setPalette(QApplication::style()->standardPalette());
    }
    dark_->setChecked(on);
    QSettings().setValue(QStringLiteral("dark"), on);
}

void MainWindow::browseDataset()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open an IDX or CIFAR-10 folder"), setup_->datasetDir());
    if (!dir.isEmpty())
        setup_->setDatasetDir(dir);
}

void MainWindow::restoreLayout()
{
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    if (settings.value(QStringLiteral("dark"), false).toBool())
        setDark(true);
}

void MainWindow::resetLayout()
{
    restoreState(defaultState_);
    for (QDockWidget* dock : docks_)
        dock->show();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    controller_->shutdown(); // stops the worker at its next batch and joins its thread
    QFile::remove(recoveryFilePath()); // a clean exit: nothing to recover next time
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    const auto urls = event->mimeData()->urls();
    if (std::any_of(urls.begin(), urls.end(), [](const QUrl& url) { return QFileInfo(url.toLocalFile()).isDir(); }))
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event)
{
    // A folder with a summary.json is a run (several can be dropped at once); any other folder is
    // a dataset.
    QStringList runs;
    QString dataset;
    for (const QUrl& url : event->mimeData()->urls()) {
        const QString dir = url.toLocalFile();
        if (!QFileInfo(dir).isDir())
            continue;
        if (isRunFolder(dir.toStdString()))
            runs << dir;
        else if (dataset.isEmpty())
            dataset = dir;
    }
    if (!dataset.isEmpty()) {
        setup_->setDatasetDir(dataset);
        statusBar()->showMessage(tr("Dataset: %1").arg(dataset), 5000);
    }
    if (!runs.isEmpty())
        openRunFolders(runs);
    event->acceptProposedAction();
}

QString MainWindow::runsDirectory() const
{
    const QString fallback = qEnvironmentVariableIsEmpty("SQ_RUNS_DIR") ? QDir::homePath() + QStringLiteral("/sq-runs")
                                                                       : qEnvironmentVariable("SQ_RUNS_DIR");
    return QSettings().value(QStringLiteral("runsDirectory"), fallback).toString();
}

void MainWindow::chooseRunsDirectory()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Save runs into"), runsDirectory());
    if (dir.isEmpty())
        return;
    QSettings().setValue(QStringLiteral("runsDirectory"), dir);
    controller_->setRunsDirectory(dir);
    statusBar()->showMessage(tr("Runs are saved into %1 from the next run on").arg(dir), 8000);
}

void MainWindow::openRunsDialog()
{
    // Qt's own dialog: the native one picks a single folder. Its views allow extended selection,
    // so several run folders can be picked at once (or added one after another).
    QFileDialog dialog(this, tr("Open run folder(s)"), runsDirectory());
    dialog.setFileMode(QFileDialog::Directory);
    dialog.setOption(QFileDialog::DontUseNativeDialog, true);
    dialog.setOption(QFileDialog::ShowDirsOnly, true);
    for (QListView* view : dialog.findChildren<QListView*>())
        view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    for (QTreeView* view : dialog.findChildren<QTreeView*>())
        view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    if (dialog.exec() == QDialog::Accepted)
        openRunFolders(dialog.selectedFiles());
}

int MainWindow::openRunFolders(const QStringList& dirs)
{
    QStringList errors;
    std::shared_ptr<const LoadedRun> newest;
    QApplication::setOverrideCursor(Qt::WaitCursor);
    for (const QString& dir : dirs) {
        try {
            auto run = std::make_shared<const LoadedRun>(loadRun(QDir::cleanPath(dir).toStdString()));
            std::erase_if(runs_, [&](const auto& r) { return r->dir == run->dir; });
            runs_.push_back(run);
            newest = run;
        } catch (const Error& e) {
            errors << QString::fromUtf8(e.what());
        }
    }
    QApplication::restoreOverrideCursor();
    if (newest) {
        // A live run keeps the views; the loaded ones still join the comparison.
        if (!controller_->busy() && controller_->state() != TrainingController::State::Paused)
            replayRun(*newest);
        const QList<ComparedRun> compared = compareRuns(runs_);
        compare_->setRuns(compared);
        frontier_->setRuns(compared);
        if (runs_.size() >= 2) {
            compareDock_->show();
            frontierDock_->show();
            frontierDock_->raise();
        }
        statusBar()->showMessage(tr("%n run(s) loaded", nullptr, static_cast<int>(runs_.size())), 8000);
    }
    if (!errors.isEmpty())
        showError(errors.join(QLatin1Char('\n')));
    return static_cast<int>(dirs.size() - errors.size());
}

void MainWindow::replayRun(const LoadedRun& run)
{
    if (run.snapshots.empty()) {
        statusBar()->showMessage(
            tr("%1 has no snapshots.jsonl (written before it existed): it joins the comparison only")
                .arg(QString::fromStdString(run.dir)),
            10000);
        return;
    }
    views_->clear();
    snapshotsShown_ = 0;
    for (const auto& snapshot : run.snapshots) {
        views_->addSnapshot(snapshot);
        ++snapshotsShown_;
    }
    latest_ = run.snapshots.back();
    runConfig_ = run.summary.config;
    updateProgress(*latest_);
    setWindowTitle(tr("SQ Explorer — %1 (%2)")
                       .arg(QString::fromStdString(run.name), QString::fromStdString(runLabel(run.summary))));
}

void MainWindow::closeRuns()
{
    runs_.clear();
    compare_->clear();
    frontier_->clear();
    compareDock_->hide();
    frontierDock_->hide();
}

bool MainWindow::saveSession(const QString& path)
{
    using State = TrainingController::State;
    const State state = controller_->state();
    if (state == State::Idle || state == State::Loading || state == State::Failed) {
        showError(tr("There is no run to save yet: start one first."));
        return false;
    }
    controller_->saveSession(path); // the worker writes it and reports through sessionSaved
    return true;
}

bool MainWindow::openSession(const QString& path)
{
    try {
        resumeFrom(std::make_shared<const TrainerState>(loadSessionFile(path)), path);
        return true;
    } catch (const Error& e) {
        showError(QString::fromUtf8(e.what()));
        return false;
    }
}

void MainWindow::resumeFrom(std::shared_ptr<const TrainerState> state, const QString& name)
{
    const TrainConfig& config = state->config;
    setup_->setConfig(config);
    lastError_.clear();
    lambda_->showValue(state->lambda.value);
    gamma_->showValue(state->gamma.value);
    learningRate_->showValue(state->learningRate.value);
    mu_->showValue(state->mu.value);
    setWindowTitle(tr("SQ Explorer — %1").arg(QFileInfo(name).fileName()));
    runConfig_ = config;
    controller_->resumeSession(std::move(state), name);
    statusBar()->showMessage(tr("Opened session %1: paused, press Resume to continue").arg(name), 8000);
}

void MainWindow::offerRecovery()
{
    const QString path = recoveryFilePath();
    if (!QFileInfo::exists(path) || controller_->state() != TrainingController::State::Idle)
        return;
    std::shared_ptr<const TrainerState> state;
    try {
        state = std::make_shared<const TrainerState>(loadSessionFile(path));
    } catch (const Error& e) {
        QFile::remove(path);
        showError(tr("The recovery file of the last run could not be read and was removed: %1")
                      .arg(QString::fromUtf8(e.what())));
        return;
    }
    const QString question =
        tr("The last training run did not end cleanly. Restore it at step %1 (%2 of %3 epochs done)?\n\n"
           "It continues paused; the epoch that was under way is lost.")
            .arg(state->step)
            .arg(state->epoch)
            .arg(state->config.epochs);
    if (recoveryPrompt()(this, question))
        resumeFrom(std::move(state), path);
    else
        QFile::remove(path);
}

void MainWindow::showDivergence(const QString& message)
{
    lastDivergence_ = message;
    statusBar()->showMessage(message, 30000);
    // Non-modal: the live controls stay reachable to lower the parameter before resuming.
    // The message says what failed (diverged, collapsed); the title what the run is doing now.
    auto* box = new QMessageBox(QMessageBox::Warning, tr("Training paused"), message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setObjectName(QStringLiteral("divergenceDialog"));
    box->open();
}

} // namespace sq::ui
