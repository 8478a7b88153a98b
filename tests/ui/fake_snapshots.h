// Hand-made snapshots for view tests: a run's worth of plausible values without training.
#pragma once

#include "core/quant/sq_regularizer.h"
#include "core/snapshot.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace sq::testing {

// Snapshot number `index` (0-based) of a 3-layer run with `perEpoch` snapshots per epoch over
// `epochs` epochs (the last one a commit epoch). Layer 0 ends ternary, layers 1-2 binary.
inline std::shared_ptr<const Snapshot> fakeSnapshot(int index, int perEpoch = 10, int epochs = 3, int bins = 48)
{
    auto s = std::make_shared<Snapshot>();
    s->mode = "sq";
    s->epochs = epochs;
    s->batchesPerEpoch = perEpoch * 10;
    s->totalSteps = static_cast<std::int64_t>(s->batchesPerEpoch) * epochs;
    s->step = static_cast<std::int64_t>(index + 1) * 10;
    s->epochsElapsed = static_cast<double>(index + 1) / perEpoch;
    s->epoch = std::min(epochs - 1, static_cast<int>(s->epochsElapsed));
    s->batchInEpoch = static_cast<int>((s->step - 1) % s->batchesPerEpoch) + 1;
    s->commitStartEpoch = epochs - 1;
    s->phase = s->epoch >= s->commitStartEpoch ? Phase::Commit : Phase::Search;
    s->finished = s->step >= s->totalSteps;
    const double t = s->epochsElapsed;
    s->elapsedSeconds = 2.0 * t;
    s->etaSeconds = 2.0 * (epochs - t);
    s->imagesPerSecond = 25000.0;
    s->crossEntropy = 0.3 + 0.7 * std::exp(-t);
    s->regularizer = 0.2 * std::exp(-0.5 * t);
    s->trainAccuracy = 0.9 - 0.3 * std::exp(-t);
    s->lambda = t < 1.5 ? 1.0 : 3.0;
    s->gamma = 3e-3;
    s->learningRate = 1e-3;
    s->evaluatedEpochs = static_cast<int>(t);
    if (s->evaluatedEpochs > 0)
        s->lastEvaluation = Evaluation{0.86 + 0.01 * s->evaluatedEpochs, 0.84 + 0.015 * s->evaluatedEpochs, 0.4, 0.45};
    if (t >= 1.5)
        s->events.push_back({static_cast<std::int64_t>(1.5 * s->batchesPerEpoch), 1.5, "lambda", 1.0, 3.0});

    const char* names[] = {"dense1", "dense2", "dense3"};
    const int sizes[] = {784 * 64, 64 * 64, 64 * 10};
    for (int l = 0; l < 3; ++l) {
        LayerSnapshot ls;
        LayerQuantState& q = ls.state;
        q.name = names[l];
        q.description = "dense";
        q.weights = static_cast<std::size_t>(sizes[l]);
        const bool ternary = l == 0;
        q.beta = static_cast<float>(ternary ? 1.19 - 0.3 * std::min(1.0, t / 2) : 1.19 + 0.3 * std::min(1.0, t / 2));
        q.decision = q.beta < kBetaSwitchDefault ? "ternary" : "binary";
        q.bits = q.decision == "ternary" ? 2 : 1;
        q.committed = s->phase == Phase::Commit;
        q.alpha = 0.05f + 0.01f * static_cast<float>(l);
        q.delta = ternary ? static_cast<float>(zeroBasinHalfWidth(q.alpha, q.beta, 2)) : 0.0f;
        q.levels = ternary ? std::vector<float>{-q.alpha, 0.0f, q.alpha} : std::vector<float>{-q.alpha, q.alpha};
        q.shareZero = ternary ? 0.3 : 0.0;
        q.shareNegative = (1.0 - q.shareZero) / 2;
        q.sharePositive = q.shareNegative;
        q.quantError = 0.05;
        // Weights drifting from a bell onto the grid: mixture of peaks at the levels, narrowing with t.
        Histogram& h = ls.histogram;
        h.lo = -2.5f * q.alpha;
        h.hi = 2.5f * q.alpha;
        h.counts.assign(static_cast<std::size_t>(bins), 0.0f);
        const double width = q.alpha * (0.6 / (1.0 + 2.0 * t) + 0.05);
        for (int b = 0; b < bins; ++b) {
            const double x = h.lo + (b + 0.5) * (h.hi - h.lo) / bins;
            double density = 0.0;
            for (float level : q.levels)
                density += std::exp(-0.5 * std::pow((x - level) / width, 2));
            h.counts[static_cast<std::size_t>(b)] = static_cast<float>(density * q.weights / bins);
        }
        s->layers.push_back(std::move(ls));
    }
    s->memory.weightBits = 784 * 64 * 2 + 64 * 64 + 640;
    s->memory.floatWeightBits = 32ull * (784 * 64 + 64 * 64 + 640);
    s->memory.modelBits = s->memory.weightBits + 32 * (3 + 64 + 64 + 10 + 256);
    s->memory.floatModelBits = s->memory.floatWeightBits + 32 * (64 + 64 + 10 + 256);
    return s;
}

