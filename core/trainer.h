// The training engine: runs SQ training batch by batch, pulls live controls at batch boundaries,
// evaluates float and quantized accuracy, keeps the run history and publishes snapshots.
#pragma once

#include "core/controls.h"
#include "core/data/batch_iterator.h"
#include "core/data/dataset.h"
#include "core/history.h"
#include "core/model.h"
#include "core/optimizer.h"
#include "core/quant/quant_method.h"
#include "core/snapshot.h"
#include "core/train_config.h"

#include <chrono>
#include <functional>
#include <memory>

namespace sq {

class Trainer {
public:
    using SnapshotSink = std::function<void(std::shared_ptr<const Snapshot>)>;
    using EpochSink = std::function<void(const EpochRecord&)>;

    // Builds and initialises the model from the config (validated here), seeded by config.seed.
    Trainer(TrainConfig config, std::shared_ptr<const DatasetSplits> data,
            std::shared_ptr<Controls> controls = std::make_shared<Controls>());

    // Called on the training thread at the snapshot cadence and after each epoch and at the end.
    void setSnapshotSink(SnapshotSink sink) { snapshotSink_ = std::move(sink); }
    // Called on the training thread after each epoch's evaluation.
    void setEpochSink(EpochSink sink) { epochSink_ = std::move(sink); }

    // One mini-batch (and, after an epoch's last batch, the evaluation). False once finished.
    bool step();
    // The rest of the current epoch, unless stopped or finished first.
    void runEpoch();
    // Until finished or stopped; blocks while paused.
    void run();

    bool finished() const { return finished_; }
    Evaluation evaluate();
    // Calls `use` with the model as evaluate() measures its quantized accuracy: q(w) in the forward
    // pass and BatchNorm statistics re-estimated under it; then restores the training state.
    // For exports: what `use` sees is exactly the model whose quantized accuracy the run reported.
    void withQuantizedModel(const std::function<void(const Model&)>& use);
    // paused: the caller is about to wait for a resume (the snapshot says so to the views).
    std::shared_ptr<const Snapshot> makeSnapshot(bool paused = false);

    const TrainConfig& config() const { return config_; }
    const RunHistory& history() const { return history_; }
    Model& model() { return *model_; }
    const Model& model() const { return *model_; }
    QuantMethod& method() { return *method_; }
    Controls& controls() { return *controls_; }

    int epoch() const { return epoch_; }
    std::int64_t stepCount() const { return step_; }
    int batchesPerEpoch() const { return batchesPerEpoch_; }
    Phase phase() const;
    double lambda() const { return lambda_; }
    double gamma() const { return gamma_; }
    double mu() const { return mu_; }
    double learningRate() const { return lr_; }

private:
    void beginEpoch();
    void endEpoch();
    void pullControls();
    void pullKnob(Controls::Knob& knob, std::uint64_t& seen, bool& overridden, const char* name, double& current,
                  bool positive);
    double epochsElapsed() const;
    double accuracyOn(const Dataset& data, double* loss);
    void recalibrateBatchNorm();
    void recordStep();
    void publishSnapshot(bool paused = false);

    TrainConfig config_;
    std::shared_ptr<const DatasetSplits> data_;
    std::shared_ptr<Controls> controls_;
    std::unique_ptr<Model> model_;
    std::unique_ptr<QuantMethod> method_;
    std::unique_ptr<Optimizer> optimizer_;
    BatchIterator trainBatches_;

    SnapshotSink snapshotSink_;
    EpochSink epochSink_;
    RunHistory history_;
    std::optional<Evaluation> lastEvaluation_;

    Tensor images_;
    std::vector<int> labels_;
    Tensor gradLogits_;

    int epoch_ = 0;
    int batchesPerEpoch_ = 0;
    std::int64_t step_ = 0;
    bool epochStarted_ = false;
    bool finished_ = false;

    // Live values and whether the user has overridden their schedules.
    double lambda_ = 0.0;
    double gamma_ = 0.0;
    double mu_ = 0.0;
    double lr_ = 0.0;
    std::uint64_t lambdaSeen_ = 0;
    std::uint64_t gammaSeen_ = 0;
    std::uint64_t muSeen_ = 0;
    std::uint64_t lrSeen_ = 0;
    bool lambdaOverridden_ = false;
    bool gammaOverridden_ = false;
    bool muOverridden_ = false;
    bool lrOverridden_ = false;

    // Accumulators since the last snapshot and over the current epoch.
    struct Window {
        double crossEntropy = 0.0;
        double regularizer = 0.0;
        std::int64_t correct = 0;
        std::int64_t images = 0;
        int batches = 0;
        double seconds = 0.0;
        void add(double ce, double reg, int right, int count, double secs)
        {
            crossEntropy += ce;
            regularizer += reg;
            correct += right;
            images += count;
            ++batches;
            seconds += secs;
        }
    };
    // Snapshots follow wall time too; history records follow the batch count only, so that the
    // history of a seeded run is reproducible.
    Window sinceSnapshot_;
    Window sinceRecord_;
    Window thisEpoch_;
    Window lastWindow_; // the window the latest snapshot reported
    double trainSeconds_ = 0.0;
    double evalSeconds_ = 0.0;
    std::chrono::steady_clock::time_point lastSnapshotTime_;
};

} // namespace sq
