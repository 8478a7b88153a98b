// Deterministic, resumable mini-batches over an in-memory Dataset.
#pragma once

#include "core/data/dataset.h"
#include "core/tensor.h"

#include <cstdint>
#include <vector>

namespace sq {

// Epoch e visits the samples in a Fisher-Yates order drawn by an Rng seeded from (seed, e) alone,
// so any epoch, and with seek() any batch in it, can be reproduced without replaying the earlier
// ones: a session resumed mid-run sees exactly the batches the interrupted one would have.
// The last batch of an epoch is partial when batchSize does not divide the count. With
// shuffle = false every epoch is the file order (for evaluation).
// The Dataset is referenced, not copied: it must outlive the iterator and not change size.
class BatchIterator {
public:
    BatchIterator(const Dataset& data, int batchSize, std::uint64_t seed, bool shuffle);

    // Starts epoch `epoch` (>= 0) at its first batch. The constructor starts epoch 0.
    void startEpoch(int epoch);
    int epoch() const { return epoch_; }
    int batchesPerEpoch() const;
    int position() const { return position_; } // index of the next batch in the epoch
    // Jumps within the current epoch; batchIndex == batchesPerEpoch() means "at the end".
    void seek(int batchIndex);
    // Fills images (B, C, H, W) and labels (B) with the next batch; false, leaving both
    // untouched, once the epoch is over.
    bool next(Tensor& images, std::vector<int>& labels);

    // The sample indices of the current epoch in visiting order.
    const std::vector<int>& order() const { return order_; }

private:
    const Dataset* data_;
    int batchSize_;
    std::uint64_t seed_;
    bool shuffle_;
    int epoch_ = 0;
    int position_ = 0;
    std::vector<int> order_;
};

} // namespace sq
