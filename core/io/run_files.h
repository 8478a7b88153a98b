// The files a finished (or stopped) run leaves in its output folder: history.csv and summary.json
// (formats documented in docs/run-files.md). The CLI and the GUI write the same files.
#pragma once

#include "core/trainer.h"

#include <string>

namespace sq {

std::string historyCsv(const RunHistory& history);
std::string summaryJson(const Trainer& trainer, const std::string& datasetDir);

// Writes both files atomically into `dir`, creating it if needed.
void writeRunFiles(const std::string& dir, const Trainer& trainer, const std::string& datasetDir);

} // namespace sq
