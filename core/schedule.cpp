#include "core/schedule.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace sq {

float LrSchedule::at(float baseLr, double epochsElapsed, int totalEpochs) const
{
    switch (kind) {
    case LrScheduleKind::Constant:
        return baseLr;
    case LrScheduleKind::Step: {
        const int drops = static_cast<int>(std::floor(epochsElapsed / std::max(1, stepEpochs)));
        return baseLr * static_cast<float>(std::pow(static_cast<double>(stepFactor), drops));
    }
    case LrScheduleKind::Cosine: {
        const double t = std::clamp(epochsElapsed / std::max(1, totalEpochs), 0.0, 1.0);
        return static_cast<float>(baseLr * 0.5 * (1.0 + std::cos(std::numbers::pi * t)));
    }
    }
    return baseLr;
}

float LambdaSchedule::at(float target, double epochsElapsed) const
{
    const double t = rampEpochs > 0.0 ? std::clamp(epochsElapsed / rampEpochs, 0.0, 1.0) : 1.0;
    switch (kind) {
    case LambdaScheduleKind::Constant:
        return target;
    case LambdaScheduleKind::Linear:
        return static_cast<float>(start + (target - start) * t);
    case LambdaScheduleKind::Exponential:
        // Geometric interpolation needs both ends positive; a zero target means "off".
        if (start <= 0.0f || target <= 0.0f)
            return t >= 1.0 ? target : start;
        return static_cast<float>(start * std::pow(static_cast<double>(target) / start, t));
    }
    return target;
}

LrScheduleKind parseLrScheduleKind(const std::string& text)
{
    if (text == "constant")
        return LrScheduleKind::Constant;
    if (text == "step")
        return LrScheduleKind::Step;
    if (text == "cosine")
        return LrScheduleKind::Cosine;
    throw Error("--lr-schedule: unknown schedule '" + text + "' (expected constant, step or cosine)");
}

LambdaScheduleKind parseLambdaScheduleKind(const std::string& text)
{
    if (text == "constant")
        return LambdaScheduleKind::Constant;
    if (text == "linear")
        return LambdaScheduleKind::Linear;
    if (text == "exp" || text == "exponential")
        return LambdaScheduleKind::Exponential;
    throw Error("--lambda-schedule: unknown schedule '" + text + "' (expected constant, linear or exp)");
}

std::string toString(LrScheduleKind kind)
{
    switch (kind) {
    case LrScheduleKind::Constant:
        return "constant";
    case LrScheduleKind::Step:
        return "step";
    case LrScheduleKind::Cosine:
        return "cosine";
    }
    return "constant";
}

std::string toString(LambdaScheduleKind kind)
{
    switch (kind) {
    case LambdaScheduleKind::Constant:
        return "constant";
    case LambdaScheduleKind::Linear:
        return "linear";
    case LambdaScheduleKind::Exponential:
        return "exp";
    }
    return "constant";
}

} // namespace sq
