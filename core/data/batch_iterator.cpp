#include "core/data/batch_iterator.h"

#include "core/error.h"
#include "core/rng.h"

#include <algorithm>
#include <numeric>

namespace sq {

namespace {

std::uint64_t mix64(std::uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

// Hashing the seed before the epoch goes in keeps nearby pairs apart: with seed + epoch, run
// (seed 1, epoch 0) would replay run (seed 0, epoch 1).
std::uint64_t epochSeed(std::uint64_t seed, int epoch)
{
    const std::uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ULL);
    return mix64(h ^ static_cast<std::uint64_t>(epoch));
}

std::string datasetLabel(const Dataset& data) { return "dataset '" + data.name + "'"; }

} // namespace

BatchIterator::BatchIterator(const Dataset& data, int batchSize, std::uint64_t seed, bool shuffle)
    : data_(&data), batchSize_(batchSize), seed_(seed), shuffle_(shuffle)
{
    if (batchSize <= 0)
        throw Error("batch size must be positive, got " + std::to_string(batchSize));
    if (data.count < 0 || data.labels.size() != static_cast<std::size_t>(data.count) ||
        data.images.size() != static_cast<std::size_t>(data.count) * data.sampleSize())
        throw Error(datasetLabel(data) + ": inconsistent sizes (count " + std::to_string(data.count) + ", " +
                    std::to_string(data.labels.size()) + " labels, " + std::to_string(data.images.size()) +
                    " pixel values for samples of " + std::to_string(data.sampleSize()) + ")");
    startEpoch(0);
}

void BatchIterator::startEpoch(int epoch)
{
    if (epoch < 0)
        throw Error(datasetLabel(*data_) + ": epoch must be 0 or more, got " + std::to_string(epoch));
    epoch_ = epoch;
    position_ = 0;
    // Rebuilt from the identity every time, so an epoch's order depends on (seed, epoch) only.
    order_.resize(static_cast<std::size_t>(data_->count));
    std::iota(order_.begin(), order_.end(), 0);
    if (shuffle_) {
        Rng rng(epochSeed(seed_, epoch));
        rng.shuffle(order_);
    }
}

int BatchIterator::batchesPerEpoch() const
{
    // Not (count + batchSize - 1) / batchSize: that overflows for a batch size near INT_MAX.
    return data_->count / batchSize_ + (data_->count % batchSize_ != 0 ? 1 : 0);
}

void BatchIterator::seek(int batchIndex)
{
    if (batchIndex < 0 || batchIndex > batchesPerEpoch())
        throw Error(datasetLabel(*data_) + ": batch index " + std::to_string(batchIndex) +
                    " is out of range (an epoch has " + std::to_string(batchesPerEpoch()) + " batches)");
    position_ = batchIndex;
}

bool BatchIterator::next(Tensor& images, std::vector<int>& labels)
{
    if (position_ >= batchesPerEpoch())
        return false;
    const int first = position_ * batchSize_;
    const int size = std::min(batchSize_, data_->count - first);
    const std::size_t sample = data_->sampleSize();
    images.resize({size, data_->channels, data_->height, data_->width});
    labels.resize(static_cast<std::size_t>(size));
    for (int b = 0; b < size; ++b) {
        const auto index = static_cast<std::size_t>(order_[static_cast<std::size_t>(first + b)]);
        std::copy_n(data_->images.data() + index * sample, sample, images.data() + static_cast<std::size_t>(b) * sample);
        labels[static_cast<std::size_t>(b)] = data_->labels[index];
    }
    ++position_;
    return true;
}

} // namespace sq
