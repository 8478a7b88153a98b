#include "core/trainer.h"

#include "core/architecture.h"
#include "core/error.h"
#include "core/io/binary_io.h"
#include "core/layers/batchnorm.h"
#include "core/loss.h"
#include "core/model_stats.h"
#include "core/parallel.h"
#include "core/quant/method_factory.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <type_traits>

namespace sq {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A fixed, seed-derived stream for recalibration batches, distinct from the training order.
constexpr std::uint64_t kRecalibrationSeedSalt = 0x5ca1ab1e0ddba11ULL;

std::unique_ptr<Model> makeModel(const TrainConfig& config, const Dataset& train)
{
    if (!config.arch.empty())
        return std::make_unique<Model>(buildModel(config.arch, train.sampleShape(), train.classes));
    return std::make_unique<Model>(buildPreset(config.model, train.sampleShape(), train.classes));
}

} // namespace

Trainer::Trainer(TrainConfig config, std::shared_ptr<const DatasetSplits> data, std::shared_ptr<Controls> controls)
    : config_((config.validate(), std::move(config)))
    , data_(std::move(data))
    , controls_(std::move(controls))
    , model_(makeModel(config_, data_->train))
    , trainBatches_(data_->train, config_.batchSize, config_.seed, true)
{
    if (data_->train.count == 0 || data_->test.count == 0)
        throw Error("dataset: the training and test splits must both hold images");
    dataFingerprint_ = fingerprint();

    const int threads = config_.resolvedThreads();
    setThreadCount(threads);
    Eigen::setNbThreads(threads);

    Rng rng(config_.seed);
    model_->initialize(rng);
    method_ = makeQuantMethod(*model_, config_);

    std::vector<OptimParam> params;
    for (Param* p : model_->params())
        params.push_back({p, 1.0f});
    for (const OptimParam& p : method_->params())
        params.push_back(p);
    optimizer_ = makeOptimizer(config_.optimizer, std::move(params));

    batchesPerEpoch_ = trainBatches_.batchesPerEpoch();
    lambdaSeen_ = controls_->lambda.version();
    gammaSeen_ = controls_->gamma.version();
    muSeen_ = controls_->mu.version();
    lrSeen_ = controls_->learningRate.version();
    pullControls();
    lastSnapshotTime_ = Clock::now();
}

Phase Trainer::phase() const
{
    return epoch_ >= config_.epochs - config_.resolvedCommitEpochs() ? Phase::Commit : Phase::Search;
}

double Trainer::epochsElapsed() const
{
    const int done = epochStarted_ ? trainBatches_.position() : 0;
    return epoch_ + static_cast<double>(done) / batchesPerEpoch_;
}

void Trainer::pullKnob(Controls::Knob& knob, std::uint64_t& seen, bool& overridden, const char* name, double& current,
                       bool positive)
{
    const std::uint64_t version = knob.version();
    if (version == seen)
        return;
    seen = version;
    const double value = knob.value();
    // A live value the engine cannot use is ignored rather than allowed to poison the weights.
    if (!std::isfinite(value) || value < 0.0 || (positive && value == 0.0))
        return;
    if (!overridden || value != current)
        history_.events.push_back({step_, epochsElapsed(), name, current, value});
    overridden = true;
    current = value;
}

void Trainer::pullControls()
{
    const double t = epochsElapsed();
    pullKnob(controls_->lambda, lambdaSeen_, lambdaOverridden_, "lambda", lambda_, false);
    pullKnob(controls_->gamma, gammaSeen_, gammaOverridden_, "gamma", gamma_, false);
    pullKnob(controls_->mu, muSeen_, muOverridden_, "mu", mu_, false);
    pullKnob(controls_->learningRate, lrSeen_, lrOverridden_, "lr", lr_, true);
    if (!lambdaOverridden_)
        lambda_ = config_.lambdaSchedule.at(static_cast<float>(config_.lambda), t);
    if (!gammaOverridden_)
        gamma_ = config_.gamma;
    if (!muOverridden_)
        mu_ = config_.mu;
    if (!lrOverridden_)
        lr_ = config_.lrSchedule.at(static_cast<float>(config_.learningRate), t, config_.epochs);
}

void Trainer::beginEpoch()
{
    trainBatches_.startEpoch(epoch_);
    if (phase() == Phase::Commit)
        method_->commit();
    thisEpoch_ = Window{};
    epochStarted_ = true;
}

