// A run folder loaded back into one value: its summary, its per-epoch history and, when the run
// wrote one, every snapshot it showed (for re-displaying it in the views).
#pragma once

#include "core/history.h"
#include "core/io/run_summary.h"
#include "core/io/snapshot_log.h"

#include <string>

namespace sq {

struct LoadedRun {
    std::string dir;      // as given
    std::string name;     // the folder's own name, for legends when labels collide
    RunSummary summary;
    RunHistory history;   // epochs only (history.csv)
    SnapshotList snapshots; // empty when the folder has no snapshots.jsonl (runs from before it)
};

// True when dir holds a summary.json (a dropped folder is then a run, not a dataset).
bool isRunFolder(const std::string& dir);

// Loads summary.json and history.csv (both required) and snapshots.jsonl (when present). Every
// error is an sq::Error naming the folder's file and the line or field at fault.
LoadedRun loadRun(const std::string& dir);

} // namespace sq
