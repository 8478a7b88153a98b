#include "core/quant/sq_method.h"

#include "core/cpu_dispatch.h"
#include "core/error.h"
#include "core/quant/keep_float.h"
#include "core/quant/layer_common.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

namespace sq {

namespace {

// What a snapshot reports of q(w) for one layer: counts of weights quantized to -alpha and to 0,
// sum |w - q(w)|^2 and sum w^2.
struct QuantStats {
    std::size_t negative = 0;
    std::size_t zero = 0;
    double err = 0.0;
    double norm = 0.0;
};

// One pass over the weights (snapshots run it over every weight several times a second), in lanes
// of 8 floats (GCC vector values, lowered per clone, core/cpu_dispatch.h; GCC 12 splits 16-float
// ones lane by lane inside target clones) whose float partial sums go into double every block:
// fast and accurate. Counts are exact in float within a block.
#pragma GCC diagnostic ignored "-Wpsabi" // vector values only between always-inlined code
typedef float StatLanes __attribute__((vector_size(32)));
typedef std::int32_t StatMask __attribute__((vector_size(32)));

[[gnu::always_inline]] inline StatLanes blend(StatMask m, StatLanes yes, StatLanes no) { return m ? yes : no; }

SQ_SIMD_CLONES QuantStats quantStats(const float* x, std::size_t n, float cut, float alpha)
{
    constexpr std::size_t kLanes = 8;
    constexpr std::size_t kBlock = 4096;
    QuantStats q;
    const StatLanes zero = StatLanes{} + 0.0f;
    const StatLanes one = zero + 1.0f;
    const StatLanes vCut = zero + cut;
    const StatLanes vAlpha = zero + alpha;
    std::size_t i = 0;
    for (; i + kBlock <= n; i += kBlock) {
        StatLanes negative = zero, zeros = zero, err = zero, norm = zero;
        for (std::size_t k = 0; k < kBlock; k += kLanes) {
            StatLanes v;
            std::memcpy(&v, x + i + k, sizeof v);
            const StatLanes sign = blend(v < zero, -one, one);
            const StatLanes a = v * sign;
            const StatMask kept = a >= vCut; // quantized to +-alpha, else to 0
            const StatLanes keptOne = blend(kept, one, zero);
            negative += keptOne * (one - sign) * 0.5f; // 1 where kept and negative
            zeros += one - keptOne;
            const StatLanes e = blend(kept, a - vAlpha, v); // |x - q(x)|
            err += e * e;
            norm += v * v;
        }
        for (std::size_t l = 0; l < kLanes; ++l) {
            q.negative += static_cast<std::size_t>(negative[l]);
            q.zero += static_cast<std::size_t>(zeros[l]);
            q.err += err[l];
            q.norm += norm[l];
        }
    }
    for (; i < n; ++i) {
        const float v = x[i];
        const float a = std::abs(v);
        const bool kept = a >= cut;
        q.negative += static_cast<std::size_t>((v < 0.0f) & kept);
        q.zero += static_cast<std::size_t>(!kept);
        const float e = kept ? a - alpha : v;
        q.err += static_cast<double>(e * e);
        q.norm += static_cast<double>(v * v);
    }
    return q;
}

// Large layers (VGG's have up to 590k weights) in parts of a fixed size shared out between the
// threads and summed in part order: the result does not depend on the thread count.
QuantStats quantStatsShared(const float* x, std::size_t n, float cut, float alpha)
{
    constexpr std::size_t kPart = std::size_t{1} << 16; // a multiple of quantStats' block
    const std::size_t parts = (n + kPart - 1) / kPart;
    if (parts <= 1)
        return quantStats(x, n, cut, alpha);
    std::vector<QuantStats> each(parts);
#pragma omp parallel for schedule(static)
    for (std::size_t p = 0; p < parts; ++p)
        each[p] = quantStats(x + p * kPart, std::min(kPart, n - p * kPart), cut, alpha);
    QuantStats q;
    for (const QuantStats& e : each) {
        q.negative += e.negative;
        q.zero += e.zero;
        q.err += e.err;
        q.norm += e.norm;
    }
    return q;
}

Param scalarParam(const std::string& name, double value)
{
    Param p;
    p.name = name;
    p.decay = false;
    p.value.resize({1});
    p.grad.resize({1});
    p.value[0] = static_cast<float>(value);
    p.grad[0] = 0.0f;
    return p;
}

float meanAbs(const Tensor& w)
{
    return std::max(kAlphaMin, static_cast<float>(w.vec().cwiseAbs().cast<double>().mean()));
}

} // namespace

SqMethod::SqMethod(const Model& model, SqSettings settings) : settings_(std::move(settings))
{
    if (settings_.p != 1 && settings_.p != 2)
        throw Error("--p: must be 1 or 2, got " + std::to_string(settings_.p));
    if (!(settings_.betaInit >= kBetaMin && settings_.betaInit <= kBetaMax))
        throw Error("--beta-init: must be in [pi/4, pi/2 - 1e-3] = [0.7854, 1.5698], got "
                    + std::to_string(settings_.betaInit));
    if (!(settings_.betaSwitch > kBetaMin && settings_.betaSwitch < kBetaMax))
        throw Error("--beta-switch: must be inside (pi/4, pi/2 - 1e-3) = (0.7854, 1.5698), got "
                    + std::to_string(settings_.betaSwitch));

    if (!isSqFamily(settings_.mode))
        throw Error("--mode: " + toString(settings_.mode) + " is not run by the SQ method");

    const auto& targets = model.quantTargets();
    const std::vector<bool> keepFloat = resolveKeepFloat(targets, settings_.keepFloat);
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const auto& t = targets[i];
        Layer layer;
        layer.target = t;
        layer.keepFloat = keepFloat[i];
        double beta = settings_.betaInit;
        if (settings_.mode == QuantMode::Binary)
            beta = kBetaMax;
        else if (settings_.mode == QuantMode::Ternary)
            beta = kBetaMin;
        layer.alpha = scalarParam(t.name + ".alpha", meanAbs(t.weight->param.value));
        layer.beta = scalarParam(t.name + ".beta", beta);
        layers_.push_back(std::move(layer));
    }
}

