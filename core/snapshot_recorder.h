// Keeps a run's snapshots for its snapshot log (and sq-train --plots) in bounded memory: past a
// capacity it thins the older ones out evenly, but never drops a snapshot that brings a new
// epoch evaluation or a live change, nor the latest, so a replay draws the same curves.
#pragma once

#include "core/snapshot.h"

#include <cstddef>
#include <memory>
#include <vector>

namespace sq {

class SnapshotRecorder {
public:
    explicit SnapshotRecorder(std::size_t capacity = 4000);

    void add(std::shared_ptr<const Snapshot> snapshot);
    // In order; always ends with the latest snapshot added.
    std::vector<std::shared_ptr<const Snapshot>> snapshots() const;
    std::size_t size() const { return kept_.size() + (pending_ ? 1 : 0); }
    void clear();

private:
    static bool essential(const Snapshot& previous, const Snapshot& next);
    void thin();

    std::size_t capacity_;
    std::size_t stride_ = 1;   // keep every stride-th ordinary snapshot
    std::size_t sinceKept_ = 0;
    std::vector<std::shared_ptr<const Snapshot>> kept_;
    std::shared_ptr<const Snapshot> pending_; // the latest, when the stride skipped it
};

} // namespace sq
