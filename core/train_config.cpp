#include "core/train_config.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <thread>

namespace sq {

int TrainConfig::resolvedCommitEpochs() const
{
    if (commitEpochs >= 0)
        return commitEpochs;
    return std::max(1, static_cast<int>(std::lround(0.3 * epochs)));
}

int TrainConfig::resolvedThreads() const
{
    if (threads > 0)
        return threads;
    return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

namespace {

std::string str(double v)
{
    std::ostringstream s;
    s << v;
    return s.str();
}

void requireRange(const char* flag, double value, double lo, double hi, const char* what = nullptr)
{
    if (!std::isfinite(value) || value < lo || value > hi)
        throw Error(std::string(flag) + ": must be " + (what ? what : ("in [" + str(lo) + ", " + str(hi) + "]"))
                    + ", got " + str(value));
}

void requireInt(const char* flag, long long value, long long lo, long long hi)
{
    if (value < lo || value > hi)
        throw Error(std::string(flag) + ": must be in [" + std::to_string(lo) + ", " + std::to_string(hi)
                    + "], got " + std::to_string(value));
}

} // namespace

void TrainConfig::validate() const
{
    requireInt("--train-limit", trainLimit, 0, 100'000'000);
    requireInt("--test-limit", testLimit, 0, 100'000'000);
    if (model.empty() && arch.empty())
        throw Error("--model: give a preset name or an architecture with --arch");

    requireRange("--lambda", lambda, 0.0, 1e9, "a finite number >= 0");
    requireRange("--gamma", gamma, 0.0, 1e3, "in [0, 1000]");
    requireInt("--p", sq.p, 1, 2);
    requireRange("--beta-switch", sq.betaSwitch, 0.7854, 1.5697, "inside (pi/4, pi/2 - 1e-3) = (0.7854, 1.5698)");
    requireRange("--beta-init", sq.betaInit, 0.78539816, 1.5697963, "in [pi/4, pi/2 - 1e-3] = [0.7854, 1.5698]");
    requireRange("--alpha-lr-mult", sq.alphaLrMultiplier, 1e-6, 1e6, "> 0");
    requireRange("--beta-lr-mult", sq.betaLrMultiplier, 1e-6, 1e6, "> 0");
    requireInt("--bits", uniq.bits, 1, kUniqMaxBits);
    for (int b : uniq.layerBits)
        requireInt("--layer-bits", b, 1, kUniqMaxBits);
    requireRange("--step-lr-mult", uniq.stepLrMultiplier, 1e-6, 1e6, "> 0");
    requireRange("--step-lr-mult", cpq.stepLrMultiplier, 1e-6, 1e6, "> 0");
    requireInt("--max-bits", cpq.maxBits, 2, kCpqMaxBits);
    if (!(cpq.dropP >= 0.0 && cpq.dropP < 1.0))
        throw Error("--drop-p: must be in [0, 1), got " + str(cpq.dropP));
    requireRange("--mu", mu, 0.0, 1e9, "a finite number >= 0");
    requireRange("--cpq-temperature", cpq.temperature, 1e-3, 1.0, "in [0.001, 1]");
    requireRange("--gate-lr-mult", cpq.gateLrMultiplier, 1e-6, 1e6, "> 0");
    if (lambdaSchedule.kind != LambdaScheduleKind::Constant) {
        requireRange("--lambda-start", lambdaSchedule.start, 0.0, 1e9, "a finite number >= 0");
        if (lambdaSchedule.kind == LambdaScheduleKind::Exponential && lambdaSchedule.start <= 0.0f)
            throw Error("--lambda-start: an exponential ramp needs a start > 0");
        requireRange("--lambda-ramp-epochs", lambdaSchedule.rampEpochs, 0.0, 1e6, "a finite number >= 0");
    }

    requireRange("--lr", learningRate, 1e-12, 1e3, "> 0 (and at most 1000)");
    requireRange("--momentum", optimizer.momentum, 0.0, 0.999999, "in [0, 1)");
    requireRange("--weight-decay", optimizer.weightDecay, 0.0, 0.999999, "in [0, 1)");
    if (lrSchedule.kind == LrScheduleKind::Step) {
        requireInt("--lr-step-epochs", lrSchedule.stepEpochs, 1, 1'000'000);
        requireRange("--lr-step-factor", lrSchedule.stepFactor, 1e-9, 1.0, "in (0, 1]");
    }
    requireInt("--batch", batchSize, 1, 65536);
    requireInt("--epochs", epochs, 1, 1'000'000);
    requireInt("--commit-epochs", resolvedCommitEpochs(), 0, epochs);
    requireInt("--threads", threads, 0, 1024);

    requireInt("--recalibration-images", recalibrationImages, 0, 100'000'000);
    requireInt("--eval-batch", evalBatchSize, 1, 65536);
    requireInt("--history-every", historyEveryBatches, 1, 1'000'000);
    requireInt("--snapshot-every", snapshotEveryBatches, 1, 1'000'000);
    requireInt("--snapshot-ms", snapshotEveryMs, 1, 3'600'000);
    requireInt("--histogram-bins", histogramBins, 8, 4096);
    requireInt("--good-state-every", goodStateEveryBatches, 1, 1'000'000);
    requireInt("--blow-up-window", blowUpWindow, 1, 1'000'000);
    requireInt("--collapse-window", collapseWindow, 0, 1'000'000);
}

} // namespace sq
