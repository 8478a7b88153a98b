#include "core/model_stats.h"

#include <algorithm>
#include <cmath>

namespace sq {

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
    const int last = bins - 1;
    for (Eigen::Index i = 0; i < w.size(); ++i) {
        const int bin = std::clamp(static_cast<int>((w[i] - h.lo) * scale), 0, last);
        h.counts[static_cast<std::size_t>(bin)] += 1.0f;
    }
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
