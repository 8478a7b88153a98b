// The GUI-thread side of training: owns the worker thread and its TrainingSession, turns user
// commands into atomics or queued calls, and re-emits the latest snapshot on the GUI thread.
#pragma once

#include "core/controls.h"
#include "core/snapshot.h"
#include "core/train_config.h"
#include "core/trainer_state.h"

#include <QObject>
#include <QString>

#include <memory>

class QThread;

namespace sq::ui {

class TrainingSession;

class TrainingController : public QObject {
    Q_OBJECT

public:
    enum class State { Idle, Loading, Running, Paused, Finished, Stopped, Failed };
    Q_ENUM(State)

    explicit TrainingController(QObject* parent = nullptr);
    // Stops the worker and waits for its thread: closing the window mid-training is clean.
    ~TrainingController() override;

    // Loads the data (cached between runs on the same data) and builds a trainer on the worker
    // thread; then trains, or waits paused when startPaused (for stepping).
    void start(const TrainConfig& config, bool startPaused = false);
    // Like start(state->config, true), continuing the saved run (name: the session's path, for
    // messages): the run waits paused at the saved step.
    void resumeSession(std::shared_ptr<const TrainerState> state, const QString& name);
    // Saves the run as a session file: at the next batch while training, at once when idle
    // (sessionSaved reports). Nothing happens without a run.
    void saveSession(const QString& path);
    // Writes the trained model (.sqm, .onnx or .h by the suffix) at the worker's next batch or at
    // once when idle; modelExported reports it. False when there is no run to export from.
    bool exportModel(const QString& path);
    // The recovery file runs rewrite after every epoch and remove when they end (empty: none).
    // Takes effect at the next start().
    void setRecoveryFile(const QString& path) { recoveryFile_ = path; }
    void pause();
    void resume();
    void stop();
    void stepBatch();
    void stepEpoch();

    // Take effect at the trainer's next batch.
    void setLambda(double value);
    void setGamma(double value);
    void setLearningRate(double value);
    void setMu(double value); // CPQ's memory pressure

    // Where finished and stopped runs are saved, each in a folder <model>-<mode>-<yyyyMMdd-HHmmss>
    // (empty: runs are not saved). Takes effect at the next start().
    void setRunsDirectory(const QString& dir) { runsDirectory_ = dir; }
    QString runsDirectory() const { return runsDirectory_; }

    State state() const { return state_; }
    bool busy() const { return state_ == State::Loading || state_ == State::Running; }
    const std::shared_ptr<Controls>& controls() const { return controls_; }
    std::shared_ptr<const Snapshot> latestSnapshot() const { return latest_; }
    // Waits for the worker thread to finish its current call (tests and shutdown only).
    void shutdown();

signals:
    void runStarted();                                        // a new run: views clear
    void snapshot(std::shared_ptr<const sq::Snapshot> snapshot); // GUI thread
    void stateChanged(sq::ui::TrainingController::State state);
    void failed(const QString& message);
    void runSaved(const QString& dir);           // the run's folder is complete
    void runSaveFailed(const QString& message);  // the run trained, but its folder could not be written
    // Training diverged; the trainer is back at its last good state and paused.
    void diverged(const QString& message);
    void sessionSaved(const QString& path, const QString& error); // error empty: saved
    void modelExported(const QString& path, const QString& error); // error empty: written

private:
    void setState(State state);
    void deliverSnapshot();
    template <typename Call>
    void invokeOnWorker(Call&& call);

    std::shared_ptr<Controls> controls_;
    std::shared_ptr<const TrainerState> pendingResume_; // for the next start()
    QString pendingResumeName_;
    QString recoveryFile_;
    QThread* thread_ = nullptr;
    TrainingSession* session_ = nullptr;
    State state_ = State::Idle;
    bool startPaused_ = false;
    quint64 generation_ = 0;
    std::shared_ptr<const Snapshot> latest_;
    QString runsDirectory_;

    // The last dataset loaded, reused when the next run asks for the same one.
    struct DataKey {
        std::string dir;
        int kind = 0;
        int trainLimit = 0;
        int testLimit = 0;
        bool operator==(const DataKey&) const = default;
    };
    DataKey cachedKey_;
    std::shared_ptr<const DatasetSplits> cachedData_;
};

} // namespace sq::ui

Q_DECLARE_METATYPE(std::shared_ptr<const sq::Snapshot>)
Q_DECLARE_METATYPE(std::shared_ptr<const sq::DatasetSplits>)
