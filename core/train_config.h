// Everything that defines a training run, with validation that names the offending parameter.
#pragma once

#include "core/data/dataset.h"
#include "core/optimizer.h"
#include "core/quant/cpq_method.h"
#include "core/quant/sq_method.h"
#include "core/quant/uniq_method.h"
#include "core/schedule.h"

#include <cstdint>
#include <string>

namespace sq {

struct TrainConfig {
    // Data
    std::string datasetDir; // empty: defaultDatasetDir() (Fashion-MNIST)
    DatasetKind datasetKind = DatasetKind::Auto;
    int trainLimit = 0; // 0: the whole split
    int testLimit = 0;

    // Model: a preset name, or an architecture text that overrides it
    std::string model = "mlp";
    std::string arch;

    // Quantization (SPEC §1); sq.mode picks the method and sq.keepFloat applies to every method
    SqSettings sq;
    double lambda = 1.0;
    double gamma = 3e-3;
    LambdaSchedule lambdaSchedule;
    UniqSettings uniq; // SPEC §2.1
    CpqSettings cpq;   // SPEC §2.2 (its seed is the run's)
    double mu = kCpqMuDefault; // CPQ's memory pressure, live-adjustable like gamma

    // Optimization
    OptimizerSettings optimizer;
    double learningRate = 1e-3;
    LrSchedule lrSchedule;
    int batchSize = 128;
    int epochs = 10;
    int commitEpochs = -1; // -1: 30% of the epochs, at least 1
    std::uint64_t seed = 0;
    int threads = 0; // 0: every core

    // Evaluation and reporting
    int recalibrationImages = 4096; // training images used to re-estimate BatchNorm under q(w)
    int evalBatchSize = 500;
    int historyEveryBatches = 20; // a history row every N batches (deterministic)
    // Snapshots for live views: every N batches or T milliseconds, whichever comes first.
    int snapshotEveryBatches = 100;
    int snapshotEveryMs = 200;
    int histogramBins = 64;
    // Divergence: every N batches the trainer keeps an in-memory copy of its state to return to
    // when the loss turns NaN or infinite. A copy costs about 0.2 ms for mlp with Adam (3.2 MB),
    // a ninth of a 1.8 ms step on two threads: about 0.5% of training time at 25.
    int goodStateEveryBatches = 25;
    // Failures with finite numbers (core/divergence.h), judged over windows of batches: a mean
    // cross-entropy above 10 ln(classes) over blowUpWindow batches diverges; a training accuracy
    // within 25% of chance over collapseWindow batches is a collapse (0: never, for deliberate
    // experiments on unlearnable labels). A healthy Fashion-MNIST run is above 70% after 200.
    int blowUpWindow = 10;
    int collapseWindow = 200;

    int resolvedCommitEpochs() const;
    int resolvedThreads() const;
    // Throws sq::Error naming the parameter as its command-line flag, e.g. "--lr: must be > 0".
    void validate() const;
};

} // namespace sq
