#include "core/model_stats.h"

#include "core/cpu_dispatch.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace sq {

namespace {

// Snapshots histogram every weight several times a second. The bins of a block are computed first
// (a loop that vectorises, compiled per SIMD width, core/cpu_dispatch.h), then counted into
// several copies of the histogram in turn, so that neighbouring weights falling into the same bin
// do not wait on each other's increment.
constexpr std::size_t kHistogramCopies = 4;

SQ_SIMD_CLONES void binCounts(const float* w, std::size_t n, float lo, float scale, int bins, std::uint32_t* counts)
{
    constexpr std::size_t kBlock = 1024;
    int bin[kBlock];
    const int last = bins - 1;
    for (std::size_t begin = 0; begin < n; begin += kBlock) {
        const std::size_t m = std::min(kBlock, n - begin);
        for (std::size_t i = 0; i < m; ++i)
            bin[i] = std::clamp(static_cast<int>((w[begin + i] - lo) * scale), 0, last);
        for (std::size_t i = 0; i < m; ++i)
            ++counts[(i % kHistogramCopies) * static_cast<std::size_t>(bins) + static_cast<std::size_t>(bin[i])];
    }
}

} // namespace

Histogram weightHistogram(const Tensor& weights, float alpha, int bins)
{
    Histogram h;
    h.counts.assign(static_cast<std::size_t>(bins), 0.0f);
    const auto w = weights.vec();
    const float a = std::abs(alpha);
    h.lo = std::min(-2.0f * a, weights.empty() ? 0.0f : w.minCoeff());
    h.hi = std::max(2.0f * a, weights.empty() ? 0.0f : w.maxCoeff());
    if (!(h.hi > h.lo))
        h.hi = h.lo + 1.0f;
    const float scale = static_cast<float>(bins) / (h.hi - h.lo);
    // Large layers in parts shared out between the threads, each with its own copies of the
    // histogram (integer counts: the sum is exact whatever the split).
    constexpr std::size_t kPart = std::size_t{1} << 16;
    const std::size_t n = weights.size();
    const std::size_t parts = std::max<std::size_t>(1, (n + kPart - 1) / kPart);
    const std::size_t copySize = static_cast<std::size_t>(bins) * kHistogramCopies;
    std::vector<std::uint32_t> partCounts(copySize * parts, 0);
#pragma omp parallel for schedule(static) if (parts > 1)
    for (std::size_t p = 0; p < parts; ++p)
        binCounts(weights.data() + p * kPart, std::min(kPart, n - std::min(n, p * kPart)), h.lo, scale, bins,
                  partCounts.data() + p * copySize);
    std::vector<std::uint32_t> counts(copySize, 0);
    for (std::size_t p = 0; p < parts; ++p)
        for (std::size_t i = 0; i < copySize; ++i)
            counts[i] += partCounts[p * copySize + i];
    for (std::size_t c = 0; c < kHistogramCopies; ++c)
        for (std::size_t b = 0; b < static_cast<std::size_t>(bins); ++b)
            h.counts[b] += static_cast<float>(counts[c * static_cast<std::size_t>(bins) + b]);
    return h;
}

MemoryReport memoryReport(const Model& model, const std::vector<LayerQuantState>& layers)
{
    MemoryReport m;
    std::uint64_t otherFloats = 0;
    for (const Param* p : model.params())
        otherFloats += p->value.size();
    for (const Tensor* t : model.buffers())
        otherFloats += t->size();
    std::uint64_t scales = 0;
    for (const auto& layer : layers) {
        otherFloats -= layer.weights;
        m.weightBits += static_cast<std::uint64_t>(layer.bits) * layer.weights;
        m.floatWeightBits += 32ull * layer.weights;
        if (layer.bits < 32)
            ++scales;
    }
    m.modelBits = m.weightBits + 32ull * (scales + otherFloats);
    m.floatModelBits = m.floatWeightBits + 32ull * otherFloats;
    return m;
}

} // namespace sq
