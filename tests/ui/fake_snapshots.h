// Hand-made snapshots for view tests: a run's worth of plausible values without training.
#pragma once

#include "core/quant/sq_regularizer.h"
#include "core/snapshot.h"

#include <cmath>
#include <memory>

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

} // namespace sq::testing