// The run-wide part of a fake snapshot (time, losses, memory), shared by the UniQ and CPQ builders.
inline std::shared_ptr<Snapshot> fakeRunSnapshot(const char* mode, int index, int perEpoch, int epochs)
{
    auto s = std::make_shared<Snapshot>();
    s->mode = mode;
    s->epochs = epochs;
    s->batchesPerEpoch = perEpoch * 10;
    s->totalSteps = static_cast<std::int64_t>(s->batchesPerEpoch) * epochs;
    s->step = static_cast<std::int64_t>(index + 1) * 10;
    s->epochsElapsed = static_cast<double>(index + 1) / perEpoch;
    s->epoch = std::min(epochs - 1, static_cast<int>(s->epochsElapsed));
    s->batchInEpoch = static_cast<int>((s->step - 1) % s->batchesPerEpoch) + 1;
    s->commitStartEpoch = epochs - 1;
    s->phase = s->epoch >= s->commitStartEpoch ? Phase::Commit : Phase::Search;
    s->finished = s->step >= s->totalSteps;
    const double t = s->epochsElapsed;
    s->elapsedSeconds = 2.0 * t;
    s->etaSeconds = 2.0 * (epochs - t);
    s->imagesPerSecond = 20000.0;
    s->crossEntropy = 0.3 + 0.7 * std::exp(-t);
    s->regularizer = 0.01 * std::exp(-0.5 * t);
    s->trainAccuracy = 0.9 - 0.3 * std::exp(-t);
    s->mu = 0.05;
    s->learningRate = 1e-3;
    s->evaluatedEpochs = static_cast<int>(t);
    if (s->evaluatedEpochs > 0)
        s->lastEvaluation = Evaluation{0.86, 0.84 + 0.01 * s->evaluatedEpochs, 0.4, 0.45};
    return s;
}

// A layer's weights gathered around `levels` (and a little mass between them), tightening with t.
inline Histogram fakeClusteredHistogram(const std::vector<float>& levels, float step, std::size_t weights, double t,
                                        int bins)
{
    Histogram h;
    h.lo = levels.front() - step;
    h.hi = levels.back() + step;
    h.counts.assign(static_cast<std::size_t>(bins), 0.0f);
    const double width = step * (0.35 / (1.0 + t) + 0.08);
    for (int b = 0; b < bins; ++b) {
        const double x = h.lo + (b + 0.5) * (h.hi - h.lo) / bins;
        double density = 0.05;
        for (float level : levels)
            density += std::exp(-0.5 * std::pow((x - level) / width, 2));
        h.counts[static_cast<std::size_t>(b)] = static_cast<float>(density * weights / bins / levels.size());
    }
    return h;
}

inline void fakeMemory(Snapshot& s)
{
    std::uint64_t bits = 0;
    std::uint64_t floats = 0;
    for (const LayerSnapshot& layer : s.layers) {
        bits += static_cast<std::uint64_t>(layer.state.bits) * layer.state.weights;
        floats += 32ull * layer.state.weights;
    }
    s.memory.weightBits = bits;
    s.memory.floatWeightBits = floats;
    s.memory.modelBits = bits + 32 * (3 + 64 + 64 + 10 + 256);
    s.memory.floatModelBits = floats + 32 * (64 + 64 + 10 + 256);
}

