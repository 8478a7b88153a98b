#include "core/io/run_summary.h"

#include "core/error.h"
#include "core/io/json_reader.h"
#include "core/io/read_file.h"

#include <climits>
#include <cstdio>

namespace sq {

namespace {

constexpr std::size_t kMaxSummaryBytes = 16u * 1024 * 1024;
constexpr std::size_t kMaxLayers = 4096;
constexpr std::size_t kMaxLevels = 1024;
constexpr std::size_t kMaxEvents = 100'000;
constexpr int kSummaryVersion = 1;

// Names like "sgd" go through the engine's own parsers, whose messages name a command-line flag;
// here the file and field are what the reader needs.
template <typename Parse>
auto parsedName(const JsonObjectReader& o, const std::string& key, Parse parse)
{
    const std::string text = o.string(key);
    try {
        return parse(text);
    } catch (const Error&) {
        o.fail(o.required(key), key, "unknown value \"" + text.substr(0, 32) + "\"");
    }
}

int intField(const JsonObjectReader& o, const std::string& key, long long min, long long max, int fallback)
{
    return static_cast<int>(o.integerOr(key, min, max, fallback));
}

void readConfig(const JsonObjectReader& c, RunSummary& s)
{
    TrainConfig& t = s.config;
    t.sq.mode = parsedName(c, "mode", parseQuantMode);
    t.datasetDir = c.stringOr("dataset", "");
    t.trainLimit = intField(c, "train_limit", 0, INT_MAX, 0);
    t.testLimit = intField(c, "test_limit", 0, INT_MAX, 0);
    t.model = c.stringOr("model", t.model);
    s.architecture = c.stringOr("architecture", "");
    if (t.model == "custom")
        t.arch = s.architecture;
    t.lambda = c.numberOr("lambda", t.lambda);
    if (c.has("lambda_schedule"))
        t.lambdaSchedule.kind = parsedName(c, "lambda_schedule", parseLambdaScheduleKind);
    t.gamma = c.numberOr("gamma", t.gamma);
    t.sq.p = intField(c, "p", 1, 2, t.sq.p);
    t.sq.betaInit = c.numberOr("beta_init", t.sq.betaInit);
    t.sq.betaSwitch = c.numberOr("beta_switch", t.sq.betaSwitch);
    t.uniq.bits = intField(c, "bits", 1, 64, t.uniq.bits);
    for (const double b : c.numbers("layer_bits", kMaxLayers)) {
        if (!(b >= 1 && b <= 64))
            c.fail(c.required("layer_bits"), "layer_bits", "expected bit-widths in [1, 64]");
        t.uniq.layerBits.push_back(static_cast<int>(b));
    }
    t.cpq.maxBits = intField(c, "max_bits", 1, 64, t.cpq.maxBits);
    t.cpq.dropP = c.numberOr("drop_p", t.cpq.dropP);
    t.mu = c.numberOr("mu", t.mu);
    t.cpq.temperature = c.numberOr("cpq_temperature", t.cpq.temperature);
    if (c.has("optimizer"))
        t.optimizer.kind = parsedName(c, "optimizer", parseOptimizerKind);
    t.learningRate = c.numberOr("lr", t.learningRate);
    if (c.has("lr_schedule"))
        t.lrSchedule.kind = parsedName(c, "lr_schedule", parseLrScheduleKind);
    t.batchSize = intField(c, "batch", 1, INT_MAX, t.batchSize);
    t.epochs = intField(c, "epochs", 0, INT_MAX, t.epochs);
    t.commitEpochs = intField(c, "commit_epochs", -1, INT_MAX, t.commitEpochs);
    t.seed = static_cast<std::uint64_t>(c.integerOr("seed", 0, LLONG_MAX, 0));
    t.threads = intField(c, "threads", 0, INT_MAX, t.threads);
    const JsonValue::Array& keep = c.arrayOrEmpty("keep_float", kMaxLayers);
    for (std::size_t i = 0; i < keep.size(); ++i) {
        if (!keep[i].isString())
            c.fail(keep[i], "keep_float[" + std::to_string(i) + "]", "expected a layer name");
        t.sq.keepFloat.insert(keep[i].string());
    }
}

RunFinal readFinal(const JsonObjectReader& f)
{
    RunFinal r;
    r.evaluation.floatAccuracy = f.numberOrNaN("test_accuracy_float");
    r.evaluation.quantizedAccuracy = f.numberOrNaN("test_accuracy_quantized");
    r.evaluation.floatLoss = f.numberOr("test_loss_float", 0.0);
    r.evaluation.quantizedLoss = f.numberOr("test_loss_quantized", 0.0);
    r.trainAccuracy = f.numberOr("train_accuracy", 0.0);
    r.imagesPerSecond = f.numberOr("images_per_second", 0.0);
    r.trainingSeconds = f.numberOr("training_seconds", 0.0);
    r.memory.weightBits = static_cast<std::uint64_t>(f.integer("weight_bits", 0, LLONG_MAX));
    r.memory.floatWeightBits = static_cast<std::uint64_t>(f.integerOr("float_weight_bits", 0, LLONG_MAX, 0));
    r.memory.modelBits = static_cast<std::uint64_t>(f.integer("model_bits", 0, LLONG_MAX));
    r.memory.floatModelBits = static_cast<std::uint64_t>(f.integerOr("float_model_bits", 0, LLONG_MAX, 0));
    return r;
}

LayerQuantState readLayer(const JsonObjectReader& o)
{
    LayerQuantState l;
    l.name = o.string("name");
    l.description = o.stringOr("layer", "");
    l.weights = static_cast<std::size_t>(o.integerOr("weights", 0, LLONG_MAX, 0));
    l.decision = o.string("decision");
    l.bits = static_cast<int>(o.integer("bits", 0, 64));
    l.keepFloat = o.booleanOr("keep_float", false);
    l.alpha = static_cast<float>(o.numberOr("alpha", 0.0));
    l.beta = static_cast<float>(o.numberOr("beta", 0.0));
    l.delta = static_cast<float>(o.numberOr("delta", 0.0));
    l.shareNegative = o.numberOr("share_negative", 0.0);
    l.shareZero = o.numberOr("share_zero", 0.0);
    l.sharePositive = o.numberOr("share_positive", 0.0);
    l.quantError = o.numberOr("quant_error", 0.0);
    l.method = o.stringOr("method", "sq");
    l.step = static_cast<float>(o.numberOr("step", 0.0));
    for (const double v : o.numbers("levels", kMaxLevels))
        l.levels.push_back(static_cast<float>(v));
    l.maxBits = static_cast<int>(o.integerOr("max_bits", 0, 64, 0));
    for (const double v : o.numbers("keep_probability", 64))
        l.keepProbability.push_back(static_cast<float>(v));
    return l;
}

std::string methodFor(QuantMode mode)
{
    switch (mode) {
    case QuantMode::Uniq:
        return "UniQ";
    case QuantMode::Cpq:
        return "CPQ (DropBits)";
    case QuantMode::Float:
    case QuantMode::Binary:
    case QuantMode::Ternary:
    case QuantMode::Sq:
        break;
    }
    return "SQ";
}

std::string shortNumber(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

} // namespace

RunSummary parseRunSummary(std::string_view text, const std::string& source)
{
    const JsonValue doc = parseJson(text, source);
    const JsonObjectReader o(doc, source);
    RunSummary s;
    const std::string format = o.string("format");
    if (format != "sq-explorer run summary")
        o.fail(o.required("format"), "format", "not an SQ Explorer run summary (\"" + format.substr(0, 64) + "\")");
    s.version = static_cast<int>(o.integer("version", 1, INT_MAX));
    if (s.version > kSummaryVersion)
        o.fail(o.required("version"), "version",
               "version " + std::to_string(s.version) + " was written by a newer SQ Explorer; this one reads version "
                   + std::to_string(kSummaryVersion));
    s.sqVersion = o.stringOr("sq_version", "");
    s.finished = o.boolean("finished");
    readConfig(o.object("config"), s);
    s.method = o.stringOr("method", methodFor(s.config.sq.mode));
    s.parameters = static_cast<std::uint64_t>(o.integerOr("parameters", 0, LLONG_MAX, 0));
    s.quantizableWeights = static_cast<std::uint64_t>(o.integerOr("quantizable_weights", 0, LLONG_MAX, 0));
    s.epochsCompleted = static_cast<int>(o.integer("epochs_completed", 0, INT_MAX));
    s.steps = o.integerOr("steps", 0, LLONG_MAX, 0);
    if (s.epochsCompleted > 0 || o.has("final"))
        s.final = readFinal(o.object("final"));
    const JsonValue::Array& layers = o.arrayOrEmpty("layers", kMaxLayers);
    for (std::size_t i = 0; i < layers.size(); ++i)
        s.layers.push_back(readLayer(o.element("layers", layers[i], i)));
    const JsonValue::Array& events = o.arrayOrEmpty("events", kMaxEvents);
    for (std::size_t i = 0; i < events.size(); ++i) {
        const JsonObjectReader e = o.element("events", events[i], i);
        s.events.push_back({e.integer("step", 0, LLONG_MAX), e.number("epochs_elapsed"), e.string("parameter"),
                            e.numberOrNaN("from"), e.numberOrNaN("to")});
    }
    return s;
}

RunSummary readRunSummary(const std::string& path)
{
    return parseRunSummary(readFileBounded(path, kMaxSummaryBytes), path);
}

std::string runLabel(const RunSummary& s)
{
    const TrainConfig& c = s.config;
    switch (c.sq.mode) {
    case QuantMode::Float:
        return "float";
    case QuantMode::Binary:
        return "binary";
    case QuantMode::Ternary:
        return "ternary";
    case QuantMode::Sq:
        return "SQ λ " + shortNumber(c.lambda) + " γ " + shortNumber(c.gamma);
    case QuantMode::Uniq: {
        if (c.uniq.layerBits.empty())
            return "UniQ " + std::to_string(c.uniq.bits) + (c.uniq.bits == 1 ? " bit" : " bits");
        std::string bits;
        for (const int b : c.uniq.layerBits)
            bits += (bits.empty() ? "" : ",") + std::to_string(b);
        return "UniQ bits " + bits;
    }
    case QuantMode::Cpq:
        return "CPQ B " + std::to_string(c.cpq.maxBits) + " μ " + shortNumber(c.mu);
    }
    return s.method;
}

} // namespace sq
