#include "core/io/stored_model.h"

#include "core/architecture.h"
#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sq {

namespace {

// Every parameter and buffer of `layer` except its quantizable weight, in storage order.
std::vector<Tensor*> otherTensors(Layer& layer)
{
    std::vector<Tensor*> out;
    const QuantizableWeight* qw = layer.quantizableWeight();
    for (Param* p : layer.params())
        if (!qw || p != &qw->param)
            out.push_back(&p->value);
    for (Tensor* t : layer.buffers())
        out.push_back(t);
    return out;
}

StoredWeight captureWeight(const QuantTarget& target, const LayerQuantState& state)
{
    StoredWeight s;
    s.name = target.name;
    s.decision = state.decision;
    s.bits = state.bits;
    s.alpha = state.alpha;
    s.beta = state.beta;
    s.delta = state.delta;
    const Tensor& w = target.weight->effective();
    const std::size_t n = w.size();
    if (!s.quantized()) {
        s.values.assign(w.data(), w.data() + n);
        return s;
    }
    const std::string where = target.name + ": ";
    if (s.bits < 1 || s.bits > 8)
        throw Error(where + "cannot store " + std::to_string(s.bits) + "-bit weights (1 to 8 bits, or 32 for float)");
    if (state.levels.empty() || state.levels.size() > (std::size_t{1} << s.bits))
        throw Error(where + "a " + std::to_string(s.bits) + "-bit layer needs 1 to " + std::to_string(1 << s.bits)
                    + " levels, the method reported " + std::to_string(state.levels.size()));
    if (!target.weight->useQuantized)
        throw Error(where + "stored at " + std::to_string(s.bits)
                    + " bits but its forward pass uses the float weights; capture it with the quantized forward on");
    s.levels = state.levels;
    if (!std::is_sorted(s.levels.begin(), s.levels.end()))
        throw Error(where + "the method's levels are not ascending");

    float scale = 0.0f;
    for (float v : s.levels)
        scale = std::max(scale, std::abs(v));
    // q(w) and the reported grid may be computed by different expressions; anything beyond a few
    // ulps means the weights are not on that grid at all.
    const float tolerance = 1e-5f * scale + std::numeric_limits<float>::min();
    std::vector<bool> taken(s.levels.size(), false);
    s.codes.resize(n);
    const float* x = w.data();
    for (std::size_t i = 0; i < n; ++i) {
        const float v = x[i];
        auto it = std::lower_bound(s.levels.begin(), s.levels.end(), v);
        std::size_t k = static_cast<std::size_t>(it - s.levels.begin());
        if (k == s.levels.size() || (k > 0 && v - s.levels[k - 1] <= s.levels[k] - v))
            k = k == 0 ? 0 : k - 1;
        if (!(std::abs(v - s.levels[k]) <= tolerance))
            throw Error(where + "weight " + std::to_string(i) + " = " + std::to_string(v)
                        + " is not on the method's grid (nearest level " + std::to_string(s.levels[k]) + ")");
        if (!taken[k]) {
            s.levels[k] = v; // the exact value the forward pass used
            taken[k] = true;
        } else if (s.levels[k] != v) {
            throw Error(where + "two different weights (" + std::to_string(s.levels[k]) + ", " + std::to_string(v)
                        + ") fall on one level of the method's grid");
        }
        s.codes[i] = static_cast<std::uint8_t>(k);
    }
    for (std::size_t k = 1; k < s.levels.size(); ++k)
        if (!(s.levels[k - 1] < s.levels[k]))
            throw Error(where + "the method's levels are not strictly ascending");
    return s;
}

// Parameter count of an architecture for an input shape, without building it: a file could name
// an architecture of gigabytes, and its element counts must be checked before anything is
// allocated. Returns -1 if the architecture does not fit the input (buildModel then explains why).
constexpr long long kLimit = 1LL << 40;

long long architectureParameters(const std::string& architecture, std::vector<long long> shape)
{
    long long total = 0;
    const auto product = [](const std::vector<long long>& s) {
        long long p = 1;
        for (long long d : s)
            p = std::min(p * d, kLimit);
        return p;
    };
    for (const LayerSpec& spec : parseArchitecture(architecture)) {
        if (spec.kind == "dense") {
            total += (product(shape) + 1) * spec.size;
            shape = {spec.size};
        } else if (spec.kind == "conv" || spec.kind == "maxpool") {
            if (shape.size() != 3)
                return -1;
            const long long pad = spec.kind == "conv" ? spec.padding : 0;
            const long long window = spec.kind == "conv" ? spec.kernel : spec.size;
            const long long h = (shape[1] + 2 * pad - window) / spec.stride + 1;
            const long long w = (shape[2] + 2 * pad - window) / spec.stride + 1;
            if (shape[1] + 2 * pad < window || shape[2] + 2 * pad < window)
                return -1;
            if (spec.kind == "conv") {
                total += shape[0] * window * window * spec.size + spec.size;
                shape = {spec.size, h, w};
            } else {
                shape = {shape[0], h, w};
            }
        } else if (spec.kind == "bn") {
            total += 4 * shape[0];
        } else if (spec.kind == "flatten") {
            shape = {product(shape)};
        }
        if (total >= kLimit)
            return kLimit;
    }
    return total;
}

} // namespace

