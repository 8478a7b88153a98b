#include "ui/training_controller.h"

#include "ui/training_session.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QMetaObject>
#include <QThread>

#include <mutex>

namespace sq::ui {

namespace {
// Qt hands a queued functor to the worker under its own futex-based lock, which ThreadSanitizer
// cannot see in Debian's uninstrumented Qt. Holding this mutex across the post and taking it first
// on the worker gives the same happens-before edge in a form TSan understands; it is a function
// static so the worker reads none of the functor's captures before taking it.
std::mutex& handOffMutex()
{
    static std::mutex mutex;
    return mutex;
}

// A fresh folder for a run, named so that a listing sorts by model, method and start time, and
// created now: runs started within the same second (or by another explorer) each reserve their
// own. The session removes it again if the run ends before its first step.
QString runFolderFor(const QString& runsDirectory, const TrainConfig& config)
{
    const QString model = config.arch.empty() ? QString::fromStdString(config.model) : QStringLiteral("custom");
    const QString base = QStringLiteral("%1/%2-%3-%4")
                             .arg(runsDirectory, model, QString::fromStdString(toString(config.sq.mode)),
                                  QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss")));
    QDir().mkpath(runsDirectory);
    for (int n = 1;; ++n) {
        const QString dir = n == 1 ? base : base + QStringLiteral("-%1").arg(n);
        if (QFileInfo::exists(dir))
            continue;
        // Not created and still absent: the folder cannot be made (saving the run says why).
        if (QDir().mkdir(dir) || !QFileInfo::exists(dir))
            return dir;
    }
}
} // namespace

TrainingController::TrainingController(QObject* parent) : QObject(parent), controls_(std::make_shared<Controls>())
{
    qRegisterMetaType<std::shared_ptr<const sq::Snapshot>>();
    qRegisterMetaType<std::shared_ptr<const sq::DatasetSplits>>();
    qRegisterMetaType<sq::ui::TrainingController::State>();
}

TrainingController::~TrainingController() { shutdown(); }

void TrainingController::shutdown()
{
    if (!thread_)
        return;
    controls_->requestStop(); // the worker returns at its next batch boundary
    thread_->quit();
    thread_->wait();
    delete session_; // its thread has ended: nothing can touch it any more
    session_ = nullptr;
    delete thread_;
    thread_ = nullptr;
}

template <typename Call>
void TrainingController::invokeOnWorker(Call&& call)
{
    if (!session_)
        return;
    TrainingSession* session = session_;
    const std::lock_guard lock(handOffMutex());
    QMetaObject::invokeMethod(
        session,
        [session, call = std::forward<Call>(call)] {
            { const std::lock_guard received(handOffMutex()); }
            call(*session);
        },
        Qt::QueuedConnection);
}

void TrainingController::setState(State state)
{
    if (state_ == state)
        return;
    state_ = state;
    emit stateChanged(state);
}

void TrainingController::start(const TrainConfig& config, bool startPaused)
{
    shutdown();
    controls_ = std::make_shared<Controls>();
    startPaused_ = startPaused;
    if (startPaused)
        controls_->pause();

    TrainConfig resolved = config;
    if (resolved.datasetDir.empty())
        resolved.datasetDir = defaultDatasetDir();
    const DataKey key{resolved.datasetDir, static_cast<int>(resolved.datasetKind), resolved.trainLimit,
                      resolved.testLimit};
    auto cached = key == cachedKey_ ? cachedData_ : nullptr;

    thread_ = new QThread;
    thread_->setObjectName(QStringLiteral("sq-training"));
    session_ = new TrainingSession(resolved, controls_, cached);
    if (!runsDirectory_.isEmpty())
        session_->setRunFolder(runFolderFor(runsDirectory_, resolved).toStdString());
    if (pendingResume_)
        session_->setResumeState(std::move(pendingResume_), pendingResumeName_);
    pendingResume_.reset();
    session_->setRecoveryFile(recoveryFile_);
    session_->moveToThread(thread_);

    // Queued signals of a previous run can still be in flight after a quick restart: each
    // handler checks that its run is still the current one.
    const quint64 run = ++generation_;
    const auto current = [this, run] { return run == generation_; };
    connect(session_, &TrainingSession::snapshotReady, this, [this, current] {
        if (current())
            deliverSnapshot();
    });
    connect(session_, &TrainingSession::prepared, this,
            [this, key, current](std::shared_ptr<const DatasetSplits> data) {
                if (!current())
                    return;
                cachedKey_ = key;
                cachedData_ = std::move(data);
                if (startPaused_ && !controls_->stopRequested()) {
                    setState(State::Paused);
                } else {
                    setState(State::Running);
                    invokeOnWorker([](TrainingSession& s) { s.runLoop(); });
                }
            });
    connect(session_, &TrainingSession::paused, this, [this, current] {
        if (current() && state_ == State::Running)
            setState(State::Paused);
    });
    connect(session_, &TrainingSession::finished, this, [this, current](bool completed) {
        if (current())
            setState(completed ? State::Finished : State::Stopped);
    });
    connect(session_, &TrainingSession::runSaved, this, [this, current](const QString& dir) {
        if (current())
            emit runSaved(dir);
    });
    connect(session_, &TrainingSession::runSaveFailed, this, [this, current](const QString& message) {
        if (current())
            emit runSaveFailed(message);
    });
    connect(session_, &TrainingSession::diverged, this, [this, current](const QString& message) {
        if (current())
            emit diverged(message);
    });
    connect(session_, &TrainingSession::sessionSaved, this,
            [this, current](const QString& path, const QString& error) {
                if (current())
                    emit sessionSaved(path, error);
            });
    connect(session_, &TrainingSession::modelExported, this,
            [this, current](const QString& path, const QString& error) {
                if (current())
                    emit modelExported(path, error);
            });
    connect(session_, &TrainingSession::failed, this, [this, current](const QString& message) {
        if (!current())
            return;
        setState(State::Failed);
        emit failed(message);
    });

    latest_.reset();
    emit runStarted();
    setState(State::Loading);
    thread_->start();
    invokeOnWorker([](TrainingSession& s) { s.prepare(); });
}

void TrainingController::resumeSession(std::shared_ptr<const TrainerState> state, const QString& name)
{
    const TrainConfig config = state->config;
    pendingResume_ = std::move(state);
    pendingResumeName_ = name;
    start(config, true);
}

void TrainingController::saveSession(const QString& path)
{
    if (!session_)
        return;
    // A training loop picks the request up at its next batch; an idle worker runs the queued call.
    session_->requestSave(path);
    invokeOnWorker([](TrainingSession& s) { s.saveRequested(); });
}

bool TrainingController::exportModel(const QString& path)
{
    if (!session_ || state_ == State::Loading || state_ == State::Failed)
        return false;
    session_->requestModelExport(path);
    invokeOnWorker([](TrainingSession& s) { s.exportRequested(); });
    return true;
}

void TrainingController::deliverSnapshot()
{
    if (!session_)
        return;
    auto s = session_->takeLatest();
    if (!s)
        return;
    latest_ = s;
    emit snapshot(std::move(s));
}

void TrainingController::pause()
{
    if (state_ != State::Running)
        return;
    controls_->pause();
}

void TrainingController::resume()
{
    if (state_ != State::Paused)
        return;
    controls_->resume();
    setState(State::Running);
    invokeOnWorker([](TrainingSession& s) { s.runLoop(); });
}

void TrainingController::stop()
{
    if (state_ != State::Running && state_ != State::Paused && state_ != State::Loading)
        return;
    controls_->requestStop();
    // A paused worker is idle in its event loop: let it see the stop and report. A running one
    // sees it at its next batch; a loading one right after loading.
    if (state_ == State::Paused)
        invokeOnWorker([](TrainingSession& s) { s.runLoop(); });
}

void TrainingController::stepBatch()
{
    if (state_ == State::Paused)
        invokeOnWorker([](TrainingSession& s) { s.stepBatches(1); });
}

void TrainingController::stepEpoch()
{
    if (state_ == State::Paused)
        invokeOnWorker([](TrainingSession& s) { s.stepEpoch(); });
}

void TrainingController::setLambda(double value) { controls_->lambda.set(value); }
void TrainingController::setGamma(double value) { controls_->gamma.set(value); }
void TrainingController::setLearningRate(double value) { controls_->learningRate.set(value); }
void TrainingController::setMu(double value) { controls_->mu.set(value); }

} // namespace sq::ui
