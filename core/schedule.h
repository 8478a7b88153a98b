// Schedules over training time: the learning rate's and the regularization weight lambda's.
#pragma once

#include <string>

namespace sq {

enum class LrScheduleKind { Constant, Step, Cosine };

// Time is measured in epochs elapsed, fractional (1.5 = halfway through the second epoch).
struct LrSchedule {
    LrScheduleKind kind = LrScheduleKind::Constant;
    int stepEpochs = 1;       // Step: multiply by stepFactor every stepEpochs epochs
    float stepFactor = 0.1f;  // Step
    float at(float baseLr, double epochsElapsed, int totalEpochs) const;
};

enum class LambdaScheduleKind { Constant, Linear, Exponential };

// lambda ramps from `start` to the target over `rampEpochs`, then stays at the target.
struct LambdaSchedule {
    LambdaScheduleKind kind = LambdaScheduleKind::Constant;
    float start = 0.01f;
    double rampEpochs = 1.0;
    float at(float target, double epochsElapsed) const;
};

LrScheduleKind parseLrScheduleKind(const std::string& text);         // constant|step|cosine
LambdaScheduleKind parseLambdaScheduleKind(const std::string& text); // constant|linear|exp
std::string toString(LrScheduleKind kind);
std::string toString(LambdaScheduleKind kind);

} // namespace sq
