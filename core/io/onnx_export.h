// ONNX export of a stored model through the ONNX library's protobuf classes (library sqonnx):
// dequantized weights as float initializers and standard operators, opset 13.
#pragma once

#include "core/io/stored_model.h"

#include <string>

namespace sq {

inline constexpr int kOnnxOpset = 13;

// The serialized ModelProto: input "input" (batch, C, H, W) float, output "logits"
// (batch, classes); Gemm (after a Flatten when its input is an image), Conv, MaxPool,
// BatchNormalization (inference statistics), Relu, Flatten. The input is the normalised one the
// engine sees; metadata_props carry the normalisation, the architecture, the method and each
// layer's decision and bits.
std::string onnxModelBytes(const StoredModel& model);

// Atomic write of onnxModelBytes(model).
void writeOnnxModel(const std::string& path, const StoredModel& model);

} // namespace sq
