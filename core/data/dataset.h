// In-memory image classification datasets and loading a dataset folder (IDX or CIFAR-10 binary).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sq {

// One split of a dataset, all in memory.
struct Dataset {
    std::string name; // e.g. "fashion-mnist train" (from the folder name)
    int count = 0, channels = 0, height = 0, width = 0, classes = 10;
    std::vector<float> images;        // count * channels*height*width, row-major (N, C, H, W)
    std::vector<std::uint8_t> labels; // count values in [0, classes)

    std::vector<int> sampleShape() const { return {channels, height, width}; }
    std::size_t sampleSize() const;
};

enum class DatasetKind { Auto, Idx, Cifar10 };

struct DatasetSplits {
    Dataset train, test;
    // Per channel, from the (limited) training split, as applied to both splits: x' = (x - mean) / stddev
    // with x in [0, 1]. A channel that is constant in the training split gets stddev 1.
    std::vector<float> mean, stddev;
};

// Loads a dataset folder and normalises both splits with the training split's statistics.
//  - Idx: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
//    t10k-labels-idx1-ubyte, each plain or gzip (optionally named .gz), also under the mirrors'
//    names with '.' before "idx" (train-images.idx3-ubyte).
//  - Cifar10: data_batch_1.bin .. data_batch_5.bin and test_batch.bin, in dir or in
//    dir/cifar-10-batches-bin. data_batch_1.bin is required; later batches are optional but
//    must not skip a number (a folder with only the first few batches is a smaller training set).
//  - Auto: Idx if an IDX training images file is there, else Cifar10 if a CIFAR batch is there.
// trainLimit / testLimit: 0 keeps everything, N > 0 keeps the first N samples of that split.
// Throws sq::Error naming the folder or file and the problem.
DatasetSplits loadDataset(const std::string& dir, DatasetKind kind = DatasetKind::Auto, int trainLimit = 0,
                          int testLimit = 0);

// As loadDataset, but both splits are normalised with the given per-channel statistics instead of
// the training split's own: those a saved model was trained with, so that it sees exactly the
// inputs its accuracy was measured on. sq::Error if the channel counts differ.
DatasetSplits loadDataset(const std::string& dir, DatasetKind kind, int trainLimit, int testLimit,
                          const std::vector<float>& mean, const std::vector<float>& stddev);

// "auto", "idx" or "cifar10"; anything else throws an sq::Error naming --dataset-kind.
DatasetKind parseDatasetKind(const std::string& text);

// $SQ_DEFAULT_DATASET if set and not empty, else /usr/share/datasets/fashion-mnist, where the
// Debian package dataset-fashion-mnist installs Fashion-MNIST.
std::string defaultDatasetDir();

} // namespace sq
