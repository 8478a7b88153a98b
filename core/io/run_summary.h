// summary.json read back: what a finished (or stopped) run was and how it ended, for the
// explorer's re-display and comparison of runs and for `sq-train --compare`.
#pragma once

#include "core/history_events.h"
#include "core/quant/quant_method.h"
#include "core/snapshot.h"
#include "core/train_config.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sq {

struct RunFinal {
    Evaluation evaluation;
    double trainAccuracy = 0.0;
    double imagesPerSecond = 0.0;
    double trainingSeconds = 0.0;
    MemoryReport memory;
};

struct RunSummary {
    int version = 0;
    std::string sqVersion;
    bool finished = false;
    std::string method;       // "SQ", "UniQ" or "CPQ (DropBits)" as written; derived from the mode when absent
    std::string architecture; // the model as architecture text
    TrainConfig config;       // settings as recorded; those the file lacks keep their defaults
    std::uint64_t parameters = 0;
    std::uint64_t quantizableWeights = 0;
    int epochsCompleted = 0;
    std::int64_t steps = 0;
    std::optional<RunFinal> final; // absent for a run stopped before its first epoch ended
    std::vector<LayerQuantState> layers;
    std::vector<ControlEvent> events;
};

// Throws sq::Error "<source> line L: <field>: <problem>" for a foreign or newer file, a missing
// required field (format, version, finished, config.mode, and final's accuracies and bits when
// epochs were completed), a wrong type, an out-of-range number or unknown mode/optimizer names.
RunSummary parseRunSummary(std::string_view text, const std::string& source);
RunSummary readRunSummary(const std::string& path);

// How legends and tables name a run: the method and its key settings, e.g. "SQ λ 1 γ 0.003",
// "UniQ 2 bits", "CPQ B 4 μ 0.05", "float".
std::string runLabel(const RunSummary& summary);

} // namespace sq
