// The explorer window: setup and live controls on the left, the views in docks, run commands in
// the toolbar, progress and throughput in the status bar.
#pragma once

#include "core/io/run_loader.h"
#include "core/snapshot.h"
#include "ui/training_controller.h"

#include <QMainWindow>

#include <functional>
#include <memory>
#include <optional>

class QAction;
class QDockWidget;
class QLabel;
class QProgressBar;

namespace sq::ui {

class CompareView;
class FrontierView;
class LogSliderField;
class ModelActions;
class RunSetupPanel;
class ViewSet;

class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Starts a run with the form's settings (paused: ready to step). False if the form is invalid.
    bool startTraining(bool paused = false);

    RunSetupPanel* setupPanel() const { return setup_; }
    TrainingController* controller() const { return controller_; }
    LogSliderField* lambdaControl() const { return lambda_; }
    LogSliderField* gammaControl() const { return gamma_; }
    LogSliderField* muControl() const { return mu_; } // CPQ's memory pressure
    QList<QWidget*> views() const;
    QString lastError() const { return lastError_; }
    QString lastDivergence() const { return lastDivergence_; }

    // Sessions (docs/session-file.md): save the current run; open one, which comes back paused.
    // False, with the reason shown, on failure (a corrupt file changes nothing).
    bool saveSession(const QString& path);
    bool openSession(const QString& path);
    // How the window asks whether to restore the recovery file of a run that did not end cleanly
    // (default: a question box). Tests install one that answers at once.
    using RecoveryPrompt = std::function<bool(QWidget* parent, const QString& question)>;
    static void setRecoveryPrompt(RecoveryPrompt prompt);
    // Every view as PNG, PDF and SVG plus report.html into folder (asks for one when empty).
    bool exportAllFigures(const QString& folder);
    int snapshotsShown() const { return snapshotsShown_; }
    // The snapshot the views show last (live or re-displayed); null before any.
    std::shared_ptr<const Snapshot> shownSnapshot() const { return latest_; }

    // Adds run folders to the loaded runs (a folder already loaded is loaded afresh). When no run
    // is training, the last one is re-displayed in every view from its snapshots.jsonl; with two
    // or more loaded, the Compare runs and Frontier views overlay them. A bad folder is reported
    // (naming its file) and skipped. Returns the number of folders loaded.
    int openRunFolders(const QStringList& dirs);
    void closeRuns();
    const std::vector<std::shared_ptr<const LoadedRun>>& loadedRuns() const { return runs_; }
    CompareView* compareView() const { return compare_; }
    FrontierView* frontierView() const { return frontier_; }
    // Where the window saves each finished or stopped run (QSettings "runsDirectory"; default
    // $SQ_RUNS_DIR, else ~/sq-runs).
    QString runsDirectory() const;

    QAction* startAction() const { return start_; }
    QAction* pauseAction() const { return pause_; }
    QAction* stopAction() const { return stop_; }
    QAction* stepBatchAction() const { return stepBatch_; }
    QAction* stepEpochAction() const { return stepEpoch_; }
    QAction* presentationAction() const { return presentation_; }
    QAction* darkAction() const { return dark_; }
    ModelActions* modelActions() const { return models_; }

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void createViews();
    void createControls();
    void createActions();
    void createMenus();
    void restoreLayout();
    void resetLayout();
    void showSnapshot(std::shared_ptr<const Snapshot> snapshot);
    void updateState(TrainingController::State state);
    void updateProgress(const Snapshot& s);
    // Each method's knobs only: lambda and gamma for SQ, mu for CPQ (of the run, or of the setup).
    void updateLiveControls();
    void showError(const QString& message);
    void showDivergence(const QString& message);
    // At startup: a recovery file means the last run did not end cleanly; offer to restore it.
    void offerRecovery();
    void resumeFrom(std::shared_ptr<const TrainerState> state, const QString& name);
    void exportFigureDialog();
    QString exportFolder() const;
    void setPresentation(bool on);
    void setDark(bool on);
    void browseDataset();
    void openRunsDialog();
    void chooseRunsDirectory();
    void replayRun(const LoadedRun& run);
    QDockWidget* addDock(const QString& title, const QString& name, QWidget* content, Qt::DockWidgetArea area);

    TrainingController* controller_;
    RunSetupPanel* setup_ = nullptr;
    LogSliderField* lambda_ = nullptr;
    LogSliderField* gamma_ = nullptr;
    LogSliderField* learningRate_ = nullptr;
    LogSliderField* mu_ = nullptr;

    std::unique_ptr<ViewSet> views_;
    ModelActions* models_ = nullptr;
    CompareView* compare_ = nullptr;
    FrontierView* frontier_ = nullptr;
    QDockWidget* compareDock_ = nullptr;
    QDockWidget* frontierDock_ = nullptr;
    std::vector<std::shared_ptr<const LoadedRun>> runs_;
    QList<QDockWidget*> docks_;
    QByteArray defaultState_;

    QAction* start_ = nullptr;
    QAction* pause_ = nullptr;
    QAction* stop_ = nullptr;
    QAction* stepBatch_ = nullptr;
    QAction* stepEpoch_ = nullptr;
    QAction* presentation_ = nullptr;
    QAction* dark_ = nullptr;

    QLabel* stateLabel_ = nullptr;
    QLabel* throughputLabel_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QString lastError_;
    int snapshotsShown_ = 0;
    std::shared_ptr<const Snapshot> latest_;
    std::optional<TrainConfig> runConfig_; // the settings of the run the views show
    QString lastDivergence_;
};

} // namespace sq::ui
