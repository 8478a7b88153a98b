#include "core/snapshot_recorder.h"

#include <algorithm>

namespace sq {

SnapshotRecorder::SnapshotRecorder(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 16)) {}

bool SnapshotRecorder::essential(const Snapshot& previous, const Snapshot& next)
{
    // The views add an accuracy point per evaluated epoch and a mark per live change: the
    // snapshots that bring them must survive thinning, or a replay would lose points.
    return next.evaluatedEpochs != previous.evaluatedEpochs || next.events.size() != previous.events.size()
           || next.phase != previous.phase || next.finished;
}

void SnapshotRecorder::add(std::shared_ptr<const Snapshot> snapshot)
{
    if (!snapshot)
        return;
    const Snapshot* previous = pending_ ? pending_.get() : kept_.empty() ? nullptr : kept_.back().get();
    const bool keep = !previous || essential(*previous, *snapshot) || ++sinceKept_ >= stride_;
    if (!keep) {
        // Skipped for now; it stays the latest until a newer one arrives.
        pending_ = std::move(snapshot);
        return;
    }
    pending_.reset();
    sinceKept_ = 0;
    kept_.push_back(std::move(snapshot));
    if (kept_.size() >= capacity_)
        thin();
}

void SnapshotRecorder::thin()
{
    // Drop every other ordinary snapshot (the first and the essential ones stay) and keep half as
    // many from now on: memory stays within the capacity however long the run.
    std::vector<std::shared_ptr<const Snapshot>> thinned;
    thinned.reserve(kept_.size());
    bool odd = false;
    for (std::size_t i = 0; i < kept_.size(); ++i) {
        const bool must = i == 0 || i + 1 == kept_.size() || essential(*kept_[i - 1], *kept_[i]);
        if (must || !odd)
            thinned.push_back(kept_[i]);
        odd = must ? false : !odd;
    }
    kept_ = std::move(thinned);
    stride_ *= 2;
    // Only essential snapshots left (a flood of live changes): grow rather than thin on every add.
    if (kept_.size() >= capacity_ * 3 / 4)
        capacity_ *= 2;
}

std::vector<std::shared_ptr<const Snapshot>> SnapshotRecorder::snapshots() const
{
    auto out = kept_;
    if (pending_)
        out.push_back(pending_);
    return out;
}

void SnapshotRecorder::clear()
{
    kept_.clear();
    pending_.reset();
    stride_ = 1;
    sinceKept_ = 0;
}

} // namespace sq