bool Trainer::step()
{
    if (finished_)
        return false;
    if (!epochStarted_)
        beginEpoch();
    pullControls();
    if (!haveGoodState_ || (step_ % config_.goodStateEveryBatches == 0 && goodState_.step != step_))
        keepGoodState();
    if (!haveHealthyState_ && config_.collapseWindow > 0)
        keepHealthyState();

    const auto start = Clock::now();
    trainBatches_.next(images_, labels_);
    method_->beginStep();
    const Tensor& logits = model_->forward(images_, Pass::Train);
    const LossResult loss = softmaxCrossEntropy(logits, labels_, gradLogits_);
    if (!std::isfinite(loss.loss)) {
        fail(failureContext(Failure::NonFinite, "loss", loss.loss));
        return false;
    }
    model_->backward(images_, gradLogits_);
    const double reg = method_->endStep({lambda_, gamma_, mu_});
    // Caught before the optimizer step: non-finite weights make this (or the next) batch's loss
    // or regularizer non-finite, so no weight update is ever taken from them.
    if (!std::isfinite(reg)) {
        fail(failureContext(Failure::NonFinite, "regularizer", reg));
        return false;
    }
    optimizer_->step(static_cast<float>(lr_));
    method_->afterOptimizerStep();
    ++step_;
    const double seconds = secondsSince(start);
    trainSeconds_ += seconds;

    lossSinceCapture_ += loss.loss;
    ++batchesSinceCapture_;
    const int n = images_.dim(0);
    sinceSnapshot_.add(loss.loss, reg, loss.correct, n, seconds);
    sinceRecord_.add(loss.loss, reg, loss.correct, n, seconds);
    thisEpoch_.add(loss.loss, reg, loss.correct, n, seconds);

    const bool epochDone = trainBatches_.position() >= batchesPerEpoch_;
    if (step_ % config_.historyEveryBatches == 0)
        recordStep();
    if (epochDone) {
        endEpoch();
    } else if (snapshotSink_
               && (sinceSnapshot_.batches >= config_.snapshotEveryBatches
                   || secondsSince(lastSnapshotTime_) * 1000.0 >= config_.snapshotEveryMs)) {
        publishSnapshot();
    }
    return !failedOverWindow(loss.loss, loss.correct, n);
}

void Trainer::runEpoch()
{
    const int epoch = epoch_;
    while (!finished_ && epoch_ == epoch && !controls_->stopRequested())
        if (!step())
            break;
}

void Trainer::run()
{
    while (!finished_ && !controls_->stopRequested()) {
        if (controls_->paused()) {
            if (snapshotSink_)
                publishSnapshot(true);
            controls_->waitWhilePaused();
            continue;
        }
        step();
    }
}

void Trainer::recordStep()
{
    StepRecord r;
    r.step = step_;
    r.epochsElapsed = epochsElapsed();
    r.seconds = trainSeconds_;
    r.phase = phase();
    const Window& w = sinceRecord_;
    r.crossEntropy = w.crossEntropy / w.batches;
    r.regularizer = w.regularizer / w.batches;
    r.trainAccuracy = static_cast<double>(w.correct) / static_cast<double>(w.images);
    r.imagesPerSecond = w.seconds > 0.0 ? static_cast<double>(w.images) / w.seconds : 0.0;
    sinceRecord_ = Window{};
    r.lambda = lambda_;
    r.gamma = gamma_;
    r.mu = mu_;
    r.learningRate = lr_;
    for (const auto& s : method_->layerStates(false)) {
        r.alpha.push_back(s.alpha);
        r.beta.push_back(s.beta);
    }
    history_.steps.push_back(std::move(r));
}

void Trainer::endEpoch()
{
    EpochRecord r;
    r.epoch = epoch_ + 1;
    r.step = step_;
    r.phase = phase();
    r.learningRate = lr_;
    r.lambda = lambda_;
    r.gamma = gamma_;
    r.mu = mu_;
    const Window& w = thisEpoch_;
    r.trainCrossEntropy = w.crossEntropy / w.batches;
    r.trainRegularizer = w.regularizer / w.batches;
    r.trainAccuracy = static_cast<double>(w.correct) / static_cast<double>(w.images);
    r.imagesPerSecond = w.seconds > 0.0 ? static_cast<double>(w.images) / w.seconds : 0.0;
    r.evaluation = evaluate();
    r.layers = method_->layerStates();
    r.memory = memoryReport(*model_, r.layers);
    r.seconds = trainSeconds_;

    ++epoch_;
    epochStarted_ = false;
    finished_ = epoch_ >= config_.epochs;
    history_.epochs.push_back(r);
    if (epochSink_)
        epochSink_(history_.epochs.back());
    if (snapshotSink_)
        publishSnapshot();
}

