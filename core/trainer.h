// The training engine: runs SQ training batch by batch, pulls live controls at batch boundaries,
// evaluates float and quantized accuracy, keeps the run history and publishes snapshots.
#pragma once

#include "core/controls.h"
#include "core/data/batch_iterator.h"
#include "core/data/dataset.h"
#include "core/divergence.h"
#include "core/history.h"
#include "core/model.h"
#include "core/optimizer.h"
#include "core/quant/quant_method.h"
#include "core/snapshot.h"
#include "core/train_config.h"
#include "core/trainer_state.h"

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

    // One mini-batch (and, after an epoch's last batch, the evaluation). False once finished, and
    // when training failed (core/divergence.h): a NaN or infinite loss or regularizer is caught
    // before it reaches the weights, and a loss far above chance level ends its window; the last
    // good state comes back (see lastDivergence()) and the controls pause. A collapse to chance
    // accuracy goes back to the state that ended the last window above chance.
    bool step();
    // The rest of the current epoch, unless stopped, finished or diverged first.
    void runEpoch();
    // Until finished or stopped; blocks while paused.
    void run();

    bool finished() const { return finished_; }

    // Everything needed to continue this run exactly (core/trainer_state.h). Not const: the
    // optimizer hands out its buffers only mutable.
    TrainerState captureState();
    // Continues from `state` as if this trainer had made it: the trainer must have been built from
    // state.config (its epochs may differ: see extendEpochs) on the same data. Everything is
    // checked before anything changes: a mismatch is an sq::Error and leaves the trainer as it was.
    // Live controls changed after the trainer was built still apply at the next batch.
    void restoreState(const TrainerState& state);

    // The latest divergence (empty if none) and how many there were in this trainer's life.
    const std::optional<DivergenceReport>& lastDivergence() const { return lastDivergence_; }
    int divergences() const { return divergences_; }
    // The steps the state kept for a divergence had taken (it is refreshed every
    // config.goodStateEveryBatches batches, when its weights are all finite).
    std::int64_t goodStateStep() const { return goodState_.step; }

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
    DataFingerprint fingerprint() const;
    // Copies the state into spare_ and swaps it in as goodState_ when every value is finite.
    void keepGoodState();
    // Copies the state into healthyState_: at the start and after each collapse window above chance.
    void keepHealthyState();
    // The diagnosis's view of a failure now: where, the live knobs and their changes.
    DivergenceContext failureContext(Failure failure, const char* quantity, double value) const;
    // Reports the failure, goes back to the last good state (not for a collapse) and pauses.
    void fail(const DivergenceContext& context);
    // Judges the blow-up and collapse windows after a batch; true (and paused) when one failed.
    bool failedOverWindow(double loss, int correct, int images);
    // Replaces the trainer's state; with history = false the history is truncated to the sizes
    // goodHistory_ recorded instead of replaced.
    void applyState(const TrainerState& state, bool history);
    void captureInto(TrainerState& state, bool history);
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
    using Window = TrainingWindow;
    // Snapshots follow wall time too; history records follow the batch count only, so that the
    // history of a seeded run is reproducible.
    Window sinceSnapshot_;
    Window sinceRecord_;
    Window thisEpoch_;
    Window lastWindow_; // the window the latest snapshot reported
    double trainSeconds_ = 0.0;
    double evalSeconds_ = 0.0;
    std::chrono::steady_clock::time_point lastSnapshotTime_;

    // Divergence: the last state whose values were all finite (without its history, which only
    // grows: the row counts at that moment suffice), and a spare to capture into.
    struct HistorySizes {
        std::size_t steps = 0;
        std::size_t epochs = 0;
        std::size_t events = 0;
    };
    DataFingerprint dataFingerprint_;
    TrainerState goodState_;
    TrainerState spare_;
    HistorySizes goodHistory_;
    HistorySizes historySizes() const; // the row counts now
    bool haveGoodState_ = false;
    // Cross-entropy since the last good-state capture: finite but exploding weights (the steps
    // just before a NaN) are not a state worth going back to.
    double lossSinceCapture_ = 0.0;
    int batchesSinceCapture_ = 0;
    std::optional<DivergenceReport> lastDivergence_;
    int divergences_ = 0;
    // The windows failedOverWindow() judges, started afresh after a failure, and the state a
    // collapse returns to. Not part of a session: a resumed run starts them again.
    TrainingWindow blowUpWindow_;
    TrainingWindow collapseWindow_;
    TrainerState healthyState_;
    HistorySizes healthyHistory_;
    bool haveHealthyState_ = false;
};

// Lengthens (or shortens, down to the epochs already trained) the run `state` continues: the
// new total of epochs. A commit phase already under way keeps its start; one still ahead keeps
// its length and moves to the new end. Throws sq::Error naming --epochs.
void extendEpochs(TrainerState& state, int epochs);

} // namespace sq
