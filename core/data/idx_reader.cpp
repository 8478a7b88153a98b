#include "core/data/idx_reader.h"

#include "core/data/byte_source.h"
#include "core/error.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace sq {

namespace {

constexpr std::uint64_t kMaxPayloadBytes = std::uint64_t{1} << 30;
constexpr int kMaxImageSide = 4096;
constexpr int kIdxClasses = 10;

std::string hexByte(unsigned value)
{
    char text[8];
    std::snprintf(text, sizeof text, "0x%02X", value & 0xFFu);
    return text;
}

std::string dimsText(const std::vector<std::uint32_t>& dims)
{
    std::string text;
    for (std::size_t i = 0; i < dims.size(); ++i)
        text += (i ? " x " : "") + std::to_string(dims[i]);
    return text;
}

// Reads and checks the magic and the dimensions, leaving src at the first payload byte. All size
// checks happen here so that callers can refuse a file before allocating anything for it.
std::vector<int> readHeader(ByteSource& src)
{
    const std::string& path = src.path();
    std::uint8_t magic[4];
    std::size_t got = src.read(magic, sizeof magic);
    if (got < sizeof magic)
        throw Error(path + ": truncated IDX header (expected 4 magic bytes, got " + std::to_string(got) + ")");
    if (magic[0] != 0 || magic[1] != 0)
        throw Error(path + ": bad magic " + hexByte(magic[0]) + " " + hexByte(magic[1]) +
                    ": not an IDX file (IDX files start with two zero bytes)");
    if (magic[2] != 0x08)
        throw Error(path + ": unsupported IDX element type " + hexByte(magic[2]) +
                    " in the magic (only unsigned bytes, type 0x08, are supported)");
    const int rank = magic[3];
    if (rank < 1 || rank > 4)
        throw Error(path + ": bad IDX header: " + std::to_string(rank) + " dimensions (expected 1 to 4)");

    std::uint8_t raw[16];
    const auto dimBytes = static_cast<std::size_t>(4 * rank);
    got = src.read(raw, dimBytes);
    if (got < dimBytes)
        throw Error(path + ": truncated IDX header (expected " + std::to_string(dimBytes) +
                    " bytes of dimensions, got " + std::to_string(got) + ")");

    std::vector<std::uint32_t> dims;
    for (int i = 0; i < rank; ++i) {
        const std::uint8_t* b = raw + 4 * i;
        dims.push_back(std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3]);
    }
    std::uint64_t total = 1;
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (dims[i] == 0)
            throw Error(path + ": absurd size in IDX header: dimension " + std::to_string(i) + " is 0 (" +
                        dimsText(dims) + ")");
        // Checked before multiplying, so four 32-bit dimensions cannot overflow the product.
        if (dims[i] > kMaxPayloadBytes / total)
            throw Error(path + ": absurd size in IDX header: " + dimsText(dims) +
                        " bytes is over the 1 GiB limit");
        total *= dims[i];
    }
    // Every dimension is at most the 1 GiB total, so it fits an int.
    return std::vector<int>(dims.begin(), dims.end());
}

std::size_t elementCount(const std::vector<int>& dims)
{
    std::size_t n = 1;
    for (int d : dims)
        n *= static_cast<std::size_t>(d);
    return n;
}

// Reads exactly the payload the (already checked) header announced and insists the file ends there.
std::vector<std::uint8_t> readPayload(ByteSource& src, const std::vector<int>& dims)
{
    const std::size_t expected = elementCount(dims);
    const auto truncated = [&](std::uint64_t got) {
        return Error(src.path() + ": truncated payload (expected " + std::to_string(expected) + " bytes, got " +
                     std::to_string(got) + ")");
    };
    // A plain file's size is known: refuse a short one before allocating for it.
    if (!src.gzipped() && src.remainingBound() < expected)
        throw truncated(src.remainingBound());
    std::vector<std::uint8_t> data = src.readUpTo(expected);
    if (data.size() < expected)
        throw truncated(data.size());
    // Reading on to the end also makes zlib verify the gzip trailer (CRC and length).
    if (const std::uint64_t extra = src.skipRest())
        throw Error(src.path() + ": trailing garbage: " + std::to_string(extra) + (extra == 1 ? " byte" : " bytes") +
                    " after the " +
                    std::to_string(expected) + "-byte payload");
    return data;
}

} // namespace

IdxArray readIdx(const std::string& path)
{
    ByteSource src(path);
    IdxArray array;
    array.dims = readHeader(src);
    array.data = readPayload(src, array.dims);
    return array;
}

Dataset readIdxPair(const std::string& imagesPath, const std::string& labelsPath, int limit)
{
    if (limit < 0)
        throw Error(imagesPath + ": sample limit must be 0 (all) or positive, got " + std::to_string(limit));

    ByteSource images(imagesPath);
    const std::vector<int> imageDims = readHeader(images);
    if (imageDims.size() != 3)
        throw Error(imagesPath + ": an IDX images file needs 3 dimensions (count, rows, cols), the header has " +
                    std::to_string(imageDims.size()));
    if (imageDims[1] > kMaxImageSide || imageDims[2] > kMaxImageSide)
        throw Error(imagesPath + ": absurd image size " + std::to_string(imageDims[1]) + "x" +
                    std::to_string(imageDims[2]) + " in IDX header (limit 4096x4096)");

    ByteSource labels(labelsPath);
    const std::vector<int> labelDims = readHeader(labels);
    if (labelDims.size() != 1)
        throw Error(labelsPath + ": an IDX labels file needs 1 dimension (count), the header has " +
                    std::to_string(labelDims.size()));
    if (labelDims[0] != imageDims[0])
        throw Error(imagesPath + ": image count mismatch: it holds " + std::to_string(imageDims[0]) +
                    " images but " + labelsPath + " holds " + std::to_string(labelDims[0]) + " labels");

    // Labels first: they are small, and a bad one is found without inflating the images.
    std::vector<std::uint8_t> labelBytes = readPayload(labels, labelDims);
    for (std::size_t i = 0; i < labelBytes.size(); ++i)
        if (labelBytes[i] >= kIdxClasses)
            throw Error(labelsPath + ": label " + std::to_string(labelBytes[i]) + " at index " + std::to_string(i) +
                        " is out of range (expected 0 to " + std::to_string(kIdxClasses - 1) + ")");
    const std::vector<std::uint8_t> imageBytes = readPayload(images, imageDims);

    Dataset data;
    data.name = std::filesystem::path(imagesPath).filename().string();
    data.count = limit > 0 ? std::min(limit, imageDims[0]) : imageDims[0];
    data.channels = 1;
    data.height = imageDims[1];
    data.width = imageDims[2];
    data.classes = kIdxClasses;
    const std::size_t values = static_cast<std::size_t>(data.count) * data.sampleSize();
    data.images.resize(values);
    for (std::size_t i = 0; i < values; ++i)
        data.images[i] = static_cast<float>(imageBytes[i]) / 255.0f;
    labelBytes.resize(static_cast<std::size_t>(data.count));
    data.labels = std::move(labelBytes);
    return data;
}

} // namespace sq