double Trainer::accuracyOn(const Dataset& data, double* loss)
{
    BatchIterator batches(data, config_.evalBatchSize, 0, false);
    batches.startEpoch(0);
    Tensor images;
    std::vector<int> labels;
    Tensor grad;
    std::int64_t correct = 0;
    double lossSum = 0.0;
    while (batches.next(images, labels)) {
        const LossResult r = softmaxCrossEntropy(model_->forward(images, Pass::Eval), labels, grad);
        correct += r.correct;
        lossSum += r.loss * images.dim(0);
    }
    if (loss)
        *loss = lossSum / data.count;
    return static_cast<double>(correct) / data.count;
}

void Trainer::recalibrateBatchNorm()
{
    std::vector<BatchNorm*> norms;
    for (const auto& layer : model_->layers())
        if (auto* bn = dynamic_cast<BatchNorm*>(layer.get()))
            norms.push_back(bn);
    if (norms.empty() || config_.recalibrationImages == 0)
        return;
    for (BatchNorm* bn : norms)
        bn->resetRunningStats();
    BatchIterator batches(data_->train, config_.batchSize, config_.seed ^ kRecalibrationSeedSalt, true);
    batches.startEpoch(0);
    Tensor images;
    std::vector<int> labels;
    int seen = 0;
    while (seen < config_.recalibrationImages && batches.next(images, labels)) {
        // Batch statistics of a single image are undefined; skip a trailing batch of one.
        if (images.dim(0) < 2 && seen > 0)
            break;
        model_->forward(images, Pass::Recalibrate);
        seen += images.dim(0);
    }
}

namespace {

// What an evaluation changes and must give back: the BatchNorm running statistics (recalibrated
// for the weights being measured) and which weights each layer multiplies by (q(w) in the commit
// phase). Restored when the scope ends, also when it ends by an exception.
class ScopedModelState {
public:
    explicit ScopedModelState(Model& model) : model_(model)
    {
        for (const Tensor* t : model_.buffers())
            buffers_.push_back(*t);
        for (const auto& target : model_.quantTargets())
            quantizedForward_.push_back(target.weight->useQuantized);
    }
    ScopedModelState(const ScopedModelState&) = delete;
    ScopedModelState& operator=(const ScopedModelState&) = delete;
    ~ScopedModelState()
    {
        restoreStatistics();
        restoreForward();
    }

    void restoreStatistics()
    {
        const auto live = model_.buffers();
        for (std::size_t i = 0; i < live.size(); ++i)
            *live[i] = buffers_[i];
    }

    bool trainedOnQuantized() const
    {
        return std::find(quantizedForward_.begin(), quantizedForward_.end(), true) != quantizedForward_.end();
    }

private:
    void restoreForward()
    {
        const auto& targets = model_.quantTargets();
        for (std::size_t i = 0; i < targets.size(); ++i)
            targets[i].weight->useQuantized = quantizedForward_[i];
    }

    Model& model_;
    std::vector<Tensor> buffers_;
    std::vector<bool> quantizedForward_;
};

} // namespace

Evaluation Trainer::evaluate()
{
    const auto start = Clock::now();
    // Training's BatchNorm running statistics belong to the weights training multiplies by:
    // float in the search phase, q(w) under the straight-through estimator. Each accuracy is
    // measured with statistics that match its weights (SPEC §1), then the training ones return.
    ScopedModelState state(*model_);
    Evaluation e;
    method_->setQuantizedForward(false);
    if (state.trainedOnQuantized())
        recalibrateBatchNorm();
    e.floatAccuracy = accuracyOn(data_->test, &e.floatLoss);
    state.restoreStatistics();

    method_->setQuantizedForward(true);
    recalibrateBatchNorm();
    e.quantizedAccuracy = accuracyOn(data_->test, &e.quantizedLoss);

    lastEvaluation_ = e;
    evalSeconds_ += secondsSince(start);
    return e;
}

