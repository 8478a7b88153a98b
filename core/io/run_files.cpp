#include "core/io/run_files.h"

#include "core/io/atomic_file.h"
#include "core/io/json_writer.h"
#include "core/model_stats.h"

#include <cstdio>
#include <filesystem>

namespace sq {

namespace {

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
        .value("beta_switch", c.sq.betaSwitch)
        .value("optimizer", toString(c.optimizer.kind))
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
                .value("quant_error", l.quantError)
                .endObject();
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

void writeRunFiles(const std::string& dir, const Trainer& trainer, const std::string& datasetDir)
{
    makeDirectories(dir);
    const std::filesystem::path base(dir);
    writeFileAtomically((base / "history.csv").string(), historyCsv(trainer.history()));
    writeFileAtomically((base / "summary.json").string(), summaryJson(trainer, datasetDir));
}

} // namespace sq
