#include "app/cli_options.h"

#include "core/architecture.h"
#include "core/error.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>

namespace sq::cli {

namespace {

double parseDouble(const std::string& flag, const std::string& text)
{
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(v))
        throw Error(flag + ": expected a number, got '" + text + "'");
    return v;
}

long long parseInteger(const std::string& flag, const std::string& text)
{
    long long v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size())
        throw Error(flag + ": expected a whole number, got '" + text + "'");
    return v;
}

int parseInt(const std::string& flag, const std::string& text)
{
    const long long v = parseInteger(flag, text);
    if (v < -2'000'000'000LL || v > 2'000'000'000LL)
        throw Error(flag + ": " + text + " is out of range");
    return static_cast<int>(v);
}

// "1,2,2": one bit-width per quantized layer.
std::vector<int> parseIntList(const std::string& flag, const std::string& text)
{
    std::vector<int> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');)
        out.push_back(parseInt(flag, item));
    if (out.empty())
        throw Error(flag + ": expected a comma-separated list of whole numbers, got '" + text + "'");
    return out;
}

std::set<std::string> parseList(const std::string& text)
{
    std::set<std::string> out;
    std::stringstream in(text);
    for (std::string item; std::getline(in, item, ',');)
        if (!item.empty())
            out.insert(item);
    return out;
}

} // namespace