void Trainer::withQuantizedModel(const std::function<void(const Model&)>& use)
{
    // The same steps as evaluate()'s quantized half; recalibration draws its batches from a fixed
    // seed, so the statistics come out identical to the ones that accuracy was measured with.
    ScopedModelState state(*model_);
    method_->setQuantizedForward(true);
    recalibrateBatchNorm();
    use(*model_);
}

std::shared_ptr<const Snapshot> Trainer::makeSnapshot(bool paused)
{
    auto s = std::make_shared<Snapshot>();
    s->mode = method_->name();
    s->step = step_;
    s->epochs = config_.epochs;
    s->batchesPerEpoch = batchesPerEpoch_;
    s->totalSteps = static_cast<std::int64_t>(batchesPerEpoch_) * config_.epochs;
    s->finished = finished_;
    s->epoch = finished_ ? config_.epochs - 1 : epoch_;
    s->batchInEpoch = finished_ ? batchesPerEpoch_ : (epochStarted_ ? trainBatches_.position() : 0);
    s->epochsElapsed = finished_ ? config_.epochs : epochsElapsed();
    s->commitStartEpoch = config_.epochs - config_.resolvedCommitEpochs();
    s->phase = s->epoch >= s->commitStartEpoch ? Phase::Commit : Phase::Search;
    s->paused = paused;
    s->elapsedSeconds = trainSeconds_ + evalSeconds_;

    const std::int64_t remaining = s->totalSteps - step_;
    const double perStep = step_ ? trainSeconds_ / static_cast<double>(step_) : 0.0;
    const int evalsDone = static_cast<int>(history_.epochs.size());
    const double perEval = evalsDone ? evalSeconds_ / evalsDone : 0.0;
    s->etaSeconds = static_cast<double>(remaining) * perStep + (config_.epochs - evalsDone) * perEval;

    const Window& w = sinceSnapshot_.batches ? sinceSnapshot_ : lastWindow_;
    if (w.batches) {
        s->crossEntropy = w.crossEntropy / w.batches;
        s->regularizer = w.regularizer / w.batches;
        s->trainAccuracy = static_cast<double>(w.correct) / static_cast<double>(w.images);
        s->imagesPerSecond = w.seconds > 0.0 ? static_cast<double>(w.images) / w.seconds : 0.0;
    }
    s->lambda = lambda_;
    s->gamma = gamma_;
    s->mu = mu_;
    s->learningRate = lr_;
    s->lastEvaluation = lastEvaluation_;
    s->evaluatedEpochs = static_cast<int>(history_.epochs.size());
    s->events = history_.events;

    const auto states = method_->layerStates();
    s->memory = memoryReport(*model_, states);
    const auto& targets = model_->quantTargets();
    for (std::size_t i = 0; i < states.size(); ++i)
        s->layers.push_back(
            {states[i], weightHistogram(targets[i].weight->param.value, states[i].alpha, config_.histogramBins)});
    return s;
}

void Trainer::publishSnapshot(bool paused)
{
    if (sinceSnapshot_.batches)
        lastWindow_ = sinceSnapshot_;
    auto snapshot = makeSnapshot(paused);
    sinceSnapshot_ = Window{};
    lastSnapshotTime_ = Clock::now();
    if (snapshotSink_)
        snapshotSink_(std::move(snapshot));
}

// --- State capture, restore and divergence ---

DataFingerprint Trainer::fingerprint() const
{
    const Dataset& train = data_->train;
    DataFingerprint f;
    f.trainCount = train.count;
    f.testCount = data_->test.count;
    f.sampleShape = train.sampleShape();
    f.classes = train.classes;
    f.labelsCrc = crc32Of(reinterpret_cast<const char*>(train.labels.data()), train.labels.size());
    return f;
}

void Trainer::captureInto(TrainerState& s, bool history)
{
    const auto copy = [](std::vector<Tensor>& out, const auto& tensors, auto value) {
        out.resize(tensors.size());
        for (std::size_t i = 0; i < tensors.size(); ++i)
            out[i] = value(tensors[i]); // reuses out[i]'s buffer
    };
    copy(s.params, model_->params(), [](const Param* p) -> const Tensor& { return p->value; });
    copy(s.buffers, model_->buffers(), [](const Tensor* t) -> const Tensor& { return *t; });
    copy(s.optimizer, optimizer_->stateTensors(), [](const Tensor* t) -> const Tensor& { return *t; });
    s.optimizerSteps = optimizer_->steps();
    BinaryWriter method("method state");
    method_->saveState(method);
    s.method = std::move(method.out());

    s.step = step_;
    s.epoch = epoch_;
    s.epochStarted = epochStarted_;
    s.batchInEpoch = epochStarted_ ? trainBatches_.position() : 0;
    s.finished = finished_;
    s.lambda = {lambda_, lambdaOverridden_};
    s.gamma = {gamma_, gammaOverridden_};
    s.mu = {mu_, muOverridden_};
    s.learningRate = {lr_, lrOverridden_};
    s.sinceRecord = sinceRecord_;
    s.thisEpoch = thisEpoch_;
    s.trainSeconds = trainSeconds_;
    s.evalSeconds = evalSeconds_;
    if (history) {
        s.config = config_;
        s.data = dataFingerprint_;
        s.history = history_;
    }
}

