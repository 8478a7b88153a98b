#include "core/quant/cpq_method.h"

#include "core/error.h"
#include "core/quant/gaussian_step.h"
#include "core/quant/keep_float.h"
#include "core/quant/layer_common.h"
#include "core/rng.h"

#include <algorithm>
#include <cmath>

namespace sq {

namespace {

Param scalarParam(const std::string& name, std::size_t size, float value)
{
    Param p;
    p.name = name;
    p.decay = false;
    p.value.resize({static_cast<int>(size)});
    p.grad.resize({static_cast<int>(size)});
    p.value.fill(value);
    p.grad.fill(0.0f);
    return p;
}

double populationStd(const Tensor& w)
{
    const auto v = w.vec().cast<double>();
    const double mean = v.mean();
    return std::sqrt(std::max(0.0, (v.array() - mean).square().mean()));
}

// splitmix64's finaliser: a well-mixed 64-bit key from a few counters.
std::uint64_t mix(std::uint64_t a, std::uint64_t b)
{
    std::uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Random streams keyed by (seed, step, layer, block) rather than drawn from one sequence, so the
// draws are the same for any thread count and a session can resume from the step counter alone.
constexpr std::uint64_t kGateStream = ~0ULL;
constexpr std::size_t kDropBlock = 4096;

std::uint64_t streamKey(std::uint64_t seed, std::uint64_t step, std::size_t layer, std::uint64_t stream)
{
    return mix(mix(mix(seed, step), layer), stream);
}

} // namespace

CpqMethod::CpqMethod(const Model& model, CpqSettings settings, const std::set<std::string>& keepFloat)
    : settings_(std::move(settings)), dropBits_(settings_.maxBits, settings_.dropP)
{
    if (!(settings_.temperature >= 1e-3 && settings_.temperature <= 1.0))
        throw Error("--cpq-temperature: must be in [0.001, 1], got " + std::to_string(settings_.temperature));
    const auto& targets = model.quantTargets();
    const std::vector<bool> kept = resolveKeepFloat(targets, keepFloat);
    modelWeights_ = model.weightCount();
    const int gates = settings_.maxBits - 2;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        Layer layer;
        layer.target = targets[i];
        layer.keepFloat = kept[i];
        const double std = populationStd(targets[i].weight->param.value);
        const float step = std::max(kCpqStepMin, static_cast<float>(std * gaussianOptimalStep(settings_.maxBits)));
        layer.step = scalarParam(targets[i].name + ".step", 1, step);
        layer.gateLogits = scalarParam(targets[i].name + ".keep_logits", static_cast<std::size_t>(std::max(gates, 1)),
                                       static_cast<float>(settings_.gateLogitInit));
        layer.committedBits = settings_.maxBits;
        layer.grid.step = step;
        layer.grid.maxBits = settings_.maxBits;
        layer.grid.temperature = static_cast<float>(settings_.temperature);
        layers_.push_back(std::move(layer));
    }
}

std::vector<OptimParam> CpqMethod::params()
{
    std::vector<OptimParam> out;
    for (auto& layer : layers_) {
        if (layer.keepFloat)
            continue;
        out.push_back({&layer.step, settings_.stepLrMultiplier});
        if (settings_.maxBits > 2)
            out.push_back({&layer.gateLogits, settings_.gateLrMultiplier});
    }
    return out;
}

int CpqMethod::bitsOf(const Layer& layer) const
{
    if (committed_)
        return layer.committedBits;
    // Nested: the first group with P(keep) < 0.5 drops itself and every higher group.
    int bits = 2;
    for (int j = 3; j <= settings_.maxBits; ++j) {
        if (keepProbability(layer.gateLogits.value[static_cast<std::size_t>(j - 3)]) < 0.5f)
            break;
        bits = j;
    }
    return bits;
}

int CpqMethod::decidedBits(std::size_t layer) const { return bitsOf(layers_.at(layer)); }

CpqGrid CpqMethod::decisionGrid(const Layer& layer) const
{
    CpqGrid grid;
    grid.step = layer.step.value[0];
    grid.maxBits = settings_.maxBits;
    grid.temperature = static_cast<float>(settings_.temperature);
    const int bits = bitsOf(layer);
    for (int j = 3; j <= kCpqMaxBits; ++j)
        grid.gate[static_cast<std::size_t>(j)] = j <= bits ? 1.0f : 0.0f;
    return grid;
}

void CpqMethod::writeEvaluation(Layer& layer) const
{
    QuantizableWeight& w = *layer.target.weight;
    w.quantized.resize(w.param.value.shape());
    cpqForwardLayer(w.param.value.data(), w.param.value.size(), decisionGrid(layer), nullptr, w.quantized.data(),
                    nullptr);
}

void CpqMethod::beginStep()
{
    const std::uint64_t step = counter_;
    if (!committed_)
        ++counter_;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
        Layer& layer = layers_[l];
        QuantizableWeight& w = *layer.target.weight;
        w.useQuantized = !layer.keepFloat;
        if (layer.keepFloat)
            continue;
        const std::size_t n = w.param.value.size();
        w.quantized.resize(w.param.value.shape());
        if (committed_) {
            // The bit-length is frozen: no DropBits, no gate noise; the multi-class STE goes on.
            layer.grid = decisionGrid(layer);
            layer.dzDlogit.fill(0.0f);
            layer.highest.clear();
            cpqForwardLayer(w.param.value.data(), n, layer.grid, nullptr, w.quantized.data(), &layer.cache);
            continue;
        }
        layer.grid = decisionGrid(layer);
        layer.dzDlogit.fill(0.0f);
        Rng gateRng(streamKey(settings_.seed, step, l, kGateStream));
        for (int j = 3; j <= settings_.maxBits; ++j) {
            const double u = (static_cast<double>(gateRng.next() >> 11) + 0.5) * 0x1.0p-53; // in (0, 1)
            const GateSample g = sampleHardConcrete(layer.gateLogits.value[static_cast<std::size_t>(j - 3)], u);
            layer.grid.gate[static_cast<std::size_t>(j)] = g.z;
            layer.dzDlogit[static_cast<std::size_t>(j)] = g.dzDlogit;
        }
        layer.highest.resize(n);
        const auto blocks = static_cast<std::ptrdiff_t>((n + kDropBlock - 1) / kDropBlock);
        std::uint8_t* highest = layer.highest.data();
#pragma omp parallel for schedule(static)
        for (std::ptrdiff_t b = 0; b < blocks; ++b) {
            Rng rng(streamKey(settings_.seed, step, l, static_cast<std::uint64_t>(b)));
            const std::size_t begin = static_cast<std::size_t>(b) * kDropBlock;
            const std::size_t end = std::min(n, begin + kDropBlock);
            for (std::size_t i = begin; i < end; ++i)
                highest[i] = static_cast<std::uint8_t>(dropBits_.highestGroup(rng.uniform()));
        }
        cpqForwardLayer(w.param.value.data(), n, layer.grid, highest, w.quantized.data(), &layer.cache);
    }
}

