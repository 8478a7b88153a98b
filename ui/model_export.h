// Writing a run's trained model from the explorer, in the format its file name asks for: the
// native .sqm, ONNX, or a C header. Runs on the worker thread that owns the trainer.
#pragma once

#include "core/data/dataset.h"
#include "core/trainer.h"

#include <string>

namespace sq::ui {

// The model whose quantized accuracy the run reported (see captureTrainedModel), written
// atomically to `path`. Throws sq::Error naming the file (unknown suffix, write failure).
// Returns a one-line description for the status bar.
std::string exportTrainedModel(Trainer& trainer, const DatasetSplits& data, const std::string& path);

} // namespace sq::ui
