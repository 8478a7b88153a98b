// The session state of each quantization method (QuantMethod::saveState / loadState): what a run
// needs beyond the model's weights to continue exactly. Kept apart from the methods' training
// code; the layout is part of the session file (docs/session-file.md).
#include "core/io/binary_io.h"
#include "core/quant/cpq_method.h"
#include "core/quant/sq_method.h"
#include "core/quant/uniq_method.h"

#include <algorithm>
#include <cmath>

namespace sq {

namespace {

constexpr std::uint32_t kMaxMethodName = 64;
constexpr std::uint32_t kMaxLayers = 4096;

// Every method's state opens with its name and layer count, so that a state cannot be loaded into
// another method or model.
void writeHeader(BinaryWriter& out, const std::string& method, std::size_t layers)
{
    out.str(method, kMaxMethodName, "method name");
    out.u32(static_cast<std::uint32_t>(layers));
}

void readHeader(BinaryReader& in, const std::string& method, std::size_t layers)
{
    const std::string saved = in.str(kMaxMethodName, "method name");
    if (saved != method)
        in.fail("the state is of method '" + saved + "', this run's method is '" + method + "'");
    const std::uint32_t count = in.count(kMaxLayers, 4, "quantizable layer count");
    if (count != layers)
        in.fail("the state has " + std::to_string(count) + " quantizable layers, the model has "
                + std::to_string(layers));
}

float finiteScalar(BinaryReader& in, const std::string& what)
{
    const float v = in.f32(what.c_str());
    if (!std::isfinite(v))
        in.fail(what + " is not finite");
    return v;
}

} // namespace

// --- SQ: alpha and beta per layer, each layer's committed depth, whether committed ---

void SqMethod::saveState(BinaryWriter& out) const
{
    writeHeader(out, name(), layers_.size());
    for (const Layer& layer : layers_) {
        out.f32(layer.alpha.value[0]);
        out.f32(layer.beta.value[0]);
        out.u8(static_cast<std::uint8_t>(layer.committedDepth));
    }
    out.boolean(committed_);
}

void SqMethod::loadState(BinaryReader& in)
{
    readHeader(in, name(), layers_.size());
    struct Saved {
        float alpha, beta;
        Depth depth;
    };
    std::vector<Saved> saved;
    for (const Layer& layer : layers_) {
        Saved s{};
        s.alpha = finiteScalar(in, layer.target.name + ".alpha");
        s.beta = finiteScalar(in, layer.target.name + ".beta");
        const std::uint8_t depth = in.u8("committed depth");
        if (depth > static_cast<std::uint8_t>(Depth::Ternary))
            in.fail(layer.target.name + ": committed depth " + std::to_string(depth) + " (0 to 2)");
        s.depth = static_cast<Depth>(depth);
        saved.push_back(s);
    }
    const bool committed = in.boolean("committed");
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        layers_[i].alpha.value[0] = saved[i].alpha;
        layers_[i].beta.value[0] = saved[i].beta;
        layers_[i].committedDepth = saved[i].depth;
    }
    committed_ = committed;
}

// --- UniQ: the step per layer (bits come from the settings and are checked), whether committed ---

void UniqMethod::saveState(BinaryWriter& out) const
{
    writeHeader(out, name(), layers_.size());
    for (const Layer& layer : layers_) {
        out.u32(static_cast<std::uint32_t>(layer.bits));
        out.f32(layer.step.value[0]);
    }
    out.boolean(committed_);
}

void UniqMethod::loadState(BinaryReader& in)
{
    readHeader(in, name(), layers_.size());
    std::vector<float> steps;
    for (const Layer& layer : layers_) {
        const std::uint32_t bits = in.u32("bits");
        if (bits != static_cast<std::uint32_t>(layer.bits))
            in.fail(layer.target.name + ": the state has " + std::to_string(bits) + " bits, the run "
                    + std::to_string(layer.bits));
        steps.push_back(finiteScalar(in, layer.target.name + ".step"));
    }
    const bool committed = in.boolean("committed");
    for (std::size_t i = 0; i < layers_.size(); ++i)
        layers_[i].step.value[0] = steps[i];
    committed_ = committed;
}

// --- CPQ: step and keep-gate logits per layer, the logits frozen at commit, the committed
// bit-lengths, the sample counter (with the seed it fixes every later DropBits and gate draw) ---

void CpqMethod::saveState(BinaryWriter& out) const
{
    writeHeader(out, name(), layers_.size());
    for (const Layer& layer : layers_) {
        out.f32(layer.step.value[0]);
        out.floatList(std::vector<float>(layer.gateLogits.value.data(),
                                         layer.gateLogits.value.data() + layer.gateLogits.value.size()));
        out.floatList(layer.frozenLogits);
        out.i32(layer.committedBits);
    }
    out.u64(counter_);
    out.boolean(committed_);
}

void CpqMethod::loadState(BinaryReader& in)
{
    readHeader(in, name(), layers_.size());
    struct Saved {
        float step = 0.0f;
        std::vector<float> gates;
        std::vector<float> frozen;
        int bits = 0;
    };
    std::vector<Saved> saved;
    for (const Layer& layer : layers_) {
        Saved s;
        s.step = finiteScalar(in, layer.target.name + ".step");
        s.gates = in.floatList(layer.target.name + ".keep_logits");
        if (s.gates.size() != layer.gateLogits.value.size())
            in.fail(layer.target.name + ": " + std::to_string(s.gates.size()) + " keep-gate logits, the run has "
                    + std::to_string(layer.gateLogits.value.size()));
        s.frozen = in.floatList(layer.target.name + " frozen logits");
        if (!s.frozen.empty() && s.frozen.size() != s.gates.size())
            in.fail(layer.target.name + ": " + std::to_string(s.frozen.size()) + " frozen logits for "
                    + std::to_string(s.gates.size()) + " gates");
        for (float v : s.gates)
            if (!std::isfinite(v))
                in.fail(layer.target.name + ": a keep-gate logit is not finite");
        s.bits = in.i32("committed bits");
        if (s.bits < 2 || s.bits > settings_.maxBits)
            in.fail(layer.target.name + ": committed bit-length " + std::to_string(s.bits) + " (2 to "
                    + std::to_string(settings_.maxBits) + ")");
        saved.push_back(std::move(s));
    }
    const std::uint64_t counter = in.u64("sample counter");
    const bool committed = in.boolean("committed");
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        Layer& layer = layers_[i];
        layer.step.value[0] = saved[i].step;
        std::copy(saved[i].gates.begin(), saved[i].gates.end(), layer.gateLogits.value.data());
        layer.frozenLogits = std::move(saved[i].frozen);
        layer.committedBits = saved[i].bits;
    }
    counter_ = counter;
    committed_ = committed;
}

} // namespace sq
