#include "core/quant/uniq_method.h"

#include "core/error.h"
#include "core/quant/gaussian_step.h"
#include "core/quant/keep_float.h"
#include "core/quant/layer_common.h"

#include <algorithm>
#include <cmath>

namespace sq {

namespace {

Param scalarParam(const std::string& name, float value)
{
    Param p;
    p.name = name;
    p.decay = false;
    p.value.resize({1});
    p.grad.resize({1});
    p.value[0] = value;
    p.grad[0] = 0.0f;
    return p;
}

double populationStd(const Tensor& w)
{
    const auto v = w.vec().cast<double>();
    const double mean = v.mean();
    return std::sqrt(std::max(0.0, (v.array() - mean).square().mean()));
}

void checkBits(const char* flag, int bits)
{
    if (bits < 1 || bits > kUniqMaxBits)
        throw Error(std::string(flag) + ": bits must be in [1, 8], got " + std::to_string(bits));
}

} // namespace

UniqMethod::UniqMethod(const Model& model, UniqSettings settings, const std::set<std::string>& keepFloat)
    : settings_(std::move(settings))
{
    checkBits("--bits", settings_.bits);
    for (int b : settings_.layerBits)
        checkBits("--layer-bits", b);

    const auto& targets = model.quantTargets();
    const std::vector<bool> kept = resolveKeepFloat(targets, keepFloat);
    std::string quantized;
    std::size_t count = 0;
    for (std::size_t i = 0; i < targets.size(); ++i)
        if (!kept[i]) {
            quantized += (quantized.empty() ? "" : ", ") + targets[i].name;
            ++count;
        }
    if (!settings_.layerBits.empty() && settings_.layerBits.size() != count)
        throw Error("--layer-bits: " + std::to_string(settings_.layerBits.size()) + " values for "
                    + std::to_string(count) + " quantized layers (" + quantized + ")");

    std::size_t next = 0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        Layer layer;
        layer.target = targets[i];
        layer.keepFloat = kept[i];
        float step = 1.0f;
        if (!layer.keepFloat) {
            layer.bits = settings_.layerBits.empty() ? settings_.bits : settings_.layerBits[next++];
            const double std = populationStd(targets[i].weight->param.value);
            step = std::max(kUniqStepMin, static_cast<float>(std * gaussianOptimalStep(layer.bits)));
        }
        layer.step = scalarParam(targets[i].name + ".step", step);
        layers_.push_back(std::move(layer));
    }
}

std::vector<OptimParam> UniqMethod::params()
{
    std::vector<OptimParam> out;
    for (auto& layer : layers_)
        if (!layer.keepFloat)
            out.push_back({&layer.step, settings_.stepLrMultiplier});
    return out;
}

void UniqMethod::writeQuantized(Layer& layer) const
{
    QuantizableWeight& w = *layer.target.weight;
    w.quantized.resize(w.param.value.shape());
    const UniqGrid g = layer.grid();
    const float* src = w.param.value.data();
    float* dst = w.quantized.data();
    const std::size_t n = w.param.value.size();
    for (std::size_t i = 0; i < n; ++i)
        dst[i] = uniqQuantize(src[i], g);
}

void UniqMethod::beginStep()
{
    // No search phase: every quantized layer trains through q(w) from the first step.
    for (auto& layer : layers_) {
        if (!layer.keepFloat)
            writeQuantized(layer);
        layer.target.weight->useQuantized = !layer.keepFloat;
    }
}

double UniqMethod::endStep(const StepControls&)
{
    for (auto& layer : layers_) {
        if (layer.keepFloat)
            continue;
        QuantizableWeight& w = *layer.target.weight;
        const std::size_t n = w.param.value.size();
        const UniqGrid g = layer.grid();
        const float* x = w.param.value.data();
        float* grad = w.param.grad.data(); // dL/dq(w) on entry, dL/dw on exit
        // Float partial sums flushed to double per block: fast and accurate over large layers.
        constexpr std::size_t kBlock = 4096;
        double stepGrad = 0.0;
        for (std::size_t begin = 0; begin < n; begin += kBlock) {
            const std::size_t end = std::min(n, begin + kBlock);
            float block = 0.0f;
            for (std::size_t i = begin; i < end; ++i) {
                const UniqSlopes s = uniqSlopes(x[i], g);
                block += grad[i] * s.dStep;
                grad[i] *= s.dw;
            }
            stepGrad += block;
        }
        layer.step.grad[0] = static_cast<float>(stepGrad * g.gradScale(n));
    }
    return 0.0; // UniQ adds nothing to the loss
}

void UniqMethod::afterOptimizerStep()
{
    for (auto& layer : layers_)
        layer.step.value[0] = std::max(layer.step.value[0], kUniqStepMin);
}

void UniqMethod::setQuantizedForward(bool on)
{
    setQuantizedForwardOf(layers_, on, [this](Layer& layer) { writeQuantized(layer); });
}

std::vector<LayerQuantState> UniqMethod::layerStates(bool statistics) const
{
    std::vector<LayerQuantState> states;
    for (const auto& layer : layers_) {
        LayerQuantState s = layerIdentity(layer.target, "uniq", layer.keepFloat);
        const QuantizableWeight& w = *layer.target.weight;
        s.committed = committed_ && !layer.keepFloat;
        if (layer.keepFloat) {
            states.push_back(std::move(s));
            continue;
        }
        const UniqGrid g = layer.grid();
        s.bits = layer.bits;
        s.decision = layer.bits == 1 ? "binary" : std::to_string(layer.bits) + "-bit";
        s.step = g.step;
        s.alpha = g.step * g.centre(); // the outermost level
        const int count = 1 << layer.bits;
        for (int k = 0; k < count; ++k)
            s.levels.push_back(g.level(k));
        if (!statistics) {
            states.push_back(std::move(s));
            continue;
        }
        std::vector<std::size_t> perLevel(static_cast<std::size_t>(count), 0);
        const float* x = w.param.value.data();
        double err = 0.0;
        double norm = 0.0;
        for (std::size_t i = 0; i < s.weights; ++i) {
            const float index = uniqIndex(x[i], g);
            ++perLevel[static_cast<std::size_t>(index)];
            const double e = static_cast<double>(x[i]) - g.step * (index - g.centre());
            err += e * e;
            norm += static_cast<double>(x[i]) * x[i];
        }
        const double n = static_cast<double>(s.weights);
        std::size_t negative = 0;
        for (int k = 0; k < count / 2; ++k) // no zero level: the lower half of the levels is negative
            negative += perLevel[static_cast<std::size_t>(k)];
        for (std::size_t c : perLevel)
            s.levelShares.push_back(static_cast<double>(c) / n);
        s.shareNegative = static_cast<double>(negative) / n;
        s.shareZero = 0.0;
        s.sharePositive = 1.0 - s.shareNegative;
        s.quantError = norm > 0.0 ? err / norm : 0.0;
        states.push_back(std::move(s));
    }
    return states;
}

} // namespace sq
