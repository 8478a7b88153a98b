// Reader for the CIFAR-10 binary version (data_batch_N.bin / test_batch.bin).
#pragma once

#include "core/data/dataset.h"

#include <string>
#include <vector>

namespace sq {

// Concatenates CIFAR-10 batch files into one 3x32x32 Dataset with 10 classes. Each file is a
// sequence of 3073-byte records: a label byte (0..9) then the R, G and B planes of 32x32 bytes
// each, row-major, which is already the (C, H, W) layout. Pixels are only scaled to [0, 1]
// (byte / 255); loadDataset() normalises. limit > 0 keeps the first `limit` records overall
// (every file is still fully validated). Throws sq::Error naming the file for a missing, empty
// or oversized file (over 1 GiB), a size that is not a multiple of 3073, or a label above 9.
Dataset readCifar10Batches(const std::vector<std::string>& paths, int limit = 0);

} // namespace sq
