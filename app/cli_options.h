// Command-line options of sq-train: parsing into a TrainConfig, and the --help text.
#pragma once

#include "core/train_config.h"

#include <set>
#include <string>
#include <vector>

namespace sq::cli {

struct Options {
    TrainConfig config;
    std::string outDir; // empty: a fresh folder under runs/
    std::string plotsDir; // empty: no figures
    std::vector<std::string> compareDirs; // --compare: run folders to compare instead of training
    std::string evalModel; // --eval: evaluate this model file instead of training
    std::string saveSession;   // --save-session: write the session here at the end, on Ctrl-C or divergence
    std::string resumeSession; // --resume: continue this session (its settings; see resumableFlags())
    std::set<std::string> given; // the valued flags on the command line
    bool quiet = false;
    bool help = false;
    bool version = false;
};

// Throws sq::Error naming the flag for unknown flags, missing or malformed values.
Options parseOptions(const std::vector<std::string>& args);
std::string helpText();

} // namespace sq::cli
