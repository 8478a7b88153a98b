#include "core/divergence.h"

#include <cmath>
#include <sstream>

namespace sq {

namespace {

std::string number(double v)
{
    std::ostringstream s;
    s << v;
    return s.str();
}

std::string valueWord(double v)
{
    if (std::isnan(v))
        return "NaN";
    return v > 0 ? "+infinity" : "-infinity";
}

// Above this ratio to its usual value a knob is a suspect even without a recent change.
constexpr double kSuspectRatio = 3.0;

// What happened, up to where the report goes on to the cause.
std::string whatHappened(const DivergenceContext& c)
{
    std::ostringstream m;
    const std::string where = "step " + std::to_string(c.step) + " (epoch " + std::to_string(c.epoch) + ", batch "
                              + std::to_string(c.batch) + ")";
    switch (c.failure) {
    case Failure::NonFinite:
        m << "training diverged: the " << c.quantity << " became " << valueWord(c.value) << " at " << where;
        break;
    case Failure::BlowUp:
        m << "training diverged: the " << c.quantity << " averaged " << number(c.value) << " over the "
          << c.windowBatches << " batches up to " << where << ", " << number(std::round(c.value / c.reference))
          << " times the chance level " << number(c.reference) << ",";
        break;
    case Failure::Collapse:
        m.precision(3);
        m << "training collapsed: the " << c.quantity << " was " << 100.0 * c.value << "% over the "
          << c.windowBatches << " batches up to " << where << ", where guessing scores " << 100.0 * c.reference
          << "%,";
        break;
    }
    return m.str();
}

} // namespace

DivergenceReport diagnoseDivergence(const DivergenceContext& c)
{
    DivergenceReport r;
    r.failure = c.failure;
    r.step = c.step;
    r.epoch = c.epoch;
    r.batch = c.batch;
    r.quantity = c.quantity;
    r.value = c.value;
    r.restoredStep = c.restoredStep;

    const DivergenceKnob* suspect = nullptr;
    std::string why;
    // 1. A recent live raise of a knob the method uses.
    for (auto e = c.events.rbegin(); e != c.events.rend() && !suspect; ++e) {
        if (c.step - e->step > c.recentSteps)
            break;
        if (!(e->to > e->from))
            continue;
        for (const DivergenceKnob& k : c.knobs)
            if (k.used && k.name == e->parameter) {
                suspect = &k;
                why = " right after " + k.name + " was raised from " + number(e->from) + " to " + number(e->to)
                      + " at step " + std::to_string(e->step);
            }
    }
    // 2. The knob furthest above its usual value.
    if (!suspect) {
        double worst = kSuspectRatio;
        for (const DivergenceKnob& k : c.knobs)
            if (k.used && k.usual > 0.0 && k.value / k.usual > worst) {
                worst = k.value / k.usual;
                suspect = &k;
            }
        if (suspect)
            why = " with " + suspect->name + " = " + number(suspect->value) + ", " + number(worst)
                  + " times its usual " + number(suspect->usual);
    }
    // 3. The learning rate.
    if (!suspect) {
        for (const DivergenceKnob& k : c.knobs)
            if (k.name == "lr")
                suspect = &k;
        if (suspect)
            why = " with every setting near its usual value (lr = " + number(suspect->value)
                  + "); a smaller learning rate is the usual cure";
    }

    std::ostringstream m;
    m << whatHappened(c) << why << ". The state of step " << c.restoredStep
      << " was restored and training is paused";
    if (suspect) {
        r.parameter = suspect->name;
        r.parameterValue = suspect->value;
        m << ": lower " << suspect->name << " (" << suspect->flag << ", now " << number(suspect->value)
          << ") and resume.";
    } else {
        m << ".";
    }
    r.message = m.str();
    return r;
}

} // namespace sq
