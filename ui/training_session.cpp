#include "ui/training_session.h"

#include "core/error.h"
#include "core/io/run_files.h"
#include "core/io/session_file.h"
#include "ui/model_export.h"
#include "ui/session_io.h"

#include <QDir>
#include <QFile>

namespace sq::ui {

TrainingSession::TrainingSession(TrainConfig config, std::shared_ptr<Controls> controls,
                                 std::shared_ptr<const DatasetSplits> cachedData)
    : config_(std::move(config)), controls_(std::move(controls)), data_(std::move(cachedData))
{
}

TrainingSession::~TrainingSession()
{
    if (!runFolder_.empty())
        QDir().rmdir(QString::fromStdString(runFolder_)); // only an empty one: a run never saved
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
        if (resume_) {
            restoreSession(*trainer_, *resume_, resumeName_.toStdString());
            recoveredEpochs_ = trainer_->history().epochs.size();
            resume_.reset();
        }
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
            afterWork();
        }
        publish(trainer_->makeSnapshot());
        emit finished(trainer_->finished());
        removeRecoveryFile();
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
            if (!trainer_->step())
                break;
        afterWork();
        publish(trainer_->makeSnapshot());
        if (trainer_->finished()) {
            emit finished(true);
            removeRecoveryFile();
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
        afterWork();
        publish(trainer_->makeSnapshot());
        if (trainer_->finished()) {
            emit finished(true);
            removeRecoveryFile();
            saveRun();
        }
    });
}

void TrainingSession::afterWork()
{
    if (trainer_->divergences() != divergencesReported_) {
        divergencesReported_ = trainer_->divergences();
        emit diverged(QString::fromStdString(trainer_->lastDivergence()->message));
    }
    // One recovery file per epoch: a crash loses at most the epoch under way.
    if (!recoveryFile_.isEmpty() && trainer_->history().epochs.size() != recoveredEpochs_) {
        recoveredEpochs_ = trainer_->history().epochs.size();
        try {
            saveSessionFile(recoveryFile_, trainer_->captureState());
        } catch (const Error&) {
            // Recovery is best effort: a full disk must not stop the run; an explicit save reports.
        }
    }
    saveRequested();
    exportRequested();
}

void TrainingSession::requestSave(const QString& path)
{
    std::lock_guard lock(saveMutex_);
    pendingSave_ = path;
}

void TrainingSession::saveRequested()
{
    QString path;
    {
        std::lock_guard lock(saveMutex_);
        path.swap(pendingSave_);
    }
    if (path.isEmpty() || !trainer_)
        return;
    try {
        saveSessionFile(path, trainer_->captureState());
        emit sessionSaved(path, QString());
    } catch (const Error& e) {
        emit sessionSaved(path, QString::fromStdString(e.what()));
    }
}

void TrainingSession::requestModelExport(const QString& path)
{
    std::lock_guard lock(saveMutex_);
    pendingExport_ = path;
}

void TrainingSession::exportRequested()
{
    QString path;
    {
        std::lock_guard lock(saveMutex_);
        path.swap(pendingExport_);
    }
    if (path.isEmpty() || !trainer_ || !data_)
        return;
    try {
        exportTrainedModel(*trainer_, *data_, path.toStdString());
        emit modelExported(path, QString());
    } catch (const Error& e) {
        emit modelExported(path, QString::fromStdString(e.what()));
    }
}

void TrainingSession::removeRecoveryFile()
{
    if (!recoveryFile_.isEmpty())
        QFile::remove(recoveryFile_);
}

} // namespace sq::ui