TrainerState Trainer::captureState()
{
    TrainerState s;
    captureInto(s, true);
    return s;
}

namespace {

void checkTensors(const char* what, const std::vector<Tensor>& saved, const std::vector<const Tensor*>& live)
{
    if (saved.size() != live.size())
        throw Error(std::string("the saved state has ") + std::to_string(saved.size()) + " " + what + ", the model "
                    + std::to_string(live.size()));
    for (std::size_t i = 0; i < saved.size(); ++i)
        if (saved[i].shape() != live[i]->shape())
            throw Error(std::string(what) + " " + std::to_string(i + 1) + " has shape " + saved[i].shapeString()
                        + " in the saved state and " + live[i]->shapeString() + " in the model");
}

template <typename T>
std::vector<const Tensor*> tensorsOf(const std::vector<T*>& items)
{
    std::vector<const Tensor*> out;
    for (T* item : items) {
        if constexpr (std::is_same_v<T, Param>)
            out.push_back(&item->value);
        else
            out.push_back(item);
    }
    return out;
}

bool allFinite(const std::vector<Tensor>& tensors)
{
    for (const Tensor& t : tensors)
        if (!t.vec().allFinite())
            return false;
    return true;
}

} // namespace

void Trainer::restoreState(const TrainerState& s)
{
    // Everything is checked first; the assignments after the method's loadState cannot fail.
    const TrainConfig& c = s.config;
    if (c.sq.mode != config_.sq.mode || c.model != config_.model || c.arch != config_.arch || c.seed != config_.seed
        || c.batchSize != config_.batchSize || c.optimizer.kind != config_.optimizer.kind)
        throw Error("the saved state belongs to other settings (mode, model, seed, batch size or optimizer): "
                    "build the trainer from the state's settings");
    const DataFingerprint& d = s.data;
    const DataFingerprint& here = dataFingerprint_;
    if (d.trainCount != here.trainCount || d.testCount != here.testCount || d.sampleShape != here.sampleShape
        || d.classes != here.classes)
        throw Error("the saved state was trained on " + std::to_string(d.trainCount) + " training and "
                    + std::to_string(d.testCount) + " test images of " + shapeString(d.sampleShape) + " in "
                    + std::to_string(d.classes) + " classes; this dataset has " + std::to_string(here.trainCount)
                    + " and " + std::to_string(here.testCount) + " of " + shapeString(here.sampleShape) + " in "
                    + std::to_string(here.classes));
    if (d.labelsCrc != here.labelsCrc)
        throw Error("the saved state was trained on other training labels (CRC-32 differs): not the same dataset");
    checkTensors("parameter tensors", s.params, tensorsOf(model_->params()));
    checkTensors("buffers", s.buffers, tensorsOf(model_->buffers()));
    checkTensors("optimizer tensors", s.optimizer, tensorsOf(optimizer_->stateTensors()));
    if (s.step < 0 || s.optimizerSteps < 0 || s.epoch < 0 || s.epoch > config_.epochs || s.batchInEpoch < 0
        || s.batchInEpoch > batchesPerEpoch_ || (s.epochStarted && s.epoch >= config_.epochs))
        throw Error("the saved progress (epoch " + std::to_string(s.epoch + 1) + ", batch "
                    + std::to_string(s.batchInEpoch) + ") does not fit a run of " + std::to_string(config_.epochs)
                    + " epochs of " + std::to_string(batchesPerEpoch_) + " batches");
    BinaryReader method(s.method, 0, s.method.size(), "method state");
    method_->loadState(method);
    if (!method.atEnd())
        method.fail(std::to_string(method.left()) + " bytes left over");
    applyState(s, true);
    haveGoodState_ = false; // the next step keeps this state as the good one
    haveHealthyState_ = false;
}

