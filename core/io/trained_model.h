// Capturing a training run's model for export: exactly the model whose accuracy the run reported.
#pragma once

#include "core/io/stored_model.h"
#include "core/trainer.h"

#include <vector>

namespace sq {

// With any layer stored quantized: the model as the trainer's quantized evaluation measures it
// (q(w), BatchNorm statistics re-estimated under it). Otherwise (mode float, or every layer kept
// float): the float model as its float evaluation measures it. inputMean / inputStddev: the
// normalisation of the run's dataset (DatasetSplits::mean, stddev). The trainer is left as it was.
StoredModel captureTrainedModel(Trainer& trainer, const std::vector<float>& inputMean,
                                const std::vector<float>& inputStddev);

} // namespace sq
