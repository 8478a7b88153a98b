// The files a finished (or stopped) run leaves in its output folder: history.csv, summary.json and
// snapshots.jsonl (formats documented in docs/run-files.md). The CLI and the GUI write the same files.
#pragma once

#include "core/io/snapshot_log.h"
#include "core/trainer.h"

#include <string>

namespace sq {

std::string historyCsv(const RunHistory& history);
std::string summaryJson(const Trainer& trainer, const std::string& datasetDir);

// Writes the files atomically into `dir`, creating it if needed; snapshots.jsonl only when
// `snapshots` is given (the run's recorded snapshots, see core/snapshot_recorder.h).
void writeRunFiles(const std::string& dir, const Trainer& trainer, const std::string& datasetDir,
                   const SnapshotList* snapshots = nullptr);

} // namespace sq