// A UniQ run (SPEC §2.1) with the 3 layers at `bits` bits each (1, 2 and 3 by default): 2^b levels
// (k + 1/2) * Delta, no zero level.
inline std::shared_ptr<const Snapshot> fakeUniqSnapshot(int index, std::vector<int> bits = {1, 2, 3}, int perEpoch = 10,
                                                        int epochs = 3, int bins = 64)
{
    auto s = fakeRunSnapshot("uniq", index, perEpoch, epochs);
    const double t = s->epochsElapsed;
    const char* names[] = {"dense1", "dense2", "dense3"};
    const int sizes[] = {784 * 64, 64 * 64, 64 * 10};
    for (std::size_t l = 0; l < 3; ++l) {
        LayerSnapshot ls;
        LayerQuantState& q = ls.state;
        q.name = names[l];
        q.description = "dense";
        q.method = "uniq";
        q.weights = static_cast<std::size_t>(sizes[l]);
        q.bits = bits[l];
        q.decision = q.bits == 1 ? "binary" : std::to_string(q.bits) + "-bit";
        q.committed = s->phase == Phase::Commit;
        q.step = static_cast<float>(0.08 / (1 << (q.bits - 1)) * (1.0 + 0.1 * std::exp(-t)));
        const int count = 1 << q.bits;
        for (int k = -count / 2; k < count / 2; ++k)
            q.levels.push_back((static_cast<float>(k) + 0.5f) * q.step);
        q.alpha = q.levels.back();
        q.levelShares.assign(q.levels.size(), 1.0 / static_cast<double>(count));
        q.shareNegative = 0.5;
        q.sharePositive = 0.5;
        q.quantError = 0.02 + 0.05 * std::exp(-t);
        ls.histogram = fakeClusteredHistogram(q.levels, q.step, q.weights, t, bins);
        s->layers.push_back(std::move(ls));
    }
    fakeMemory(*s);
    return s;
}

// A CPQ (DropBits) run (SPEC §2.2) with B = maxBits: dense1 keeps 3 bits, dense2 falls to ternary
// (2 bits) and dense3 keeps all B, with keep probabilities of groups 3..B drifting apart over time.
inline std::shared_ptr<const Snapshot> fakeCpqSnapshot(int index, int maxBits = 4, int perEpoch = 10, int epochs = 3,
                                                       int bins = 64)
{
    auto s = fakeRunSnapshot("cpq", index, perEpoch, epochs);
    const double t = s->epochsElapsed;
    const double drift = std::min(1.0, t / 2.0);
    const char* names[] = {"dense1", "dense2", "dense3"};
    const int sizes[] = {784 * 64, 64 * 64, 64 * 10};
    const int keptBits[] = {std::min(3, maxBits), 2, maxBits};
    for (std::size_t l = 0; l < 3; ++l) {
        LayerSnapshot ls;
        LayerQuantState& q = ls.state;
        q.name = names[l];
        q.description = "dense";
        q.method = "cpq";
        q.weights = static_cast<std::size_t>(sizes[l]);
        q.maxBits = maxBits;
        for (int j = 3; j <= maxBits; ++j) {
            const bool kept = j <= keptBits[l];
            q.keepProbability.push_back(static_cast<float>(0.88 + (kept ? 0.08 : -0.7) * drift));
        }
        q.bits = keptBits[l];
        q.decision = q.bits == 2 ? "ternary" : std::to_string(q.bits) + "-bit";
        q.committed = s->phase == Phase::Commit;
        q.step = static_cast<float>(0.02 * (1.0 + 0.1 * std::exp(-t)));
        const int maxLevel = (1 << (q.bits - 1)) - 1;
        const int fullLevel = (1 << (maxBits - 1)) - 1;
        for (int k = -fullLevel; k <= fullLevel; ++k)
            (std::abs(k) <= maxLevel ? q.levels : q.droppedLevels).push_back(static_cast<float>(k) * q.step);
        q.alpha = static_cast<float>(maxLevel) * q.step;
        q.levelShares.assign(q.levels.size(), 1.0 / static_cast<double>(q.levels.size()));
        q.shareZero = 1.0 / static_cast<double>(q.levels.size());
        q.shareNegative = (1.0 - q.shareZero) / 2;
        q.sharePositive = q.shareNegative;
        q.quantError = 0.03;
        ls.histogram = fakeClusteredHistogram(q.levels, q.step, q.weights, t, bins);
        s->layers.push_back(std::move(ls));
    }
    fakeMemory(*s);
    return s;
}

} // namespace sq::testing
