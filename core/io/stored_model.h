// A trained model as the exports hold it: quantized weights as codes into a level table, every
// other number float32. The native model file, the ONNX and the C header exports all start here.
#pragma once

#include "core/model.h"
#include "core/quant/quant_method.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sq {

// One quantizable weight (of a Dense or Conv2D layer) as stored.
struct StoredWeight {
    std::string name;     // "dense1", as Model::quantTargets() names it
    std::string decision; // "binary", "ternary", "float", or another method's own word
    int bits = 32;        // 1..8: codes into `levels`; 32: float32 values
    // The method's scalars as it reported them (SQ: alpha, beta and the zero-basin half-width;
    // other methods put their step in alpha). Informative: `levels` alone defines the weights.
    float alpha = 0.0f;
    float beta = 0.0f;
    float delta = 0.0f;
    std::vector<float> levels;       // ascending, at most 2^bits values (quantized weights)
    std::vector<std::uint8_t> codes; // one per weight, indices into levels (quantized weights)
    std::vector<float> values;       // one per weight (float weights)

    bool quantized() const { return bits < 32; }
    std::size_t count() const { return quantized() ? codes.size() : values.size(); }
    // The weights the forward pass multiplies by: levels[codes[i]], or the float values.
    std::vector<float> dequantized() const;
};

struct StoredModel {
    std::string method;       // the training mode or method, e.g. "sq"
    std::string architecture; // the architecture text (Model::architecture())
    std::vector<int> inputSample;
    int classes = 0;
    // Per input channel: the network sees (x - mean) / stddev of pixels x in [0, 1], with the
    // statistics of the training split it was trained on.
    std::vector<float> inputMean;
    std::vector<float> inputStddev;
    std::vector<StoredWeight> weights; // in Model::quantTargets() order
    // Every other parameter and buffer (biases; BatchNorm gamma, beta, running mean and
    // variance), layer by layer, each layer's params() before its buffers().
    std::vector<std::vector<float>> floats;
};

// Captures `model` as its forward pass computes now. A layer whose state says bits < 32 is stored
// as codes: each of its effective weights (what the forward multiplies by, q(w) once the method's
// quantized forward is on) must be one of the state's levels; a level is stored as the exact value
// the weights hold, so the dequantized weights equal the evaluated ones bit for bit. Other layers
// store their effective weights as float32. Throws sq::Error naming the layer if the weights do
// not sit on the reported grid.
StoredModel captureModel(const Model& model, const std::vector<LayerQuantState>& layers, const std::string& method,
                         const std::vector<float>& inputMean, const std::vector<float>& inputStddev);

// Builds the model the stored one describes and sets its dequantized weights as plain float
// weights, so that Pass::Eval computes what the captured model computed. The element counts are
// checked against the architecture before anything is allocated; sq::Error on any mismatch.
Model instantiateModel(const StoredModel& stored);

// Storage bits as memoryReport() counts them: quantized weights at their bits plus one float32
// scale per quantized layer, float weights and every other float at 32 bits.
std::uint64_t storedModelBits(const StoredModel& stored);

} // namespace sq
