#include "ui/training_session.h"

#include "core/error.h"
#include "core/io/run_files.h"

namespace sq::ui {

TrainingSession::TrainingSession(TrainConfig config, std::shared_ptr<Controls> controls,
                                 std::shared_ptr<const DatasetSplits> cachedData)
    : config_(std::move(config)), controls_(std::move(controls)), data_(std::move(cachedData))
{
}

std::shared_ptr<const Snapshot> TrainingSession::takeLatest()
{
    std::lock_guard lock(latestMutex_);
    deliveryPending_.store(false, std::memory_order_release);
    return latest_;
}

void TrainingSession::publish(std::shared_ptr<const Snapshot> snapshot)
{
    recorder_.add(snapshot);
    {
        std::lock_guard lock(latestMutex_);
        latest_ = std::move(snapshot);
    }
    // Signal only when the GUI has taken the previous one: a slow GUI gets the newest snapshot,
    // not a backlog.
    if (!deliveryPending_.exchange(true, std::memory_order_acq_rel))
        emit snapshotReady();
}

template <typename Work>
void TrainingSession::guarded(Work&& work)
{
    // Nothing may escape a slot on the worker thread: report it and leave the GUI usable.
    try {
        work();
    } catch (const Error& e) {
        emit failed(QString::fromStdString(e.what()));
    } catch (const std::exception& e) {
        emit failed(QStringLiteral("internal error: %1").arg(QString::fromStdString(e.what())));
    }
}

void TrainingSession::prepare()
{
    guarded([&] {
        config_.validate();
        if (!data_) {
            if (config_.datasetDir.empty())
                config_.datasetDir = defaultDatasetDir();
            data_ = std::make_shared<const DatasetSplits>(
                loadDataset(config_.datasetDir, config_.datasetKind, config_.trainLimit, config_.testLimit));
        }
        trainer_ = std::make_unique<Trainer>(config_, data_, controls_);
        trainer_->setSnapshotSink([this](std::shared_ptr<const Snapshot> s) { publish(std::move(s)); });
        publish(trainer_->makeSnapshot());
        emit prepared(data_);
    });
}

void TrainingSession::runLoop()
{
    if (!trainer_)
        return;
    guarded([&] {
        while (!trainer_->finished() && !controls_->stopRequested()) {
            if (controls_->paused()) {
                publish(trainer_->makeSnapshot(true));
                emit paused();
                return;
            }
            trainer_->step();
        }
        publish(trainer_->makeSnapshot());
        emit finished(trainer_->finished());
        saveRun();
    });
}

void TrainingSession::saveRun()
{
    // Here on the worker, which owns the trainer: the GUI never waits for the files. Once per run;
    // a run stopped before its first step has nothing worth keeping.
    if (saved_ || runFolder_.empty() || trainer_->stepCount() == 0)
        return;
    saved_ = true;
    try {
        const SnapshotList snapshots = recorder_.snapshots();
        writeRunFiles(runFolder_, *trainer_, config_.datasetDir, &snapshots);
        emit runSaved(QString::fromStdString(runFolder_));
    } catch (const Error& e) {
        emit runSaveFailed(QString::fromStdString(e.what()));
    }
}

void TrainingSession::stepBatches(int count)
{
    if (!trainer_)
        return;
    guarded([&] {
        for (int i = 0; i < count && !trainer_->finished() && !controls_->stopRequested(); ++i)
            trainer_->step();
        publish(trainer_->makeSnapshot());
        if (trainer_->finished()) {
            emit finished(true);
            saveRun();
        }
    });
}

void TrainingSession::stepEpoch()
{
    if (!trainer_)
        return;
    guarded([&] {
        trainer_->runEpoch();
        publish(trainer_->makeSnapshot());
        if (trainer_->finished()) {
            emit finished(true);
            saveRun();
        }
    });
}

} // namespace sq::ui
