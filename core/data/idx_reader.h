// Reader for IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
#pragma once

#include "core/data/dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sq {

// An unsigned-byte IDX array (element type 0x08, the only one the image datasets use).
struct IdxArray {
    std::vector<int> dims;
    std::vector<std::uint8_t> data; // product(dims) bytes, row-major
};

// Reads a whole IDX file; gzip is recognised by its magic bytes, not by the name. Throws sq::Error
// naming the path for a missing file, a bad header, a header claiming more than 1 GiB, a short
// payload, trailing bytes, or corrupt gzip data. Nothing is allocated from the header's claim alone.
IdxArray readIdx(const std::string& path);

// Reads an images file (count x rows x cols) and its labels file (count) as a one-channel Dataset
// with 10 classes. Pixels are only scaled to [0, 1] (byte / 255); loadDataset() normalises.
// limit > 0 keeps the first `limit` samples (both files are still fully validated). Images larger
// than 4096x4096 are refused before anything is allocated.
Dataset readIdxPair(const std::string& imagesPath, const std::string& labelsPath, int limit = 0);

} // namespace sq
