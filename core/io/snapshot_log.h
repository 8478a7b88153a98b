// snapshots.jsonl: every snapshot a run showed, one JSON object per line after a header line, so
// that a finished run can be re-displayed in every view (format: docs/run-files.md).
#pragma once

#include "core/snapshot.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sq {

inline constexpr const char* kSnapshotLogFormat = "sq-explorer snapshot log";
inline constexpr int kSnapshotLogVersion = 1;

using SnapshotList = std::vector<std::shared_ptr<const Snapshot>>;

// One snapshot as a single-line JSON object (no trailing newline).
std::string snapshotJson(const Snapshot& snapshot);
// The whole file: the header line, then one line per snapshot.
std::string snapshotLog(const SnapshotList& snapshots);

// Reads a snapshot log; `source` names it in errors ("run/snapshots.jsonl line 7: layers[1].bits:
// ..."). Refuses foreign or newer files, truncated logs (fewer lines than the header announces),
// lines or files beyond fixed size limits, and every malformed or out-of-range field.
SnapshotList parseSnapshotLog(std::string_view text, const std::string& source);
SnapshotList readSnapshotLog(const std::string& path);

} // namespace sq
