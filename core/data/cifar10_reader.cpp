#include "core/data/cifar10_reader.h"

#include "core/data/byte_source.h"
#include "core/error.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <memory>

namespace sq {

namespace {

constexpr int kSide = 32;
constexpr int kChannels = 3;
constexpr int kClasses = 10;
constexpr std::size_t kPixels = std::size_t{kChannels} * kSide * kSide;
constexpr std::size_t kRecord = 1 + kPixels;
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 30;

std::string counted(std::uint64_t n, const std::string& noun)
{
    return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

std::string sizeProblem(std::uint64_t size, bool gzipped)
{
    return std::string(gzipped ? "decompressed size " : "size ") + counted(size, "byte") +
           " is not a multiple of the 3073-byte CIFAR-10 record (" + counted(size / kRecord, "record") + " and " +
           counted(size % kRecord, "byte") + " left over)";
}

} // namespace

Dataset readCifar10Batches(const std::vector<std::string>& paths, int limit)
{
    if (paths.empty())
        throw Error("CIFAR-10 reader: no batch files given");
    if (limit < 0)
        throw Error(paths.front() + ": sample limit must be 0 (all) or positive, got " + std::to_string(limit));

    Dataset data;
    data.name = std::filesystem::path(paths.front()).filename().string();
    data.channels = kChannels;
    data.height = kSide;
    data.width = kSide;
    data.classes = kClasses;

    // Every file is opened (and a plain one's size checked) before anything is read, so a missing
    // last batch is reported at once and the pixel buffer is sized once instead of per file.
    std::vector<std::unique_ptr<ByteSource>> sources;
    std::size_t plannedRecords = 0;
    for (const std::string& path : paths) {
        auto src = std::make_unique<ByteSource>(path);
        if (!src->gzipped()) {
            if (src->fileSize() > kMaxFileBytes)
                throw Error(path + ": absurd size: " + std::to_string(src->fileSize()) +
                            " bytes is over the 1 GiB limit");
            if (src->fileSize() % kRecord != 0)
                throw Error(path + ": " + sizeProblem(src->fileSize(), false));
            plannedRecords += static_cast<std::size_t>(src->fileSize() / kRecord);
        }
        sources.push_back(std::move(src));
    }
    if (limit > 0)
        plannedRecords = std::min(plannedRecords, static_cast<std::size_t>(limit));
    data.images.reserve(plannedRecords * kPixels);
    data.labels.reserve(plannedRecords);

    for (const auto& src : sources) {
        const std::string& path = src->path();
        const std::vector<std::uint8_t> bytes = src->readAll(kMaxFileBytes);
        if (bytes.empty())
            throw Error(path + ": empty file (expected 3073-byte CIFAR-10 records)");
        if (bytes.size() % kRecord != 0)
            throw Error(path + ": " + sizeProblem(bytes.size(), src->gzipped()));

        const std::size_t records = bytes.size() / kRecord;
        for (std::size_t r = 0; r < records; ++r) {
            const std::uint8_t label = bytes[r * kRecord];
            if (label >= kClasses)
                throw Error(path + ": label " + std::to_string(label) + " at record " + std::to_string(r) +
                            " is out of range (CIFAR-10 labels are 0 to 9)");
        }

        // Validation above covers the whole file; only the records within the limit are kept.
        const auto kept = static_cast<std::size_t>(data.count);
        std::size_t keep = records;
        if (limit > 0)
            keep = std::min(records, static_cast<std::size_t>(limit) - std::min(kept, static_cast<std::size_t>(limit)));
        if (kept + keep > static_cast<std::size_t>(std::numeric_limits<int>::max()))
            throw Error(path + ": absurd size: more than 2^31 records in total");
        data.images.resize((kept + keep) * kPixels);
        data.labels.resize(kept + keep);
        for (std::size_t r = 0; r < keep; ++r) {
            const std::uint8_t* record = bytes.data() + r * kRecord;
            data.labels[kept + r] = record[0];
            float* out = data.images.data() + (kept + r) * kPixels;
            for (std::size_t i = 0; i < kPixels; ++i)
                out[i] = static_cast<float>(record[1 + i]) / 255.0f;
        }
        data.count = static_cast<int>(kept + keep);
    }
    return data;
}

} // namespace sq
