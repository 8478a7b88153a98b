// A live change of a hyperparameter, as recorded in the run history and shown on time plots.
#pragma once

#include <cstdint>
#include <string>

namespace sq {

// A user's live change of a hyperparameter (it overrides that parameter's schedule from then on).
struct ControlEvent {
    std::int64_t step = 0;
    double epochsElapsed = 0.0;
    std::string parameter; // "lambda", "gamma", "lr"
    double from = 0.0;
    double to = 0.0;
};

} // namespace sq