double CpqMethod::endStep(const StepControls& live)
{
    double memory = 0.0; // sum_l sum_j P(keep group j of layer l) n_l / total weights
    const double total = static_cast<double>(std::max<std::size_t>(modelWeights_, 1));
    for (auto& layer : layers_) {
        if (layer.keepFloat)
            continue;
        QuantizableWeight& w = *layer.target.weight;
        const std::size_t n = w.param.value.size();
        const CpqLayerGrad g = cpqBackwardLayer(w.param.grad.data(), n, layer.cache);
        layer.step.grad[0] = static_cast<float>(g.step);
        const double share = static_cast<double>(n) / total;
        for (int j = 3; j <= settings_.maxBits; ++j) {
            const auto idx = static_cast<std::size_t>(j - 3);
            const double keep = keepProbability(layer.gateLogits.value[idx]);
            memory += keep * share;
            if (committed_) {
                layer.gateLogits.grad[idx] = 0.0f;
                continue;
            }
            // The task's gradient through the relaxed gate sample, plus mu d/da of the memory term.
            const double task = g.gate[static_cast<std::size_t>(j)] * layer.dzDlogit[static_cast<std::size_t>(j)];
            const double pressure = live.mu * share * keep * (1.0 - keep);
            layer.gateLogits.grad[idx] = static_cast<float>(task + pressure);
        }
    }
    return live.mu * memory;
}

