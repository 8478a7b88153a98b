// Small in-memory datasets for trainer tests: Gaussian blobs, one mean image per class.
#pragma once

#include "core/data/dataset.h"
#include "core/rng.h"

#include <memory>

namespace sq::testing {

// `classes` blobs of 1 x side x side images; separable, so a model must learn them quickly.
inline std::shared_ptr<const DatasetSplits> blobs(int trainCount, int testCount, int classes = 4, int side = 6,
                                                  std::uint64_t seed = 3)
{
    Rng rng(seed);
    const int size = side * side;
    std::vector<float> centres(static_cast<std::size_t>(classes * size));
    for (auto& c : centres)
        c = rng.normal();
    auto make = [&](int count) {
        Dataset d;
        d.count = count;
        d.channels = 1;
        d.height = side;
        d.width = side;
        d.classes = classes;
        for (int i = 0; i < count; ++i) {
            const int label = static_cast<int>(rng.below(static_cast<std::uint32_t>(classes)));
            d.labels.push_back(static_cast<std::uint8_t>(label));
            for (int j = 0; j < size; ++j)
                d.images.push_back(centres[static_cast<std::size_t>(label * size + j)] + 0.8f * rng.normal());
        }
        return d;
    };
    auto splits = std::make_shared<DatasetSplits>();
    splits->train = make(trainCount);
    splits->test = make(testCount);
    splits->mean = {0.0f};
    splits->stddev = {1.0f};
    return splits;
}

} // namespace sq::testing
