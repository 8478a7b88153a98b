// The training worker: a QObject living on its own QThread that loads data, drives core::Trainer
// and hands the GUI the latest snapshot (never a queue of stale ones).
#pragma once

#include "core/controls.h"
#include "core/data/dataset.h"
#include "core/snapshot.h"
#include "core/snapshot_recorder.h"
#include "core/train_config.h"
#include "core/trainer.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <mutex>

namespace sq::ui {

// Lives on the worker thread; every public slot must be invoked queued (the controller does).
// Commands that must reach a busy worker (lambda, gamma, lr, pause, stop) are not slots: they
// are atomics in sq::Controls that the trainer pulls at batch boundaries.
class TrainingSession : public QObject {
    Q_OBJECT

public:
    TrainingSession(TrainConfig config, std::shared_ptr<Controls> controls,
                    std::shared_ptr<const DatasetSplits> cachedData);
    // After the worker thread has ended: removes the run folder if nothing was saved into it.
    ~TrainingSession() override;

    // GUI thread: the newest snapshot; clears the "delivery pending" flag so the next snapshot
    // signals again.
    std::shared_ptr<const Snapshot> takeLatest();

    // Worker thread (queued): load the data and build the trainer.
    void prepare();
    // Worker thread (queued): train until finished, stopped or paused (then return to the
    // event loop, where step commands can run).
    void runLoop();
    void stepBatches(int count);
    void stepEpoch();

    // Before the thread starts: continue `state` (a session file's, `name` its path) instead of
    // starting afresh; prepare() builds the trainer from state->config.
    void setResumeState(std::shared_ptr<const TrainerState> state, QString name)
    {
        resume_ = std::move(state);
        resumeName_ = std::move(name);
    }
    // Before the thread starts: the recovery file rewritten after every epoch and removed when the
    // run finishes or is stopped (empty: none).
    void setRecoveryFile(QString path) { recoveryFile_ = std::move(path); }
    // Any thread: save a session file at the next batch boundary (while training) or at the next
    // saveRequested() (when idle). sessionSaved reports the outcome.
    void requestSave(const QString& path);
    // Worker thread (queued): a pending save request, if any.
    void saveRequested();
    // Any thread: write the trained model (.sqm, .onnx or .h, by the suffix) at the next batch
    // boundary or, when idle, at the next exportRequested(). modelExported reports the outcome.
    void requestModelExport(const QString& path);
    // Worker thread (queued): a pending model export, if any.
    void exportRequested();

    // Before the thread starts: the folder the run's history.csv, summary.json and snapshots.jsonl
    // go to when it finishes or is stopped (empty: the run is not saved). Created by the caller
    // to reserve the name; removed again if the run ends before its first step.
    void setRunFolder(std::string dir) { runFolder_ = std::move(dir); }

    // After prepare(): the trainer, for the worker thread only; tests read it after the thread ends.
    Trainer* trainer() { return trainer_.get(); }

signals:
    void prepared(std::shared_ptr<const sq::DatasetSplits> data);
    void snapshotReady();  // at most one pending at a time (latest wins)
    void paused();
    void finished(bool completed); // completed: every epoch ran; false: stopped early
    void failed(const QString& message);
    // Training diverged: the trainer went back to its last good state and paused (message: what
    // happened and which parameter to lower).
    void diverged(const QString& message);
    void sessionSaved(const QString& path, const QString& error); // error empty: saved
    void modelExported(const QString& path, const QString& error); // error empty: written
    void runSaved(const QString& dir);
    void runSaveFailed(const QString& message);

private:
    void publish(std::shared_ptr<const Snapshot> snapshot);
    // After training work on the worker: divergence news, the epoch's recovery file, a save request.
    void afterWork();
    void removeRecoveryFile();
    void saveRun();
    template <typename Work>
    void guarded(Work&& work);

    TrainConfig config_;
    std::shared_ptr<Controls> controls_;
    std::shared_ptr<const DatasetSplits> data_;
    std::unique_ptr<Trainer> trainer_;
    std::shared_ptr<const TrainerState> resume_;
    QString resumeName_;
    QString recoveryFile_;
    std::size_t recoveredEpochs_ = 0; // epochs in the history when the recovery file was last written
    int divergencesReported_ = 0;
    std::mutex saveMutex_;
    QString pendingSave_;
    QString pendingExport_;
    SnapshotRecorder recorder_; // worker thread: every snapshot published, for snapshots.jsonl
    std::string runFolder_;
    bool saved_ = false;

    std::mutex latestMutex_;
    std::shared_ptr<const Snapshot> latest_;
    std::atomic<bool> deliveryPending_{false};
};

} // namespace sq::ui