bool SqMethod::regularized(const Layer& layer) const
{
    return settings_.mode != QuantMode::Float && !layer.keepFloat;
}

std::vector<OptimParam> SqMethod::params()
{
    std::vector<OptimParam> out;
    for (auto& layer : layers_) {
        if (!regularized(layer))
            continue;
        out.push_back({&layer.alpha, settings_.alphaLrMultiplier});
        if (settings_.mode == QuantMode::Sq)
            out.push_back({&layer.beta, settings_.betaLrMultiplier});
    }
    return out;
}

SqMethod::Depth SqMethod::depthOf(const Layer& layer) const
{
    if (layer.keepFloat)
        return Depth::Float;
    if (committed_ && settings_.mode != QuantMode::Float)
        return layer.committedDepth;
    switch (settings_.mode) {
    case QuantMode::Binary:
        return Depth::Binary;
    case QuantMode::Ternary:
        return Depth::Ternary;
    case QuantMode::Float: // post-training quantization at the depth beta points to
    case QuantMode::Sq:
    case QuantMode::Uniq: // refused by the constructor
    case QuantMode::Cpq:
        break;
    }
    return layer.beta.value[0] < settings_.betaSwitch ? Depth::Ternary : Depth::Binary;
}

SqMethod::Depth SqMethod::storageDepth(const Layer& layer) const
{
    return settings_.mode == QuantMode::Float ? Depth::Float : depthOf(layer);
}

SqShape SqMethod::shapeOf(const Layer& layer) const
{
    SqShape shape;
    shape.alpha = layer.alpha.value[0];
    shape.beta = layer.beta.value[0];
    shape.p = settings_.p;
    // Binary from the start (binary mode) or by decision (commit): exactly {-alpha, +alpha}.
    shape.closedZeroBasin = depthOf(layer) == Depth::Binary && (settings_.mode == QuantMode::Binary || committed_);
    return shape;
}

float SqMethod::alphaOf(const Layer& layer) const
{
    // Float mode trains no alpha; its post-training grid follows the weights.
    return settings_.mode == QuantMode::Float ? meanAbs(layer.target.weight->param.value) : layer.alpha.value[0];
}

float SqMethod::quantizedDelta(const Layer& layer) const
{
    if (depthOf(layer) != Depth::Ternary)
        return 0.0f;
    return static_cast<float>(zeroBasinHalfWidth(alphaOf(layer), layer.beta.value[0], settings_.p));
}

void SqMethod::writeQuantized(Layer& layer) const
{
    QuantizableWeight& w = *layer.target.weight;
    w.quantized.resize(w.param.value.shape());
    const float alpha = alphaOf(layer);
    const float delta = quantizedDelta(layer);
    const float* src = w.param.value.data();
    float* dst = w.quantized.data();
    const std::size_t n = w.param.value.size();
    if (depthOf(layer) == Depth::Binary)
        for (std::size_t i = 0; i < n; ++i)
            dst[i] = quantizeBinary(src[i], alpha);
    else
        for (std::size_t i = 0; i < n; ++i)
            dst[i] = quantizeTernary(src[i], alpha, delta);
}

