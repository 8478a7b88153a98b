// sq-train: trains one configuration headless and writes its run folder.
#include "app/cli_options.h"

#include "core/data/dataset.h"
#include "core/error.h"
#include "core/io/c_header_export.h"
#include "core/io/model_file.h"
#include "core/io/onnx_export.h"
#include "core/io/run_files.h"
#include "core/io/session_file.h"
#include "core/io/run_loader.h"
#include "core/io/trained_model.h"
#include "core/model_eval.h"
#include "core/parallel.h"
#include "core/snapshot_recorder.h"
#include "core/trainer.h"
#include "ui/figure_folder.h"

#include <Eigen/Core>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int) { g_interrupted.store(true); }

char decisionLetter(const std::string& decision)
{
    if (decision == "binary")
        return 'B';
    if (decision == "ternary")
        return 'T';
    if (decision.ends_with("-bit")) // UniQ and CPQ: "3-bit" prints as 3
        return decision.front();
    return 'F';
}

std::string groupedNumber(unsigned long long v)
{
    std::string s = std::to_string(v);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

void printEpoch(const sq::EpochRecord& r, int epochs)
{
    std::printf("epoch %3d/%d %-6s  ce %.4f  reg %.4f  train %6.2f%%  test float %6.2f%%  quant %6.2f%%  [",
                r.epoch, epochs, sq::toString(r.phase), r.trainCrossEntropy, r.trainRegularizer,
                100.0 * r.trainAccuracy, 100.0 * r.evaluation.floatAccuracy, 100.0 * r.evaluation.quantizedAccuracy);
    for (std::size_t i = 0; i < r.layers.size(); ++i)
        std::printf("%s%c", i ? " " : "", decisionLetter(r.layers[i].decision));
    std::printf("]  %s weight bits  %.0f img/s\n", groupedNumber(r.memory.weightBits).c_str(), r.imagesPerSecond);
    std::fflush(stdout);
}

void printSummary(const sq::Trainer& trainer)
{
    const auto& epochs = trainer.history().epochs;
    if (epochs.empty())
        return;
    const sq::EpochRecord& r = epochs.back();
    std::printf("\nlayer     weights   decision  bits  alpha     beta    zero-share  quant-error\n");
    for (const auto& l : r.layers)
        std::printf("%-8s %8zu   %-8s  %4d  %.5f  %.4f  %9.3f   %10.4f\n", l.name.c_str(), l.weights,
                    l.decision.c_str(), l.bits, static_cast<double>(l.alpha), static_cast<double>(l.beta), l.shareZero,
                    l.quantError);
    std::printf("test accuracy: float %.2f%%, quantized %.2f%%\n", 100.0 * r.evaluation.floatAccuracy,
                100.0 * r.evaluation.quantizedAccuracy);
    std::printf("weight bits %s (float32 %s, %.1fx); model bits %s (%.1fx smaller than float32)\n",
                groupedNumber(r.memory.weightBits).c_str(), groupedNumber(r.memory.floatWeightBits).c_str(),
                r.memory.weightCompression(), groupedNumber(r.memory.modelBits).c_str(), r.memory.compression());
}

// --eval: the test accuracy of a saved model, computed as the trainer computes its own.
int evaluateSavedModel(const std::string& path, const sq::TrainConfig& config)
{
    const sq::ModelFileEvaluation e = sq::evaluateModelFile(path, config.datasetDir, config.datasetKind,
                                                            config.testLimit, config.evalBatchSize,
                                                            config.resolvedThreads());
    const sq::StoredModel& stored = e.stored;
    std::printf("%s: %s model, %s, input %s\n", path.c_str(), stored.method.c_str(), stored.architecture.c_str(),
                sq::shapeString(stored.inputSample).c_str());
    for (const auto& w : stored.weights)
        std::printf("  %-8s %-8s %2d bits  %zu weights\n", w.name.c_str(), w.decision.c_str(), w.bits, w.count());
    std::printf("test accuracy %.2f%% (%lld of %lld correct), loss %.6f on %s\n", 100.0 * e.result.accuracy(),
                static_cast<long long>(e.result.correct), static_cast<long long>(e.result.total), e.result.loss,
                config.datasetDir.c_str());
    return 0;
}

// model.sqm, model.onnx and model.h: the model whose accuracy the run reported.
void writeModelExports(const std::string& outDir, sq::Trainer& trainer, const sq::DatasetSplits& data)
{
    const sq::StoredModel stored = sq::captureTrainedModel(trainer, data.mean, data.stddev);
    const std::string sqm = outDir + "/model.sqm";
    sq::writeModelFile(sqm, stored);
    sq::writeOnnxModel(outDir + "/model.onnx", stored);
    sq::writeCHeader(outDir + "/model.h", stored);
    const std::uint64_t bits = sq::storedModelBits(stored);
    const auto bytes = static_cast<unsigned long long>(std::filesystem::file_size(sqm));
    std::printf("wrote %s (%s bytes: %s model bits = %s bytes, plus %s bytes of header, metadata and padding), "
                "model.onnx and model.h\n",
                sqm.c_str(), groupedNumber(bytes).c_str(), groupedNumber(bits).c_str(),
                groupedNumber((bits + 7) / 8).c_str(), groupedNumber(bytes - (bits + 7) / 8).c_str());
}

// Left-aligned in `width` terminal columns; UTF-8 aware, for labels such as "SQ λ 1 γ 0.003".
std::string padded(const std::string& s, std::size_t width)
{
    std::size_t columns = 0;
    for (const char c : s)
        columns += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
    return s + std::string(width > columns ? width - columns : 1, ' ');
}

// --compare: finished runs side by side, and with --plots the frontier and the overlaid curves.
int compareRunFolders(const std::vector<std::string>& dirs, const std::string& plotsDir)
{
    std::vector<std::shared_ptr<const sq::LoadedRun>> runs;
    for (const std::string& dir : dirs)
        runs.push_back(std::make_shared<const sq::LoadedRun>(sq::loadRun(dir)));
    std::printf("%s%s epochs  test float  test quant   model bits  compression  bits per layer\n",
                padded("run", 28).c_str(), padded("method", 22).c_str());
    for (const auto& run : runs) {
        const sq::RunSummary& s = run->summary;
        std::string bits;
        for (const auto& l : s.layers)
            bits += (bits.empty() ? "" : " ") + (l.bits >= 32 ? std::string("F") : std::to_string(l.bits));
        if (s.final)
            std::printf("%s%s %6d  %9.2f%%  %9.2f%%  %11s  %10.1fx  %s%s\n", padded(run->name, 28).c_str(),
                        padded(sq::runLabel(s), 22).c_str(), s.epochsCompleted,
                        100.0 * s.final->evaluation.floatAccuracy, 100.0 * s.final->evaluation.quantizedAccuracy,
                        groupedNumber(s.final->memory.modelBits).c_str(), s.final->memory.compression(),
                        bits.c_str(), s.finished ? "" : "  (stopped early)");
        else
            std::printf("%s%s %6d  (stopped before its first epoch ended)\n", padded(run->name, 28).c_str(),
                        padded(sq::runLabel(s), 22).c_str(), s.epochsCompleted);
    }
    if (!plotsDir.empty()) {
        const QStringList files = sq::ui::renderComparisonFigures(runs, QString::fromStdString(plotsDir));
        std::printf("wrote %lld files (frontier and compare as PNG, PDF and SVG) to %s\n",
                    static_cast<long long>(files.size()), plotsDir.c_str());
    }
    return 0;
}

std::string defaultOutDir(const sq::TrainConfig& c)
{
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::localtime(&now));
    return "runs/" + (c.arch.empty() ? c.model : std::string("custom")) + "-" + sq::toString(c.sq.mode) + "-" + stamp;
}

} // namespace

