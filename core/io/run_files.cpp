#include "core/io/run_files.h"

#include "core/io/atomic_file.h"
#include "core/io/json_writer.h"
#include "core/model_stats.h"

#include <cstdio>
#include <filesystem>

namespace sq {

namespace {

// The method as the UI and docs name it; CPQ is this project's specification (SPEC §2.2).
const char* methodLabel(QuantMode mode)
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

std::string num(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.7g", v);
    return buf;
}

void writeEvaluation(JsonWriter& j, const Evaluation& e)
{
    j.value("test_accuracy_float", e.floatAccuracy)
        .value("test_accuracy_quantized", e.quantizedAccuracy)
        .value("test_loss_float", e.floatLoss)
        .value("test_loss_quantized", e.quantizedLoss);
}

void writeMemory(JsonWriter& j, const MemoryReport& m)
{
    j.value("weight_bits", static_cast<unsigned long long>(m.weightBits))
        .value("float_weight_bits", static_cast<unsigned long long>(m.floatWeightBits))
        .value("model_bits", static_cast<unsigned long long>(m.modelBits))
        .value("float_model_bits", static_cast<unsigned long long>(m.floatModelBits))
        .value("weight_compression", m.weightCompression())
        .value("compression", m.compression());
}

} // namespace

std::string historyCsv(const RunHistory& history)
{
    std::string out = "epoch,step,phase,seconds,lr,lambda,gamma,train_cross_entropy,train_regularizer,"
                      "train_accuracy,test_accuracy_float,test_accuracy_quantized,test_loss_float,"
                      "test_loss_quantized,weight_bits,model_bits,compression,images_per_second";
    if (!history.epochs.empty())
        for (const auto& l : history.epochs.front().layers)
            for (const char* col : {"decision", "bits", "alpha", "beta", "delta", "share_zero", "quant_error"})
                out += "," + l.name + "_" + col;
    // UniQ and CPQ runs append their own columns after SQ's, which stay where they are.
    const std::string method = history.epochs.empty() || history.epochs.front().layers.empty()
                                   ? std::string("sq")
                                   : history.epochs.front().layers.front().method;
    const bool cpq = method == "cpq";
    if (method == "uniq" || cpq) {
        if (cpq)
            out += ",mu";
        for (const auto& l : history.epochs.front().layers) {
            out += "," + l.name + "_step";
            if (cpq)
                for (int j = 3; j <= l.maxBits; ++j)
                    out += "," + l.name + "_keep_group" + std::to_string(j);
        }
    }
    out += "\n";
    for (const auto& r : history.epochs) {
        out += std::to_string(r.epoch) + "," + std::to_string(r.step) + "," + toString(r.phase) + ","
               + num(r.seconds) + "," + num(r.learningRate) + "," + num(r.lambda) + "," + num(r.gamma) + ","
               + num(r.trainCrossEntropy) + "," + num(r.trainRegularizer) + "," + num(r.trainAccuracy) + ","
               + num(r.evaluation.floatAccuracy) + "," + num(r.evaluation.quantizedAccuracy) + ","
               + num(r.evaluation.floatLoss) + "," + num(r.evaluation.quantizedLoss) + ","
               + std::to_string(r.memory.weightBits) + "," + std::to_string(r.memory.modelBits) + ","
               + num(r.memory.compression()) + "," + num(r.imagesPerSecond);
        for (const auto& l : r.layers)
            out += "," + l.decision + "," + std::to_string(l.bits) + "," + num(l.alpha) + "," + num(l.beta) + ","
                   + num(l.delta) + "," + num(l.shareZero) + "," + num(l.quantError);
        if (method == "uniq" || cpq) {
            if (cpq)
                out += "," + num(r.mu);
            for (const auto& l : r.layers) {
                out += "," + num(l.step);
                if (cpq)
                    for (int j = 3; j <= l.maxBits; ++j) {
                        const auto idx = static_cast<std::size_t>(j - 3);
                        out += "," + (idx < l.keepProbability.size() ? num(l.keepProbability[idx]) : std::string());
                    }
            }
        }
        out += "\n";
    }
    return out;
}

std::string summaryJson(const Trainer& trainer, const std::string& datasetDir)
{
    const TrainConfig& c = trainer.config();
    const RunHistory& h = trainer.history();
    JsonWriter j;
    j.beginObject();
    j.value("format", "sq-explorer run summary").value("version", 1).value("sq_version", SQ_VERSION);
    j.value("finished", trainer.finished());
    j.value("method", methodLabel(c.sq.mode));

    j.beginObject("config")
        .value("dataset", datasetDir)
        .value("train_limit", c.trainLimit)
        .value("test_limit", c.testLimit)
        .value("model", c.arch.empty() ? c.model : std::string("custom"))
        .value("architecture", trainer.model().architecture())
        .value("mode", toString(c.sq.mode))
        .value("lambda", c.lambda)
        .value("lambda_schedule", toString(c.lambdaSchedule.kind))
        .value("gamma", c.gamma)
        .value("p", c.sq.p)
        .value("beta_init", c.sq.betaInit)
        .value("beta_switch", c.sq.betaSwitch);
    if (c.sq.mode == QuantMode::Uniq) {
        j.value("bits", c.uniq.bits);
        j.beginArray("layer_bits");
        for (int b : c.uniq.layerBits)
            j.element(b);
        j.endArray();
    } else if (c.sq.mode == QuantMode::Cpq) {
        j.value("max_bits", c.cpq.maxBits)
            .value("drop_p", c.cpq.dropP)
            .value("mu", c.mu)
            .value("cpq_temperature", c.cpq.temperature);
    }
    j.value("optimizer", toString(c.optimizer.kind))
        .value("lr", c.learningRate)
        .value("lr_schedule", toString(c.lrSchedule.kind))
        .value("batch", c.batchSize)
        .value("epochs", c.epochs)
        .value("commit_epochs", c.resolvedCommitEpochs())
        .value("seed", static_cast<unsigned long long>(c.seed))
        .value("threads", c.resolvedThreads());
    j.beginArray("keep_float");
    for (const auto& name : c.sq.keepFloat)
        j.element(name);
    j.endArray().endObject();

    j.value("parameters", static_cast<unsigned long long>(trainer.model().parameterCount()))
        .value("quantizable_weights", static_cast<unsigned long long>(trainer.model().weightCount()))
        .value("epochs_completed", static_cast<int>(h.epochs.size()))
        .value("steps", static_cast<long long>(trainer.stepCount()));

    if (!h.epochs.empty()) {
        const EpochRecord& last = h.epochs.back();
        j.beginObject("final");
        writeEvaluation(j, last.evaluation);
        j.value("train_accuracy", last.trainAccuracy).value("images_per_second", last.imagesPerSecond)
            .value("training_seconds", last.seconds);
        writeMemory(j, last.memory);
        j.endObject();
        j.beginArray("layers");
        for (const auto& l : last.layers) {
            j.beginObject()
                .value("name", l.name)
                .value("layer", l.description)
                .value("weights", static_cast<unsigned long long>(l.weights))
                .value("decision", l.decision)
                .value("bits", l.bits)
                .value("keep_float", l.keepFloat)
                .value("alpha", static_cast<double>(l.alpha))
                .value("beta", static_cast<double>(l.beta))
                .value("delta", static_cast<double>(l.delta))
                .value("share_negative", l.shareNegative)
                .value("share_zero", l.shareZero)
                .value("share_positive", l.sharePositive)
                .value("quant_error", l.quantError);
            if (l.method == "uniq" || l.method == "cpq") {
                j.value("method", l.method).value("step", static_cast<double>(l.step));
                j.beginArray("levels");
                for (float v : l.levels)
                    j.element(static_cast<double>(v));
                j.endArray();
            }
            if (l.method == "cpq") {
                j.value("max_bits", l.maxBits);
                j.beginArray("keep_probability");
                for (float p : l.keepProbability)
                    j.element(static_cast<double>(p));
                j.endArray();
            }
            j.endObject();
        }
        j.endArray();
    }
    j.beginArray("events");
    for (const auto& e : h.events)
        j.beginObject()
            .value("step", static_cast<long long>(e.step))
            .value("epochs_elapsed", e.epochsElapsed)
            .value("parameter", e.parameter)
            .value("from", e.from)
            .value("to", e.to)
            .endObject();
    j.endArray();
    j.endObject();
    return j.str();
}

void writeRunFiles(const std::string& dir, const Trainer& trainer, const std::string& datasetDir,
                   const SnapshotList* snapshots)
{
    makeDirectories(dir);
    const std::filesystem::path base(dir);
    writeFileAtomically((base / "history.csv").string(), historyCsv(trainer.history()));
    if (snapshots)
        writeFileAtomically((base / "snapshots.jsonl").string(), snapshotLog(*snapshots));
    // The summary last: a folder is a run once summary.json exists (see core/io/run_loader.h).
    writeFileAtomically((base / "summary.json").string(), summaryJson(trainer, datasetDir));
}

} // namespace sq
