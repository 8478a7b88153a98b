#include "core/io/snapshot_log.h"

#include "core/error.h"
#include "core/io/json_reader.h"
#include "core/io/json_writer.h"
#include "core/io/read_file.h"

#include <climits>
#include <cmath>

namespace sq {

namespace {

// Bounds on what one log may hold: far above any real run (the recorders keep a few thousand
// snapshots of a few dozen layers), low enough that a hostile file cannot exhaust memory.
constexpr std::size_t kMaxLogBytes = 512u * 1024 * 1024;
constexpr std::size_t kMaxLineBytes = 16u * 1024 * 1024;
constexpr std::size_t kMaxSnapshots = 1'000'000;
constexpr std::size_t kMaxLayers = 4096;
constexpr std::size_t kMaxBins = 1 << 16;
constexpr std::size_t kMaxLevels = 1024;
constexpr std::size_t kMaxEvents = 100'000;
constexpr long long kMaxCount = LLONG_MAX;

void writeFloats(JsonWriter& j, const char* key, const std::vector<float>& values)
{
    j.beginArray(key);
    for (const float v : values)
        j.element(static_cast<double>(v));
    j.endArray();
}

void writeLayer(JsonWriter& j, const LayerSnapshot& layer)
{
    const LayerQuantState& s = layer.state;
    j.beginObject()
        .value("name", s.name)
        .value("description", s.description)
        .value("method", s.method)
        .value("weights", static_cast<unsigned long long>(s.weights))
        .value("decision", s.decision)
        .value("bits", s.bits)
        .value("keep_float", s.keepFloat)
        .value("committed", s.committed)
        .value("alpha", static_cast<double>(s.alpha))
        .value("beta", static_cast<double>(s.beta))
        .value("delta", static_cast<double>(s.delta))
        .value("step", static_cast<double>(s.step));
    writeFloats(j, "levels", s.levels);
    j.value("share_negative", s.shareNegative).value("share_zero", s.shareZero).value("share_positive", s.sharePositive);
    j.beginArray("level_shares");
    for (const double v : s.levelShares)
        j.element(v);
    j.endArray();
    j.value("quant_error", s.quantError).value("max_bits", s.maxBits);
    writeFloats(j, "keep_probability", s.keepProbability);
    writeFloats(j, "dropped_levels", s.droppedLevels);
    j.beginObject("histogram")
        .value("lo", static_cast<double>(layer.histogram.lo))
        .value("hi", static_cast<double>(layer.histogram.hi));
    writeFloats(j, "counts", layer.histogram.counts);
    j.endObject();
    j.endObject();
}

std::vector<float> floats(const JsonObjectReader& o, const std::string& key, std::size_t maxItems)
{
    std::vector<float> out;
    for (const double v : o.numbers(key, maxItems))
        out.push_back(static_cast<float>(v));
    return out;
}

float floatField(const JsonObjectReader& o, const std::string& key)
{
    return static_cast<float>(o.numberOrNaN(key));
}

LayerSnapshot readLayer(const JsonObjectReader& o)
{
    LayerSnapshot layer;
    LayerQuantState& s = layer.state;
    s.name = o.string("name");
    s.description = o.string("description");
    s.method = o.string("method");
    s.weights = static_cast<std::size_t>(o.integer("weights", 0, kMaxCount));
    s.decision = o.string("decision");
    s.bits = static_cast<int>(o.integer("bits", 0, 64));
    s.keepFloat = o.boolean("keep_float");
    s.committed = o.boolean("committed");
    s.alpha = floatField(o, "alpha");
    s.beta = floatField(o, "beta");
    s.delta = floatField(o, "delta");
    s.step = floatField(o, "step");
    s.levels = floats(o, "levels", kMaxLevels);
    s.shareNegative = o.numberOrNaN("share_negative");
    s.shareZero = o.numberOrNaN("share_zero");
    s.sharePositive = o.numberOrNaN("share_positive");
    s.levelShares = o.numbers("level_shares", kMaxLevels);
    s.quantError = o.numberOrNaN("quant_error");
    s.maxBits = static_cast<int>(o.integer("max_bits", 0, 64));
    s.keepProbability = floats(o, "keep_probability", 64);
    s.droppedLevels = floats(o, "dropped_levels", kMaxLevels);
    const JsonObjectReader h = o.object("histogram");
    layer.histogram.lo = floatField(h, "lo");
    layer.histogram.hi = floatField(h, "hi");
    layer.histogram.counts = floats(h, "counts", kMaxBins);
    return layer;
}

Phase readPhase(const JsonObjectReader& o)
{
    const std::string phase = o.string("phase");
    if (phase == "search")
        return Phase::Search;
    if (phase == "commit")
        return Phase::Commit;
    o.fail(o.required("phase"), "phase", "expected \"search\" or \"commit\", got \"" + phase.substr(0, 32) + "\"");
}

std::shared_ptr<const Snapshot> readSnapshot(const JsonValue& value, const std::string& source)
{
    const JsonObjectReader o(value, source);
    auto s = std::make_shared<Snapshot>();
    s->mode = o.string("mode");
    s->step = o.integer("step", 0, kMaxCount);
    s->totalSteps = o.integer("total_steps", 0, kMaxCount);
    s->epoch = static_cast<int>(o.integer("epoch", 0, INT_MAX));
    s->epochs = static_cast<int>(o.integer("epochs", 0, INT_MAX));
    s->batchInEpoch = static_cast<int>(o.integer("batch_in_epoch", 0, INT_MAX));
    s->batchesPerEpoch = static_cast<int>(o.integer("batches_per_epoch", 0, INT_MAX));
    s->epochsElapsed = o.number("epochs_elapsed");
    s->phase = readPhase(o);
    s->commitStartEpoch = static_cast<int>(o.integer("commit_start_epoch", 0, INT_MAX));
    s->finished = o.boolean("finished");
    s->paused = o.boolean("paused");
    s->elapsedSeconds = o.numberOrNaN("elapsed_seconds");
    s->etaSeconds = o.numberOrNaN("eta_seconds");
    s->imagesPerSecond = o.numberOrNaN("images_per_second");
    s->crossEntropy = o.numberOrNaN("cross_entropy");
    s->regularizer = o.numberOrNaN("regularizer");
    s->trainAccuracy = o.numberOrNaN("train_accuracy");
    s->lambda = o.numberOrNaN("lambda");
    s->gamma = o.numberOrNaN("gamma");
    s->mu = o.numberOrNaN("mu");
    s->learningRate = o.numberOrNaN("lr");
    if (!o.required("evaluation").isNull()) {
        const JsonObjectReader e = o.object("evaluation");
        s->lastEvaluation = Evaluation{e.numberOrNaN("float_accuracy"), e.numberOrNaN("quantized_accuracy"),
                                       e.numberOrNaN("float_loss"), e.numberOrNaN("quantized_loss")};
    }
    s->evaluatedEpochs = static_cast<int>(o.integer("evaluated_epochs", 0, INT_MAX));
    const JsonValue::Array& events = o.array("events", kMaxEvents);
    s->events.reserve(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        const JsonObjectReader e = o.element("events", events[i], i);
        s->events.push_back({e.integer("step", 0, kMaxCount), e.number("epochs_elapsed"), e.string("parameter"),
                             e.numberOrNaN("from"), e.numberOrNaN("to")});
    }
    const JsonObjectReader m = o.object("memory");
    s->memory.weightBits = static_cast<std::uint64_t>(m.integer("weight_bits", 0, kMaxCount));
    s->memory.floatWeightBits = static_cast<std::uint64_t>(m.integer("float_weight_bits", 0, kMaxCount));
    s->memory.modelBits = static_cast<std::uint64_t>(m.integer("model_bits", 0, kMaxCount));
    s->memory.floatModelBits = static_cast<std::uint64_t>(m.integer("float_model_bits", 0, kMaxCount));
    const JsonValue::Array& layers = o.array("layers", kMaxLayers);
    s->layers.reserve(layers.size());
    for (std::size_t i = 0; i < layers.size(); ++i)
        s->layers.push_back(readLayer(o.element("layers", layers[i], i)));
    return s;
}

} // namespace

std::string snapshotJson(const Snapshot& s)
{
    JsonWriter j(true);
    j.beginObject()
        .value("mode", s.mode)
        .value("step", static_cast<long long>(s.step))
        .value("total_steps", static_cast<long long>(s.totalSteps))
        .value("epoch", s.epoch)
        .value("epochs", s.epochs)
        .value("batch_in_epoch", s.batchInEpoch)
        .value("batches_per_epoch", s.batchesPerEpoch)
        .value("epochs_elapsed", s.epochsElapsed)
        .value("phase", toString(s.phase))
        .value("commit_start_epoch", s.commitStartEpoch)
        .value("finished", s.finished)
        .value("paused", s.paused)
        .value("elapsed_seconds", s.elapsedSeconds)
        .value("eta_seconds", s.etaSeconds)
        .value("images_per_second", s.imagesPerSecond)
        .value("cross_entropy", s.crossEntropy)
        .value("regularizer", s.regularizer)
        .value("train_accuracy", s.trainAccuracy)
        .value("lambda", s.lambda)
        .value("gamma", s.gamma)
        .value("mu", s.mu)
        .value("lr", s.learningRate);
    if (s.lastEvaluation)
        j.beginObject("evaluation")
            .value("float_accuracy", s.lastEvaluation->floatAccuracy)
            .value("quantized_accuracy", s.lastEvaluation->quantizedAccuracy)
            .value("float_loss", s.lastEvaluation->floatLoss)
            .value("quantized_loss", s.lastEvaluation->quantizedLoss)
            .endObject();
    else
        j.null("evaluation");
    j.value("evaluated_epochs", s.evaluatedEpochs);
    j.beginArray("events");
    for (const ControlEvent& e : s.events)
        j.beginObject()
            .value("step", static_cast<long long>(e.step))
            .value("epochs_elapsed", e.epochsElapsed)
            .value("parameter", e.parameter)
            .value("from", e.from)
            .value("to", e.to)
            .endObject();
    j.endArray();
    j.beginObject("memory")
        .value("weight_bits", static_cast<unsigned long long>(s.memory.weightBits))
        .value("float_weight_bits", static_cast<unsigned long long>(s.memory.floatWeightBits))
        .value("model_bits", static_cast<unsigned long long>(s.memory.modelBits))
        .value("float_model_bits", static_cast<unsigned long long>(s.memory.floatModelBits))
        .endObject();
    j.beginArray("layers");
    for (const LayerSnapshot& layer : s.layers)
        writeLayer(j, layer);
    j.endArray();
    j.endObject();
    return j.str();
}

std::string snapshotLog(const SnapshotList& snapshots)
{
    JsonWriter header(true);
    header.beginObject()
        .value("format", kSnapshotLogFormat)
        .value("version", kSnapshotLogVersion)
        .value("sq_version", SQ_VERSION)
        .value("snapshots", static_cast<unsigned long long>(snapshots.size()))
        .endObject();
    std::string out = header.str() + "\n";
    for (const auto& s : snapshots)
        out += snapshotJson(*s) + "\n";
    return out;
}

SnapshotList parseSnapshotLog(std::string_view text, const std::string& source)
{
    SnapshotList out;
    std::size_t announced = 0;
    bool headerSeen = false;
    int lineNumber = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos)
            end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        ++lineNumber;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos)
            continue; // blank lines (a trailing one, say) carry nothing
        if (line.size() > kMaxLineBytes)
            throw Error(source + " line " + std::to_string(lineNumber) + ": longer than "
                        + std::to_string(kMaxLineBytes) + " bytes");
        const JsonValue value = parseJson(line, source, lineNumber);
        if (!headerSeen) {
            const JsonObjectReader h(value, source, "header");
            const std::string format = h.string("format");
            if (format != kSnapshotLogFormat)
                throw Error(source + " line " + std::to_string(lineNumber) + ": not an SQ Explorer snapshot log (format \""
                            + format.substr(0, 64) + "\")");
            const long long version = h.integer("version", 1, INT_MAX);
            if (version > kSnapshotLogVersion)
                throw Error(source + ": snapshot log version " + std::to_string(version)
                            + " was written by a newer SQ Explorer; this one reads version "
                            + std::to_string(kSnapshotLogVersion));
            announced = static_cast<std::size_t>(h.integer("snapshots", 0, static_cast<long long>(kMaxSnapshots)));
            out.reserve(announced);
            headerSeen = true;
            continue;
        }
        if (out.size() == announced)
            throw Error(source + " line " + std::to_string(lineNumber) + ": more snapshots than the "
                        + std::to_string(announced) + " the header announces");
        out.push_back(readSnapshot(value, source));
    }
    if (!headerSeen)
        throw Error(source + ": empty file (expected a header line naming the format)");
    if (out.size() != announced)
        throw Error(source + ": truncated: the header announces " + std::to_string(announced) + " snapshots, the file holds "
                    + std::to_string(out.size()));
    return out;
}

SnapshotList readSnapshotLog(const std::string& path)
{
    return parseSnapshotLog(readFileBounded(path, kMaxLogBytes), path);
}

} // namespace sq