void CpqMethod::afterOptimizerStep()
{
    for (auto& layer : layers_) {
        layer.step.value[0] = std::max(layer.step.value[0], kCpqStepMin);
        if (committed_ && !layer.frozenLogits.empty())
            // Frozen; undo the drift an optimizer's momentum would still apply.
            for (std::size_t i = 0; i < layer.frozenLogits.size(); ++i)
                layer.gateLogits.value[i] = layer.frozenLogits[i];
    }
}

void CpqMethod::commit()
{
    if (committed_)
        return;
    for (auto& layer : layers_) {
        layer.committedBits = bitsOf(layer);
        layer.frozenLogits.assign(layer.gateLogits.value.data(),
                                  layer.gateLogits.value.data() + layer.gateLogits.value.size());
    }
    committed_ = true;
}

void CpqMethod::setQuantizedForward(bool on)
{
    setQuantizedForwardOf(layers_, on, [this](Layer& layer) { writeEvaluation(layer); });
}

std::vector<LayerQuantState> CpqMethod::layerStates(bool statistics) const
{
    std::vector<LayerQuantState> states;
    std::vector<float> q;
    for (const auto& layer : layers_) {
        LayerQuantState s = layerIdentity(layer.target, "cpq", layer.keepFloat);
        const QuantizableWeight& w = *layer.target.weight;
        s.committed = committed_ && !layer.keepFloat;
        s.maxBits = settings_.maxBits;
        if (layer.keepFloat) {
            states.push_back(std::move(s));
            continue;
        }
        for (int j = 3; j <= settings_.maxBits; ++j)
            s.keepProbability.push_back(keepProbability(layer.gateLogits.value[static_cast<std::size_t>(j - 3)]));
        const int bits = bitsOf(layer);
        const float step = layer.step.value[0];
        const int maxLevel = cpqMaxLevel(bits);
        const int fullLevel = cpqMaxLevel(settings_.maxBits);
        s.bits = bits;
        s.decision = bits == 2 ? "ternary" : std::to_string(bits) + "-bit";
        s.step = step;
        s.alpha = static_cast<float>(maxLevel) * step;
        for (int k = -fullLevel; k <= fullLevel; ++k)
            (std::abs(k) <= maxLevel ? s.levels : s.droppedLevels).push_back(static_cast<float>(k) * step);
        if (!statistics) {
            states.push_back(std::move(s));
            continue;
        }
        q.resize(s.weights);
        cpqForwardLayer(w.param.value.data(), s.weights, decisionGrid(layer), nullptr, q.data(), nullptr);
        std::vector<std::size_t> perLevel(s.levels.size(), 0);
        const float* x = w.param.value.data();
        double err = 0.0;
        double norm = 0.0;
        for (std::size_t i = 0; i < s.weights; ++i) {
            const int k = static_cast<int>(std::lround(q[i] / step));
            ++perLevel[static_cast<std::size_t>(k + maxLevel)];
            const double e = static_cast<double>(x[i]) - q[i];
            err += e * e;
            norm += static_cast<double>(x[i]) * x[i];
        }
        const double n = static_cast<double>(s.weights);
        std::size_t negative = 0;
        for (int k = 0; k < maxLevel; ++k)
            negative += perLevel[static_cast<std::size_t>(k)];
        for (std::size_t c : perLevel)
            s.levelShares.push_back(static_cast<double>(c) / n);
        s.shareNegative = static_cast<double>(negative) / n;
        s.shareZero = static_cast<double>(perLevel[static_cast<std::size_t>(maxLevel)]) / n;
        s.sharePositive = std::max(0.0, 1.0 - s.shareNegative - s.shareZero);
        s.quantError = norm > 0.0 ? err / norm : 0.0;
        states.push_back(std::move(s));
    }
    return states;
}

} // namespace sq
