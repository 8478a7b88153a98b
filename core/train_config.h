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

    int resolvedCommitEpochs() const;
    int resolvedThreads() const;
    // Throws sq::Error naming the parameter as its command-line flag, e.g. "--lr: must be > 0".
    void validate() const;
};

} // namespace sq