void Trainer::applyState(const TrainerState& s, bool history)
{
    const auto params = model_->params();
    for (std::size_t i = 0; i < params.size(); ++i)
        params[i]->value = s.params[i];
    const auto buffers = model_->buffers();
    for (std::size_t i = 0; i < buffers.size(); ++i)
        *buffers[i] = s.buffers[i];
    const auto optimizer = optimizer_->stateTensors();
    for (std::size_t i = 0; i < optimizer.size(); ++i)
        *optimizer[i] = s.optimizer[i];
    optimizer_->setSteps(s.optimizerSteps);

    step_ = s.step;
    epoch_ = s.epoch;
    epochStarted_ = s.epochStarted;
    finished_ = epoch_ >= config_.epochs;
    if (epochStarted_) {
        trainBatches_.startEpoch(epoch_);
        trainBatches_.seek(s.batchInEpoch);
    }
    lambda_ = s.lambda.value;
    lambdaOverridden_ = s.lambda.overridden;
    gamma_ = s.gamma.value;
    gammaOverridden_ = s.gamma.overridden;
    mu_ = s.mu.value;
    muOverridden_ = s.mu.overridden;
    lr_ = s.learningRate.value;
    lrOverridden_ = s.learningRate.overridden;
    sinceRecord_ = s.sinceRecord;
    thisEpoch_ = s.thisEpoch;
    trainSeconds_ = s.trainSeconds;
    evalSeconds_ = s.evalSeconds;
    if (history) {
        history_ = s.history;
    } else {
        history_.steps.resize(goodHistory_.steps);
        history_.epochs.resize(goodHistory_.epochs);
        history_.events.resize(goodHistory_.events);
    }
    lastEvaluation_.reset();
    if (!history_.epochs.empty())
        lastEvaluation_ = history_.epochs.back().evaluation;
    sinceSnapshot_ = Window{};
    lastWindow_ = Window{};
    lastSnapshotTime_ = Clock::now();
}

Trainer::HistorySizes Trainer::historySizes() const
{
    return {history_.steps.size(), history_.epochs.size(), history_.events.size()};
}

void Trainer::keepHealthyState()
{
    captureInto(healthyState_, false);
    healthyHistory_ = historySizes();
    haveHealthyState_ = true;
}

void Trainer::keepGoodState()
{
    // A healthy run's cross-entropy stays near or below chance level, ln(classes); a mean of three
    // times that since the last capture means the weights are already blowing up (lr = 100 takes
    // them to a loss of 1e28 while still finite): keep the older state then.
    const double saneLoss = 3.0 * std::log(std::max(2, data_->train.classes));
    const bool sane = batchesSinceCapture_ == 0 || lossSinceCapture_ / batchesSinceCapture_ <= saneLoss;
    lossSinceCapture_ = 0.0;
    batchesSinceCapture_ = 0;
    if (haveGoodState_ && !sane)
        return;
    captureInto(spare_, false);
    bool finite = allFinite(spare_.params) && allFinite(spare_.buffers) && allFinite(spare_.optimizer);
    for (const OptimParam& p : method_->params())
        finite = finite && p.param->value.vec().allFinite();
    if (haveGoodState_ && !finite)
        return; // keep the older state: this one is already poisoned
    std::swap(goodState_, spare_);
    goodHistory_ = historySizes();
    haveGoodState_ = true;
}

DivergenceContext Trainer::failureContext(Failure failure, const char* quantity, double value) const
{
    // Hyperparameters in effect now (a live change stays: the user lowers it and resumes).
    const TrainConfig defaults;
    const bool sqFamily = isSqFamily(config_.sq.mode) && config_.sq.mode != QuantMode::Float;
    const double usualLr = config_.optimizer.kind == OptimizerKind::Sgd ? 0.1 : defaults.learningRate;
    DivergenceContext c;
    c.failure = failure;
    // A window is judged after its last step was taken, possibly the step that ended the epoch.
    c.step = failure == Failure::NonFinite ? step_ + 1 : step_;
    c.epoch = failure == Failure::NonFinite || epochStarted_ ? epoch_ + 1 : epoch_;
    c.batch = trainBatches_.position();
    c.quantity = quantity;
    c.value = value;
    c.restoredStep = goodState_.step;
    c.knobs = {{"lr", "--lr", lr_, usualLr, true},
               {"lambda", "--lambda", lambda_, defaults.lambda, sqFamily},
               {"gamma", "--gamma", gamma_, 10 * defaults.gamma, sqFamily},
               {"mu", "--mu", mu_, defaults.mu, config_.sq.mode == QuantMode::Cpq}};
    c.events = history_.events;
    c.recentSteps = std::max<std::int64_t>(2 * config_.goodStateEveryBatches, 100);
    return c;
}

