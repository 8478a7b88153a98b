// The run history kept in memory: a row per snapshot, a row per epoch, and every live change.
#pragma once

#include "core/history_events.h"
#include "core/snapshot.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sq {

struct StepRecord {
    std::int64_t step = 0;
    double epochsElapsed = 0.0;
    double seconds = 0.0;
    Phase phase = Phase::Search;
    double crossEntropy = 0.0;
    double regularizer = 0.0;
    double trainAccuracy = 0.0;
    double lambda = 0.0;
    double gamma = 0.0;
    double mu = 0.0; // CPQ's memory pressure
    double learningRate = 0.0;
    double imagesPerSecond = 0.0;
    std::vector<float> alpha; // per quantizable layer
    std::vector<float> beta;
};

struct EpochRecord {
    int epoch = 0; // 1-based: the epoch just completed
    std::int64_t step = 0;
    Phase phase = Phase::Search;
    double seconds = 0.0; // training time since the start of the run
    double learningRate = 0.0;
    double lambda = 0.0;
    double gamma = 0.0;
    double mu = 0.0; // CPQ's memory pressure
    double trainCrossEntropy = 0.0;
    double trainRegularizer = 0.0;
    double trainAccuracy = 0.0;
    double imagesPerSecond = 0.0;
    Evaluation evaluation;
    MemoryReport memory;
    std::vector<LayerQuantState> layers;
};

struct RunHistory {
    std::vector<StepRecord> steps;
    std::vector<EpochRecord> epochs;
    std::vector<ControlEvent> events;
};

} // namespace sq
