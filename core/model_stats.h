// Measurements of a model for snapshots: weight histograms and storage under the current decisions.
#pragma once

#include "core/model.h"
#include "core/snapshot.h"

namespace sq {

// `bins` equal bins over [min(-2 alpha, min w), max(2 alpha, max w)], so the grid and every
// weight are always in view.
Histogram weightHistogram(const Tensor& weights, float alpha, int bins);

// Bits of the model as stored: quantized weights at their depth plus one float32 scale per
// quantized layer; biases, BatchNorm parameters and statistics, and float layers in float32.
MemoryReport memoryReport(const Model& model, const std::vector<LayerQuantState>& layers);

} // namespace sq