Options parseOptions(const std::vector<std::string>& args)
{
    Options o;
    TrainConfig& c = o.config;
    using Setter = std::function<void(const std::string& flag, const std::string& value)>;
    const std::map<std::string, Setter> valued = {
        {"--dataset", [&](auto&, auto& v) { c.datasetDir = v; }},
        {"--dataset-kind", [&](auto&, auto& v) { c.datasetKind = parseDatasetKind(v); }},
        {"--train-limit", [&](auto& f, auto& v) { c.trainLimit = parseInt(f, v); }},
        {"--test-limit", [&](auto& f, auto& v) { c.testLimit = parseInt(f, v); }},
        {"--model", [&](auto&, auto& v) { c.model = v; }},
        {"--arch", [&](auto&, auto& v) { c.arch = v; }},
        {"--mode", [&](auto&, auto& v) { c.sq.mode = parseQuantMode(v); }},
        {"--lambda", [&](auto& f, auto& v) { c.lambda = parseDouble(f, v); }},
        {"--gamma", [&](auto& f, auto& v) { c.gamma = parseDouble(f, v); }},
        {"--p", [&](auto& f, auto& v) { c.sq.p = parseInt(f, v); }},
        {"--beta-switch", [&](auto& f, auto& v) { c.sq.betaSwitch = parseDouble(f, v); }},
        {"--beta-init", [&](auto& f, auto& v) { c.sq.betaInit = parseDouble(f, v); }},
        {"--keep-float", [&](auto&, auto& v) { c.sq.keepFloat = parseList(v); }},
        {"--alpha-lr-mult", [&](auto& f, auto& v) { c.sq.alphaLrMultiplier = static_cast<float>(parseDouble(f, v)); }},
        {"--beta-lr-mult", [&](auto& f, auto& v) { c.sq.betaLrMultiplier = static_cast<float>(parseDouble(f, v)); }},
        {"--bits", [&](auto& f, auto& v) { c.uniq.bits = parseInt(f, v); }},
        {"--layer-bits", [&](auto& f, auto& v) { c.uniq.layerBits = parseIntList(f, v); }},
        {"--step-lr-mult",
         [&](auto& f, auto& v) {
             c.uniq.stepLrMultiplier = static_cast<float>(parseDouble(f, v));
             c.cpq.stepLrMultiplier = c.uniq.stepLrMultiplier;
         }},
        {"--max-bits", [&](auto& f, auto& v) { c.cpq.maxBits = parseInt(f, v); }},
        {"--drop-p", [&](auto& f, auto& v) { c.cpq.dropP = parseDouble(f, v); }},
        {"--mu", [&](auto& f, auto& v) { c.mu = parseDouble(f, v); }},
        {"--cpq-temperature", [&](auto& f, auto& v) { c.cpq.temperature = parseDouble(f, v); }},
        {"--gate-lr-mult", [&](auto& f, auto& v) { c.cpq.gateLrMultiplier = static_cast<float>(parseDouble(f, v)); }},
        {"--lambda-schedule", [&](auto&, auto& v) { c.lambdaSchedule.kind = parseLambdaScheduleKind(v); }},
        {"--lambda-start", [&](auto& f, auto& v) { c.lambdaSchedule.start = static_cast<float>(parseDouble(f, v)); }},
        {"--lambda-ramp-epochs", [&](auto& f, auto& v) { c.lambdaSchedule.rampEpochs = parseDouble(f, v); }},
        {"--optimizer", [&](auto&, auto& v) { c.optimizer.kind = parseOptimizerKind(v); }},
        {"--lr", [&](auto& f, auto& v) { c.learningRate = parseDouble(f, v); }},
        {"--momentum", [&](auto& f, auto& v) { c.optimizer.momentum = static_cast<float>(parseDouble(f, v)); }},
        {"--weight-decay", [&](auto& f, auto& v) { c.optimizer.weightDecay = static_cast<float>(parseDouble(f, v)); }},
        {"--lr-schedule", [&](auto&, auto& v) { c.lrSchedule.kind = parseLrScheduleKind(v); }},
        {"--lr-step-epochs", [&](auto& f, auto& v) { c.lrSchedule.stepEpochs = parseInt(f, v); }},
        {"--lr-step-factor", [&](auto& f, auto& v) { c.lrSchedule.stepFactor = static_cast<float>(parseDouble(f, v)); }},
        {"--batch", [&](auto& f, auto& v) { c.batchSize = parseInt(f, v); }},
        {"--epochs", [&](auto& f, auto& v) { c.epochs = parseInt(f, v); }},
        {"--commit-epochs", [&](auto& f, auto& v) { c.commitEpochs = parseInt(f, v); }},
        {"--seed",
         [&](auto& f, auto& v) {
             const long long s = parseInteger(f, v);
             if (s < 0)
                 throw Error(f + ": must be >= 0, got " + v);
             c.seed = static_cast<std::uint64_t>(s);
         }},
        {"--threads", [&](auto& f, auto& v) { c.threads = parseInt(f, v); }},
        {"--recalibration-images", [&](auto& f, auto& v) { c.recalibrationImages = parseInt(f, v); }},
        {"--history-every", [&](auto& f, auto& v) { c.historyEveryBatches = parseInt(f, v); }},
        {"--histogram-bins", [&](auto& f, auto& v) { c.histogramBins = parseInt(f, v); }},
        {"--out", [&](auto&, auto& v) { o.outDir = v; }},
        {"--eval", [&](auto&, auto& v) { o.evalModel = v; }},
        {"--plots", [&](auto&, auto& v) { o.plotsDir = v; }},
        {"--save-session", [&](auto&, auto& v) { o.saveSession = v; }},
        {"--resume", [&](auto&, auto& v) { o.resumeSession = v; }},
        {"--good-state-every", [&](auto& f, auto& v) { c.goodStateEveryBatches = parseInt(f, v); }},
        {"--blow-up-window", [&](auto& f, auto& v) { c.blowUpWindow = parseInt(f, v); }},
        {"--collapse-window", [&](auto& f, auto& v) { c.collapseWindow = parseInt(f, v); }},
    };

    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string flag = args[i];
        std::string value;
        bool hasValue = false;
        if (const auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = flag.substr(eq + 1);
            flag = flag.substr(0, eq);
            hasValue = true;
        }
        if (flag == "--help" || flag == "-h") {
            o.help = true;
            continue;
        }
        if (flag == "--version") {
            o.version = true;
            continue;
        }
        if (flag == "--quiet") {
            o.quiet = true;
            continue;
        }
        if (flag == "--compare") {
            // Takes every following argument up to the next flag: the run folders.
            if (hasValue)
                o.compareDirs.push_back(value);
            while (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0)
                o.compareDirs.push_back(args[++i]);
            if (o.compareDirs.empty())
                throw Error(flag + ": needs one or more run folders");
            continue;
        }
        const auto it = valued.find(flag);
        if (it == valued.end())
            throw Error(flag + ": unknown option (see sq-train --help)");
        if (!hasValue) {
            if (i + 1 >= args.size())
                throw Error(flag + ": needs a value");
            value = args[++i];
        }
        it->second(flag, value);
        o.given.insert(flag);
    }
    if (!o.resumeSession.empty()) {
        // The session's settings continue the run; these only say where and how long, or change
        // a live value as the explorer's sliders would.
        static const std::set<std::string> resumable = {"--resume", "--epochs", "--threads", "--dataset",
                                                        "--out", "--plots", "--save-session", "--lr",
                                                        "--lambda", "--gamma", "--mu"};
        for (const std::string& flag : o.given)
            if (!resumable.contains(flag))
                throw Error(flag + ": cannot be combined with --resume (the settings come from the session; "
                            "--epochs, --threads, --dataset, --out, --plots, --save-session and the live values "
                            "--lr, --lambda, --gamma, --mu can)");
    }
    return o;
}

