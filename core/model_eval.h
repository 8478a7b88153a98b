// Evaluating a model outside a training run (a loaded model file, an export check): accuracy on
// a dataset split and per-image predictions, computed as the trainer computes them.
#pragma once

#include "core/data/dataset.h"
#include "core/io/stored_model.h"
#include "core/model.h"

#include <cstdint>
#include <vector>

namespace sq {

struct AccuracyResult {
    std::int64_t correct = 0;
    std::int64_t total = 0;
    double loss = 0.0; // mean cross-entropy
    double accuracy() const { return total ? static_cast<double>(correct) / static_cast<double>(total) : 0.0; }
};

// Eval-pass accuracy over `data` in file order, in batches of `batchSize`: the trainer's own
// procedure, so that with its evaluation batch size (TrainConfig::evalBatchSize) the same model
// gives the same count.
AccuracyResult datasetAccuracy(Model& model, const Dataset& data, int batchSize);

// Logits (count, classes) of samples [first, first + count) of `data`, Eval pass.
Tensor datasetLogits(Model& model, const Dataset& data, int first, int count, int batchSize);

struct ModelFileEvaluation {
    StoredModel stored;
    AccuracyResult result;
};

// Reads a model file and measures its test accuracy on the dataset in `datasetDir`, normalised
// with the model's own statistics (those its accuracy was measured with). Throws sq::Error naming
// the file when it is invalid or does not fit the dataset (input shape, class count).
ModelFileEvaluation evaluateModelFile(const std::string& path, const std::string& datasetDir, DatasetKind kind,
                                      int testLimit, int batchSize, int threads);

} // namespace sq
