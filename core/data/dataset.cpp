#include "core/data/dataset.h"

#include "core/data/cifar10_reader.h"
#include "core/data/idx_reader.h"
#include "core/error.h"
#include "core/tensor.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace sq {

std::size_t Dataset::sampleSize() const
{
    return static_cast<std::size_t>(channels) * static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
}

namespace {

namespace fs = std::filesystem;

const char* const kIdxTrainImages = "train-images-idx3-ubyte";
const char* const kIdxTrainLabels = "train-labels-idx1-ubyte";
const char* const kIdxTestImages = "t10k-images-idx3-ubyte";
const char* const kIdxTestLabels = "t10k-labels-idx1-ubyte";
const char* const kCifarSubfolder = "cifar-10-batches-bin";
const char* const kCifarTest = "test_batch.bin";
constexpr int kCifarTrainBatches = 5;

bool isFile(const fs::path& path)
{
    std::error_code ec;
    return fs::is_regular_file(path, ec);
}

std::string cifarTrainName(int k) { return "data_batch_" + std::to_string(k) + ".bin"; }

// The names an IDX file goes by: the canonical one, the mirrors' with '.' before "idx"
// (train-images.idx3-ubyte), and both with ".gz".
std::vector<std::string> idxNames(const std::string& base)
{
    std::string dotted = base;
    const std::size_t idx = dotted.rfind("-idx");
    if (idx != std::string::npos)
        dotted[idx] = '.';
    return {base, base + ".gz", dotted, dotted + ".gz"};
}

std::string findIdx(const fs::path& dir, const std::string& base)
{
    for (const std::string& name : idxNames(base))
        if (isFile(dir / name))
            return (dir / name).string();
    return {};
}

std::string requireIdx(const fs::path& dir, const std::string& base)
{
    std::string found = findIdx(dir, base);
    if (!found.empty())
        return found;
    const std::vector<std::string> names = idxNames(base);
    throw Error((dir / base).string() + ": IDX file not found (also looked for " + names[1] + ", " + names[2] +
                " and " + names[3] + ")");
}

// The folder holding the CIFAR-10 batches: dir itself or the archive's subfolder; empty if neither.
fs::path findCifarFolder(const fs::path& dir)
{
    for (const fs::path& folder : {dir, dir / kCifarSubfolder})
        if (isFile(folder / cifarTrainName(1)) || isFile(folder / kCifarTest))
            return folder;
    return {};
}

std::string lookedFor(const fs::path& dir)
{
    return "looked for IDX files (" + std::string(kIdxTrainImages) + ", " + kIdxTrainLabels + ", " + kIdxTestImages +
           ", " + kIdxTestLabels + ", each optionally .gz or with '.' before \"idx\") and CIFAR-10 binary batches (" +
           cifarTrainName(1) + " .. " + cifarTrainName(kCifarTrainBatches) + ", " + kCifarTest + ") in " +
           dir.string() + " and " + (dir / kCifarSubfolder).string();
}

DatasetKind detectKind(const fs::path& dir)
{
    for (const char* base : {kIdxTrainImages, kIdxTrainLabels, kIdxTestImages, kIdxTestLabels})
        if (!findIdx(dir, base).empty())
            return DatasetKind::Idx;
    if (!findCifarFolder(dir).empty())
        return DatasetKind::Cifar10;
    throw Error(dir.string() + ": no dataset found: " + lookedFor(dir));
}

struct RawSplits {
    Dataset train, test;
    std::string testFile; // named when the test split does not match the training one
};

RawSplits loadIdx(const fs::path& dir, int trainLimit, int testLimit)
{
    // Every file is located before any is read, so a missing one is reported without delay.
    const std::string trainImages = requireIdx(dir, kIdxTrainImages);
    const std::string trainLabels = requireIdx(dir, kIdxTrainLabels);
    const std::string testImages = requireIdx(dir, kIdxTestImages);
    const std::string testLabels = requireIdx(dir, kIdxTestLabels);
    return {readIdxPair(trainImages, trainLabels, trainLimit), readIdxPair(testImages, testLabels, testLimit),
            testImages};
}

RawSplits loadCifar(const fs::path& dir, int trainLimit, int testLimit)
{
    const fs::path folder = findCifarFolder(dir);
    if (folder.empty())
        throw Error((dir / cifarTrainName(1)).string() + ": CIFAR-10 batch not found (also looked in " +
                    (dir / kCifarSubfolder).string() + ")");
    // Later training batches are optional, but a gap would silently drop data the user meant to use.
    std::vector<std::string> trainFiles;
    for (int k = 1; k <= kCifarTrainBatches; ++k) {
        const fs::path path = folder / cifarTrainName(k);
        if (k == 1 || isFile(path)) {
            trainFiles.push_back(path.string());
            continue;
        }
        for (int later = k + 1; later <= kCifarTrainBatches; ++later)
            if (isFile(folder / cifarTrainName(later)))
                throw Error(path.string() + ": file not found, but " + cifarTrainName(later) +
                            " exists (the training batches skip a number)");
        break;
    }
    const std::string testFile = (folder / kCifarTest).string();
    return {readCifar10Batches(trainFiles, trainLimit), readCifar10Batches({testFile}, testLimit), testFile};
}

std::string folderName(const std::string& dir)
{
    std::error_code ec;
    fs::path path = fs::absolute(dir, ec).lexically_normal();
    if (path.filename().empty())
        path = path.parent_path();
    const std::string name = path.filename().string();
    return name.empty() ? dir : name;
}

// Population statistics per channel, in double: a float running sum over 47 million pixels
// would lose the low digits that the mean is made of.
void channelStats(const Dataset& data, std::vector<float>& mean, std::vector<float>& stddev)
{
    const auto channels = static_cast<std::size_t>(data.channels);
    const std::size_t plane = static_cast<std::size_t>(data.height) * static_cast<std::size_t>(data.width);
    const auto count = static_cast<std::size_t>(data.count);
    const double n = static_cast<double>(count * plane);
    mean.assign(channels, 0.0f);
    stddev.assign(channels, 1.0f);
    for (std::size_t c = 0; c < channels; ++c) {
        double sum = 0.0;
        for (std::size_t s = 0; s < count; ++s) {
            const float* p = data.images.data() + (s * channels + c) * plane;
            for (std::size_t i = 0; i < plane; ++i)
                sum += p[i];
        }
        const double m = sum / n;
        double squares = 0.0;
        for (std::size_t s = 0; s < count; ++s) {
            const float* p = data.images.data() + (s * channels + c) * plane;
            for (std::size_t i = 0; i < plane; ++i)
                squares += (p[i] - m) * (p[i] - m);
        }
        const double sd = std::sqrt(squares / n);
        mean[c] = static_cast<float>(m);
        // A channel that never varies carries no information; dividing by ~0 would only blow up
        // whatever the test split has there.
        stddev[c] = sd > 1e-6 ? static_cast<float>(sd) : 1.0f;
    }
}

void normalise(Dataset& data, const std::vector<float>& mean, const std::vector<float>& stddev)
{
    const auto channels = static_cast<std::size_t>(data.channels);
    const std::size_t plane = static_cast<std::size_t>(data.height) * static_cast<std::size_t>(data.width);
    for (std::size_t s = 0; s < static_cast<std::size_t>(data.count); ++s)
        for (std::size_t c = 0; c < channels; ++c) {
            float* p = data.images.data() + (s * channels + c) * plane;
            for (std::size_t i = 0; i < plane; ++i)
                p[i] = (p[i] - mean[c]) / stddev[c];
        }
}

void checkLimit(const std::string& dir, const char* what, int limit)
{
    if (limit < 0)
        throw Error(dir + ": " + what + " limit must be 0 (all) or positive, got " + std::to_string(limit));
}

// fixedMean / fixedStddev: null for the training split's own statistics.
DatasetSplits loadNormalised(const std::string& dir, DatasetKind kind, int trainLimit, int testLimit,
                             const std::vector<float>* fixedMean, const std::vector<float>* fixedStddev)
{
    checkLimit(dir, "train", trainLimit);
    checkLimit(dir, "test", testLimit);
    std::error_code ec;
    const fs::file_status status = fs::status(dir, ec);
    if (status.type() == fs::file_type::not_found)
        throw Error(dir + ": dataset folder does not exist");
    if (ec)
        throw Error(dir + ": cannot access the dataset folder (" + ec.message() + ")");
    if (!fs::is_directory(status))
        throw Error(dir + ": not a folder (a dataset is a folder of IDX or CIFAR-10 files)");

    const fs::path path(dir);
    if (kind == DatasetKind::Auto)
        kind = detectKind(path);
    RawSplits raw = kind == DatasetKind::Idx ? loadIdx(path, trainLimit, testLimit)
                                             : loadCifar(path, trainLimit, testLimit);
    if (raw.test.sampleShape() != raw.train.sampleShape())
        throw Error(raw.testFile + ": test samples are " + shapeString(raw.test.sampleShape()) +
                    " but training samples are " + shapeString(raw.train.sampleShape()));

    DatasetSplits splits;
    const std::string name = folderName(dir);
    raw.train.name = name + " train";
    raw.test.name = name + " test";
    if (fixedMean && fixedStddev) {
        if (fixedMean->size() != static_cast<std::size_t>(raw.train.channels)
            || fixedStddev->size() != static_cast<std::size_t>(raw.train.channels))
            throw Error(dir + ": the images have " + std::to_string(raw.train.channels)
                        + " channels, the model's input normalisation " + std::to_string(fixedMean->size()));
        splits.mean = *fixedMean;
        splits.stddev = *fixedStddev;
    } else {
        channelStats(raw.train, splits.mean, splits.stddev);
    }
    normalise(raw.train, splits.mean, splits.stddev);
    normalise(raw.test, splits.mean, splits.stddev);
    splits.train = std::move(raw.train);
    splits.test = std::move(raw.test);
    return splits;
}

} // namespace

DatasetSplits loadDataset(const std::string& dir, DatasetKind kind, int trainLimit, int testLimit)
{
    return loadNormalised(dir, kind, trainLimit, testLimit, nullptr, nullptr);
}

DatasetSplits loadDataset(const std::string& dir, DatasetKind kind, int trainLimit, int testLimit,
                          const std::vector<float>& mean, const std::vector<float>& stddev)
{
    return loadNormalised(dir, kind, trainLimit, testLimit, &mean, &stddev);
}

DatasetKind parseDatasetKind(const std::string& text)
{
    if (text == "auto")
        return DatasetKind::Auto;
    if (text == "idx")
        return DatasetKind::Idx;
    if (text == "cifar10")
        return DatasetKind::Cifar10;
    throw Error("--dataset-kind: unknown dataset kind '" + text + "' (expected auto, idx or cifar10)");
}

std::string defaultDatasetDir()
{
    const char* env = std::getenv("SQ_DEFAULT_DATASET");
    if (env && *env)
        return env;
    return "/usr/share/datasets/fashion-mnist";
}

} // namespace sq