int main(int argc, char** argv)
{
    sq::cli::Options options;
    try {
        options = sq::cli::parseOptions(std::vector<std::string>(argv + 1, argv + argc));
        if (options.help) {
            std::cout << sq::cli::helpText();
            return 0;
        }
        if (options.version) {
            std::cout << "sq-train " << SQ_VERSION << "\n";
            return 0;
        }
        options.config.validate();
    } catch (const sq::Error& e) {
        std::cerr << "sq-train: " << e.what() << "\n";
        return 2;
    }

    try {
        const sq::TrainConfig command = options.config; // the command line's values, before a session's
        sq::TrainConfig& config = options.config;
        std::optional<sq::TrainerState> resumed;
        if (!options.resumeSession.empty()) {
            sq::TrainerState s = sq::readSessionFile(options.resumeSession);
            if (options.given.contains("--epochs"))
                sq::extendEpochs(s, command.epochs);
            if (options.given.contains("--threads"))
                s.config.threads = command.threads;
            if (options.given.contains("--dataset"))
                s.config.datasetDir = command.datasetDir;
            config = s.config;
            resumed = std::move(s);
        }
        if (config.datasetDir.empty())
            config.datasetDir = sq::defaultDatasetDir();
        if (!options.compareDirs.empty())
            return compareRunFolders(options.compareDirs, options.plotsDir);
        if (!options.evalModel.empty())
            return evaluateSavedModel(options.evalModel, config);
        const std::string outDir = options.outDir.empty() ? defaultOutDir(config) : options.outDir;

        const auto loadStart = std::chrono::steady_clock::now();
        auto data = std::make_shared<const sq::DatasetSplits>(
            sq::loadDataset(config.datasetDir, config.datasetKind, config.trainLimit, config.testLimit));
        const double loadSeconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - loadStart).count();

        sq::Trainer trainer(config, data);
        if (resumed) {
            sq::restoreSession(trainer, *resumed, options.resumeSession);
            resumed.reset();
            // Lowered (or raised) values take effect like a live change, recorded in the history.
            const auto live = [&](const char* flag, sq::Controls::Knob& knob, double value) {
                if (options.given.contains(flag))
                    knob.set(value);
            };
            live("--lr", trainer.controls().learningRate, command.learningRate);
            live("--lambda", trainer.controls().lambda, command.lambda);
            live("--gamma", trainer.controls().gamma, command.gamma);
            live("--mu", trainer.controls().mu, command.mu);
            std::printf("resumed %s at step %lld (%d of %d epochs done)\n", options.resumeSession.c_str(),
                        static_cast<long long>(trainer.stepCount()), trainer.epoch(), config.epochs);
        }
        if (!options.quiet) {
            std::printf("sq-train %s: %s, %d train / %d test images (%dx%dx%d, loaded in %.1f s)\n", SQ_VERSION,
                        config.datasetDir.c_str(), data->train.count, data->test.count, data->train.channels,
                        data->train.height, data->train.width, loadSeconds);
            std::printf("%s\n", trainer.model().summary().c_str());
            std::printf("mode %s, lambda %g, gamma %g, p %d, %s lr %g, batch %d, %d epochs (%d commit), seed %llu, "
                        "%d threads\n",
                        sq::toString(config.sq.mode).c_str(), config.lambda, config.gamma, config.sq.p,
                        sq::toString(config.optimizer.kind).c_str(), config.learningRate, config.batchSize,
                        config.epochs, config.resolvedCommitEpochs(), static_cast<unsigned long long>(config.seed),
                        config.resolvedThreads());
            trainer.setEpochSink([&](const sq::EpochRecord& r) { printEpoch(r, config.epochs); });
        }

        // Every snapshot (thinned past a few thousand) for snapshots.jsonl; --plots replays them
        // into the explorer's views after the run.
        sq::SnapshotRecorder recorder;
        trainer.setSnapshotSink([&](std::shared_ptr<const sq::Snapshot> s) { recorder.add(std::move(s)); });

        std::signal(SIGINT, onInterrupt);
        std::signal(SIGTERM, onInterrupt);
        const int divergencesBefore = trainer.divergences();
        while (!trainer.finished() && !g_interrupted.load())
            if (!trainer.step())
                break;
        const bool diverged = trainer.divergences() != divergencesBefore;
        if (diverged)
            std::fprintf(stderr, "sq-train: %s\n", trainer.lastDivergence()->message.c_str());
        if (g_interrupted.load())
            std::printf("interrupted after %lld steps; writing what the run has so far\n",
                        static_cast<long long>(trainer.stepCount()));
        if (!options.saveSession.empty()) {
            sq::writeSessionFile(options.saveSession, trainer.captureState());
            std::printf("wrote session %s at step %lld%s\n", options.saveSession.c_str(),
                        static_cast<long long>(trainer.stepCount()),
                        trainer.finished() ? "" : " (continue it with --resume)");
        }

        printSummary(trainer);
        recorder.add(trainer.makeSnapshot());
        const sq::SnapshotList snapshots = recorder.snapshots();
        sq::writeRunFiles(outDir, trainer, config.datasetDir, &snapshots);
        std::printf("wrote %s/history.csv, summary.json and snapshots.jsonl\n", outDir.c_str());
        writeModelExports(outDir, trainer, *data);
        if (!options.plotsDir.empty()) {
            const QStringList files =
                sq::ui::renderRunFigures(snapshots, &config, QString::fromStdString(options.plotsDir));
            std::printf("wrote %lld figures and report.html to %s\n", static_cast<long long>(files.size() - 1),
                        options.plotsDir.c_str());
        }
        if (diverged)
            return 4;
        return g_interrupted.load() ? 130 : 0;
    } catch (const sq::Error& e) {
        std::cerr << "sq-train: " << e.what() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "sq-train: internal error: " << e.what() << "\n";
        return 3;
    }
}
