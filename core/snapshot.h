// The immutable picture of a training run that the trainer hands to views, CLI and tests.
#pragma once

#include "core/history_events.h"
#include "core/quant/quant_method.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sq {

enum class Phase { Search, Commit };
inline const char* toString(Phase phase) { return phase == Phase::Search ? "search" : "commit"; }

// Counts of a layer's weights in `counts.size()` equal bins over [lo, hi].
struct Histogram {
    float lo = 0.0f;
    float hi = 0.0f;
    std::vector<float> counts;
};

struct LayerSnapshot {
    LayerQuantState state;
    Histogram histogram;
};

// Accuracies on the test split (fractions in [0, 1]).
struct Evaluation {
    double floatAccuracy = 0.0;     // float weights, float BatchNorm statistics
    double quantizedAccuracy = 0.0; // q(w), BatchNorm statistics re-estimated under q(w)
    double floatLoss = 0.0;
    double quantizedLoss = 0.0;
};

// Storage of the model under the current decisions.
struct MemoryReport {
    std::uint64_t weightBits = 0;      // quantizable weights only, at their decided depth
    std::uint64_t floatWeightBits = 0; // the same weights in float32
    std::uint64_t modelBits = 0;       // + one float32 scale per quantized layer + every other float param/stat
    std::uint64_t floatModelBits = 0;  // the whole model in float32
    double compression() const { return modelBits ? static_cast<double>(floatModelBits) / modelBits : 1.0; }
    double weightCompression() const
    {
        return weightBits ? static_cast<double>(floatWeightBits) / weightBits : 1.0;
    }
};

struct Snapshot {
    std::string mode;
    std::int64_t step = 0;       // optimizer steps taken
    std::int64_t totalSteps = 0;
    int epoch = 0;               // 0-based epoch of the last step
    int epochs = 0;
    int batchInEpoch = 0;        // batches done in the current epoch
    int batchesPerEpoch = 0;
    double epochsElapsed = 0.0;  // the time axis of every live plot (fractional epochs)
    Phase phase = Phase::Search;
    int commitStartEpoch = 0;    // epochs before the commit phase begins (== epochs: no commit)
    bool finished = false;
    bool paused = false;

    double elapsedSeconds = 0.0; // training time (pauses excluded)
    double etaSeconds = 0.0;
    double imagesPerSecond = 0.0;

    // Means over the batches since the previous snapshot.
    double crossEntropy = 0.0;
    double regularizer = 0.0;    // lambda * sum_l R_l
    double trainAccuracy = 0.0;

    double lambda = 0.0;
    double gamma = 0.0;
    double mu = 0.0; // CPQ's memory pressure
    double learningRate = 0.0;

    std::optional<Evaluation> lastEvaluation;
    int evaluatedEpochs = 0;     // epochs whose evaluation has happened (lastEvaluation is the latest)
    std::vector<ControlEvent> events; // every live change so far, for marking the time plots
    MemoryReport memory;
    std::vector<LayerSnapshot> layers;
};

} // namespace sq