std::string helpText()
{
    char muDefault[32];
    std::snprintf(muDefault, sizeof muDefault, "%g", kCpqMuDefault);
    std::string presets;
    for (const auto& n : presetNames())
        presets += (presets.empty() ? "" : ", ") + n;
    return R"(Usage: sq-train [options]

Trains a small network with Smart Quantization (adaptive binary-ternary quantization), UniQ or
CPQ (DropBits) and prints one line per epoch. Writes history.csv and summary.json into the
output folder.

Data
  --dataset DIR              IDX (MNIST-style, plain or .gz) or CIFAR-10 binary folder
                             (default: Fashion-MNIST from Debian's dataset-fashion-mnist)
  --dataset-kind K           auto | idx | cifar10 (default auto)
  --train-limit N            use the first N training images (default all)
  --test-limit N             use the first N test images (default all)
Model
  --model NAME               preset: )" + presets + R"( (default mlp)
  --arch TEXT                architecture text instead of a preset, e.g.
                             "conv 32 3x3 pad 1, bn, relu, maxpool 2, dense 10"
Quantization
  --mode M                   float | binary | ternary | sq | uniq | cpq (default sq)
  --lambda X                 regularization weight (default 1)
  --gamma X                  memory pressure towards binary (default 0.003)
  --p N                      regularizer power, 1 or 2 (default 2)
  --beta-switch X            ternary while beta < X (default 3*pi/8 = 1.1781)
  --beta-init X              initial beta (default 3*pi/8 + 0.01)
  --keep-float LIST          layers kept in float32: names (dense1,conv2) or first,last
  --alpha-lr-mult X          learning-rate multiplier for alpha (default 1)
  --beta-lr-mult X           learning-rate multiplier for beta (default 1)
  --lambda-schedule S        constant | linear | exp ramp to --lambda (default constant)
  --lambda-start X           ramp start value (default 0.01)
  --lambda-ramp-epochs X     ramp length in epochs (default 1)
UniQ (--mode uniq: learnable symmetric quantizer, no zero level)
  --bits N                   bits per weight, 1 to 8 (default 2)
  --layer-bits LIST          bits per quantized layer instead, e.g. 1,2,2 (one value per layer
                             not kept float, in model order)
  --step-lr-mult X           learning-rate multiplier for the grid step (UniQ and CPQ; default 1)
CPQ (DropBits) (--mode cpq: learned bit-lengths; this project's specification of CPQ)
  --max-bits B               largest bit-length, 2 to 8 (default 4)
  --drop-p X                 DropBits: group j dropped with probability X^(B-j+1), X in [0, 1)
                             (default 0.3)
  --mu X                     memory pressure towards fewer bits, >= 0 (default )" + std::string(muDefault) + R"()
  --cpq-temperature X        temperature of the straight-through softmax, in (0, 1] (default 1)
  --gate-lr-mult X           learning-rate multiplier for the keep-gate logits (default 1)
Optimization
  --optimizer O              sgd | adam (default adam)
  --lr X                     learning rate (default 0.001)
  --momentum X               SGD momentum (default 0.9)
  --weight-decay X           L2 weight decay on weights (default 0)
  --lr-schedule S            constant | step | cosine (default constant)
  --lr-step-epochs N         step schedule: epochs between drops (default 1)
  --lr-step-factor X         step schedule: multiplier per drop (default 0.1)
  --batch N                  mini-batch size (default 128)
  --epochs N                 epochs (default 10)
  --commit-epochs N          final epochs with frozen depths and STE (default 30%, at least 1)
  --seed N                   random seed (default 0)
  --threads N                CPU threads (default: all cores)
Evaluation and output
  --recalibration-images N   images used to re-estimate BatchNorm under q(w) (default 4096)
  --history-every N          in-memory history row every N batches (default 20)
  --histogram-bins N         weight histogram bins (default 64)
  --out DIR                  output folder (default runs/<model>-<mode>-<time>); a run writes
                             history.csv, summary.json, model.sqm, model.onnx and model.h there
  --eval MODEL               no training: the test accuracy of a saved model.sqm on --dataset
                             (with --dataset-kind, --test-limit, --threads)
  --save-session FILE        write the session (model, optimizer, method state, data position,
                             history, settings) to FILE at the end, on Ctrl-C or on divergence
  --resume FILE              continue a saved session exactly where it stopped; its settings
                             apply (see docs/session-file.md for the flags that may be given)
  --good-state-every N       in-memory copy of the state every N batches, restored when the loss
                             turns NaN or infinite (default 25)
  --blow-up-window N         diverged also when the mean loss over N batches exceeds 10 ln(classes)
                             (default 10)
  --collapse-window N        paused when the training accuracy stays within 25% of chance over N
                             batches (default 200; 0: never)
  --plots DIR                also render every view (PNG, PDF, SVG) and report.html into DIR,
                             with the explorer's own code and no display
  --compare RUN_DIR...       no training: compare finished runs' folders in a table; with
                             --plots OUT also render the frontier and the overlaid curves there
  --quiet                    print only the final summary
  --help, --version
Options also accept --flag=value. Exit codes: 0 done, 1 bad data or file, 2 bad option,
4 training diverged (the last good state is written), 130 interrupted.
)";
}

} // namespace sq::cli
