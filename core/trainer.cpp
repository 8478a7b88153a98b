#include "core/trainer.h"

#include "core/architecture.h"
#include "core/error.h"
#include "core/layers/batchnorm.h"
#include "core/loss.h"
#include "core/model_stats.h"
#include "core/parallel.h"
#include "core/quant/method_factory.h"

#include <Eigen/Core>

#include <cmath>
#include <sstream>

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

    const auto start = Clock::now();
    trainBatches_.next(images_, labels_);
    method_->beginStep();
    const Tensor& logits = model_->forward(images_, Pass::Train);
    const LossResult loss = softmaxCrossEntropy(logits, labels_, gradLogits_);
    if (!std::isfinite(loss.loss)) {
        std::ostringstream msg;
        msg << "training diverged at epoch " << epoch_ + 1 << ", batch " << trainBatches_.position()
            << ": the loss is not finite; lower --lr (now " << lr_ << ") or --lambda (now " << lambda_ << ")";
        throw Error(msg.str());
    }
    model_->backward(images_, gradLogits_);
    const double reg = method_->endStep({lambda_, gamma_, mu_});
    optimizer_->step(static_cast<float>(lr_));
    method_->afterOptimizerStep();
    ++step_;
    const double seconds = secondsSince(start);
    trainSeconds_ += seconds;

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
    return true;
}

void Trainer::runEpoch()
{
    const int epoch = epoch_;
    while (!finished_ && epoch_ == epoch && !controls_->stopRequested())
        step();
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

Evaluation Trainer::evaluate()
{
    const auto start = Clock::now();
    // Training's BatchNorm running statistics belong to the weights training multiplies by:
    // float in the search phase, q(w) under the straight-through estimator. Each accuracy is
    // measured with statistics that match its weights (SPEC §1), then the training ones return.
    bool trainedOnQuantized = false;
    for (const auto& t : model_->quantTargets())
        trainedOnQuantized = trainedOnQuantized || t.weight->useQuantized;
    std::vector<Tensor> saved;
    for (const Tensor* t : model_->buffers())
        saved.push_back(*t);
    const auto restoreStatistics = [&] {
        const auto buffers = model_->buffers();
        for (std::size_t i = 0; i < buffers.size(); ++i)
            *buffers[i] = saved[i];
    };

    Evaluation e;
    method_->setQuantizedForward(false);
    if (trainedOnQuantized)
        recalibrateBatchNorm();
    e.floatAccuracy = accuracyOn(data_->test, &e.floatLoss);
    restoreStatistics();

    method_->setQuantizedForward(true);
    recalibrateBatchNorm();
    e.quantizedAccuracy = accuracyOn(data_->test, &e.quantizedLoss);
    restoreStatistics();
    method_->setQuantizedForward(false);

    lastEvaluation_ = e;
    evalSeconds_ += secondsSince(start);
    return e;
}

void Trainer::withQuantizedModel(const std::function<void(const Model&)>& use)
{
    // The same steps as evaluate()'s quantized half; recalibration draws its batches from a fixed
    // seed, so the statistics come out identical to the ones that accuracy was measured with.
    std::vector<Tensor> saved;
    for (const Tensor* t : model_->buffers())
        saved.push_back(*t);
    const auto restore = [&] {
        const auto buffers = model_->buffers();
        for (std::size_t i = 0; i < buffers.size(); ++i)
            *buffers[i] = saved[i];
        method_->setQuantizedForward(false);
    };
    method_->setQuantizedForward(true);
    try {
        recalibrateBatchNorm();
        use(*model_);
    } catch (...) {
        restore();
        throw;
    }
    restore();
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

} // namespace sq