void SqMethod::beginStep()
{
    for (auto& layer : layers_) {
        const bool ste = committed_ && regularized(layer);
        if (ste)
            writeQuantized(layer);
        layer.target.weight->useQuantized = ste;
    }
}

double SqMethod::endStep(const StepControls& live)
{
    const double lambda = live.lambda;
    const double gamma = live.gamma;
    double total = 0.0;
    for (auto& layer : layers_) {
        if (!regularized(layer))
            continue;
        QuantizableWeight& w = *layer.target.weight;
        const std::size_t n = w.param.value.size();
        double alphaGrad = 0.0;
        if (committed_) {
            // Straight-through: dL/dw = dL/dq as the layer computed it; dq/dalpha = q/alpha.
            const float alpha = layer.alpha.value[0];
            const float* g = w.param.grad.data();
            const float* q = w.quantized.data();
            for (std::size_t i = 0; i < n; ++i)
                alphaGrad += static_cast<double>(g[i]) * (q[i] / alpha);
        }
        const SqLayerTerm term = sqLayerTerm(w.param.value.data(), n, shapeOf(layer), gamma, w.param.grad.data(),
                                             static_cast<float>(lambda));
        layer.alpha.grad[0] = static_cast<float>(alphaGrad + lambda * term.dAlpha);
        const bool betaTrains = settings_.mode == QuantMode::Sq && !committed_;
        layer.beta.grad[0] = betaTrains ? static_cast<float>(lambda * term.dBeta) : 0.0f;
        total += term.value;
    }
    return lambda * total;
}

void SqMethod::afterOptimizerStep()
{
    for (auto& layer : layers_) {
        float& alpha = layer.alpha.value[0];
        alpha = std::max(alpha, kAlphaMin);
        float& beta = layer.beta.value[0];
        if (committed_ && regularized(layer))
            // Frozen; undo the drift an optimizer's momentum would still apply.
            beta = static_cast<float>(layer.committedDepth == Depth::Ternary ? kBetaMin : kBetaMax);
        else
            beta = std::clamp(beta, static_cast<float>(kBetaMin), static_cast<float>(kBetaMax));
    }
}

void SqMethod::commit()
{
    if (committed_)
        return;
    for (auto& layer : layers_) {
        if (!regularized(layer))
            continue; // float layers (and float mode) have no depth to freeze
        layer.committedDepth = depthOf(layer);
        if (layer.committedDepth == Depth::Ternary)
            layer.beta.value[0] = static_cast<float>(kBetaMin);
        else if (layer.committedDepth == Depth::Binary)
            layer.beta.value[0] = static_cast<float>(kBetaMax);
    }
    committed_ = true;
}

void SqMethod::setQuantizedForward(bool on)
{
    setQuantizedForwardOf(layers_, on, [this](Layer& layer) { writeQuantized(layer); });
}

std::vector<LayerQuantState> SqMethod::layerStates(bool statistics) const
{
    std::vector<LayerQuantState> states;
    for (const auto& layer : layers_) {
        LayerQuantState s = layerIdentity(layer.target, "sq", layer.keepFloat);
        const QuantizableWeight& w = *layer.target.weight;
        s.committed = committed_ && regularized(layer);
        const Depth stored = storageDepth(layer);
        s.decision = stored == Depth::Float ? "float" : (stored == Depth::Binary ? "binary" : "ternary");
        s.bits = stored == Depth::Float ? 32 : (stored == Depth::Binary ? 1 : 2);
        // Float mode's alpha is mean|w|, a pass over the weights: only computed when asked for.
        s.alpha = statistics || settings_.mode != QuantMode::Float ? alphaOf(layer) : 0.0f;
        s.beta = layer.beta.value[0];
        s.delta = quantizedDelta(layer);
        const bool ternary = depthOf(layer) == Depth::Ternary;
        if (!layer.keepFloat)
            s.levels = ternary ? std::vector<float>{-s.alpha, 0.0f, s.alpha} : std::vector<float>{-s.alpha, s.alpha};
        if (layer.keepFloat || !statistics) {
            states.push_back(std::move(s));
            continue;
        }
        const QuantStats q = quantStatsShared(w.param.value.data(), s.weights, ternary ? s.delta : 0.0f, s.alpha);
        const std::size_t negative = q.negative;
        const std::size_t zero = q.zero;
        const double err = q.err;
        const double norm = q.norm;
        const double n = static_cast<double>(s.weights);
        s.shareNegative = static_cast<double>(negative) / n;
        s.shareZero = static_cast<double>(zero) / n;
        s.sharePositive = 1.0 - s.shareNegative - s.shareZero;
        s.quantError = norm > 0.0 ? err / norm : 0.0;
        states.push_back(std::move(s));
    }
    return states;
}

} // namespace sq