bool Trainer::failedOverWindow(double loss, int correct, int images)
{
    const int classes = std::max(2, data_->train.classes);
    blowUpWindow_.add(loss, 0.0, correct, images, 0.0);
    if (blowUpWindow_.batches >= config_.blowUpWindow) {
        const double mean = blowUpWindow_.crossEntropy / blowUpWindow_.batches;
        const double chance = std::log(static_cast<double>(classes));
        blowUpWindow_ = TrainingWindow{};
        if (mean > 10.0 * chance) {
            DivergenceContext c = failureContext(Failure::BlowUp, "loss", mean);
            c.reference = chance;
            c.windowBatches = config_.blowUpWindow;
            fail(c);
            return true;
        }
    }
    if (config_.collapseWindow <= 0)
        return false;
    collapseWindow_.add(loss, 0.0, correct, images, 0.0);
    if (collapseWindow_.batches < config_.collapseWindow)
        return false;
    const double accuracy = static_cast<double>(collapseWindow_.correct) / static_cast<double>(collapseWindow_.images);
    collapseWindow_ = TrainingWindow{};
    const double chance = 1.0 / classes;
    if (accuracy > 1.25 * chance) {
        keepHealthyState();
        return false;
    }
    // The good state of a few batches ago is as collapsed as now: back to the state that ended
    // the last window above chance (or the run's first).
    std::swap(goodState_, healthyState_);
    std::swap(goodHistory_, healthyHistory_);
    haveHealthyState_ = false;
    DivergenceContext c = failureContext(Failure::Collapse, "training accuracy", accuracy);
    c.reference = chance;
    c.windowBatches = config_.collapseWindow;
    fail(c);
    return true;
}

void Trainer::fail(const DivergenceContext& context)
{
    lastDivergence_ = diagnoseDivergence(context);
    ++divergences_;
    blowUpWindow_ = TrainingWindow{};
    collapseWindow_ = TrainingWindow{};

    // Back to the last good state, keeping the live values the user set since (recorded as
    // changes at the restored step, so the history says which values the replay runs with).
    const LiveValue live[] = {{lambda_, lambdaOverridden_}, {gamma_, gammaOverridden_}, {mu_, muOverridden_},
                              {lr_, lrOverridden_}};
    BinaryReader method(goodState_.method, 0, goodState_.method.size(), "method state");
    method_->loadState(method);
    applyState(goodState_, false);
    const LiveValue saved[] = {goodState_.lambda, goodState_.gamma, goodState_.mu, goodState_.learningRate};
    const char* names[] = {"lambda", "gamma", "mu", "lr"};
    double* values[] = {&lambda_, &gamma_, &mu_, &lr_};
    bool* overridden[] = {&lambdaOverridden_, &gammaOverridden_, &muOverridden_, &lrOverridden_};
    for (int i = 0; i < 4; ++i) {
        if (live[i].overridden && live[i].value != saved[i].value)
            history_.events.push_back({step_, epochsElapsed(), names[i], saved[i].value, live[i].value});
        *values[i] = live[i].value;
        *overridden[i] = live[i].overridden;
    }
    controls_->pause();
}

void extendEpochs(TrainerState& state, int epochs)
{
    TrainConfig& c = state.config;
    const int trained = state.epoch + (state.epochStarted ? 1 : 0);
    if (epochs < std::max(trained, 1))
        throw Error("--epochs: the session has already trained " + std::to_string(trained) + " epochs; give "
                    + std::to_string(std::max(trained, 1)) + " or more");
    const int commitStart = c.epochs - c.resolvedCommitEpochs();
    const bool commitStarted = state.epoch >= commitStart && (state.epochStarted || state.epoch > commitStart);
    // A commit phase still ahead must not start before the epochs already begun.
    c.commitEpochs = commitStarted ? epochs - commitStart : std::min(c.resolvedCommitEpochs(), epochs - trained);
    c.epochs = epochs;
    state.finished = state.epoch >= epochs;
}

} // namespace sq