std::vector<float> StoredWeight::dequantized() const
{
    if (!quantized())
        return values;
    std::vector<float> out(codes.size());
    for (std::size_t i = 0; i < codes.size(); ++i)
        out[i] = levels.at(codes[i]);
    return out;
}

StoredModel captureModel(const Model& model, const std::vector<LayerQuantState>& layers, const std::string& method,
                         const std::vector<float>& inputMean, const std::vector<float>& inputStddev)
{
    const auto& targets = model.quantTargets();
    if (layers.size() != targets.size())
        throw Error("model export: the method reports " + std::to_string(layers.size())
                    + " quantizable layers, the model has " + std::to_string(targets.size()));
    const std::size_t channels = static_cast<std::size_t>(model.inputSample().front());
    if (inputMean.size() != channels || inputStddev.size() != channels)
        throw Error("model export: the input normalisation has " + std::to_string(inputMean.size())
                    + " channels, the model's input has " + std::to_string(channels));
    StoredModel s;
    s.method = method;
    s.architecture = model.architecture();
    s.inputSample = model.inputSample();
    s.classes = model.outputs();
    s.inputMean = inputMean;
    s.inputStddev = inputStddev;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        if (layers[i].name != targets[i].name)
            throw Error("model export: the method's layer " + layers[i].name + " is the model's "
                        + targets[i].name);
        s.weights.push_back(captureWeight(targets[i], layers[i]));
    }
    for (const auto& layer : model.layers())
        for (const Tensor* t : otherTensors(*layer))
            s.floats.emplace_back(t->data(), t->data() + t->size());
    return s;
}

Model instantiateModel(const StoredModel& stored)
{
    std::uint64_t elements = 0;
    for (const auto& w : stored.weights)
        elements += w.count();
    for (const auto& f : stored.floats)
        elements += f.size();
    std::vector<long long> shape(stored.inputSample.begin(), stored.inputSample.end());
    const long long expected = architectureParameters(stored.architecture, shape);
    if (expected >= 0 && static_cast<std::uint64_t>(expected) != elements)
        throw Error("architecture mismatch: '" + stored.architecture + "' on " + shapeString(stored.inputSample)
                    + " inputs has " + std::to_string(expected) + " parameters and statistics, the stored model "
                    + std::to_string(elements));

    Model model = buildModel(stored.architecture, stored.inputSample, stored.classes);
    const auto& targets = model.quantTargets();
    if (targets.size() != stored.weights.size())
        throw Error("architecture mismatch: the architecture has " + std::to_string(targets.size())
                    + " quantizable layers, the stored model " + std::to_string(stored.weights.size()));
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const StoredWeight& w = stored.weights[i];
        Tensor& value = targets[i].weight->param.value;
        if (w.name != targets[i].name || w.count() != value.size())
            throw Error("architecture mismatch: stored weight " + w.name + " (" + std::to_string(w.count())
                        + " values) against the architecture's " + targets[i].name + " ("
                        + std::to_string(value.size()) + " values)");
        const std::vector<float> values = w.dequantized();
        std::copy(values.begin(), values.end(), value.data());
        targets[i].weight->useQuantized = false;
    }
    std::size_t next = 0;
    for (const auto& layer : model.layers())
        for (Tensor* t : otherTensors(*layer)) {
            if (next >= stored.floats.size() || stored.floats[next].size() != t->size())
                throw Error("architecture mismatch: " + layer->describe() + " expects a tensor of "
                            + std::to_string(t->size()) + " values at float tensor " + std::to_string(next));
            std::copy(stored.floats[next].begin(), stored.floats[next].end(), t->data());
            ++next;
        }
    if (next != stored.floats.size())
        throw Error("architecture mismatch: the stored model has " + std::to_string(stored.floats.size())
                    + " float tensors, the architecture " + std::to_string(next));
    return model;
}

std::uint64_t storedModelBits(const StoredModel& stored)
{
    std::uint64_t bits = 0;
    for (const auto& w : stored.weights)
        bits += w.quantized() ? static_cast<std::uint64_t>(w.bits) * w.count() + 32 : 32ull * w.count();
    for (const auto& f : stored.floats)
        bits += 32ull * f.size();
    return bits;
}

} // namespace sq
