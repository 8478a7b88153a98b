// What the trainer says when training fails: where it happened, which state it went back to, and
// which hyperparameter is the likely cause. Three failures: a NaN or infinite loss or regularizer;
// a finite blow-up (the loss far above chance level over a window of batches: Adam with lr = 100
// never overflows, its loss sits at 1e5); a collapse (training accuracy at chance over a long
// window: lambda = 1e6 pins every weight to the grid and nothing is learnt, with finite numbers).
#pragma once

#include "core/history_events.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sq {

enum class Failure {
    NonFinite, // value is NaN or an infinity
    BlowUp,    // value is the window's mean loss, far above reference = chance level ln(classes)
    Collapse,  // value is the window's training accuracy, at reference = chance accuracy 1/classes
};

struct DivergenceReport {
    Failure failure = Failure::NonFinite;
    std::int64_t step = 0;         // the step that produced the value (1-based, as history rows count)
    int epoch = 0;                 // 1-based
    int batch = 0;                 // 1-based within the epoch
    std::string quantity;          // "loss", "regularizer" or "training accuracy"
    double value = 0.0;            // see Failure
    std::int64_t restoredStep = 0; // the steps the restored state had taken
    std::string parameter;         // the likely cause: "lr", "lambda", "gamma" or "mu"
    double parameterValue = 0.0;   // its value when training diverged
    std::string message;           // complete, for the status bar, a dialog or the terminal
};

// One live hyperparameter as the diagnosis sees it.
struct DivergenceKnob {
    std::string name;    // "lr", "lambda", "gamma", "mu"
    std::string flag;    // "--lr"
    double value = 0.0;  // in effect when training diverged
    double usual = 0.0;  // a value known to train well (SPEC §1 reference settings)
    bool used = true;    // whether the run's method reads it (gamma only for SQ, mu only for CPQ)
};

struct DivergenceContext {
    Failure failure = Failure::NonFinite;
    double reference = 0.0; // BlowUp and Collapse: the chance level the value is compared with
    int windowBatches = 0;  // BlowUp and Collapse: the batches the value was measured over
    std::int64_t step = 0;
    int epoch = 0;
    int batch = 0;
    std::string quantity;
    double value = 0.0;
    std::int64_t restoredStep = 0;
    std::vector<DivergenceKnob> knobs;
    // Live changes, oldest first; those within `recentSteps` of `step` are suspects first.
    std::vector<ControlEvent> events;
    std::int64_t recentSteps = 100;
};

// The likely cause, in order: the latest live raise of a used knob within recentSteps; else the
// used knob furthest above its usual value (by ratio, when more than 3 times it); else the
// learning rate, the usual cause of a blow-up.
DivergenceReport diagnoseDivergence(const DivergenceContext& context);

} // namespace sq
