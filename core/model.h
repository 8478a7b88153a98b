// A sequential model: layers in order, their activations and gradients, and the quantizable weights.
#pragma once

#include "core/layers/layer.h"

#include <memory>
#include <string>
#include <vector>

namespace sq {

// A Dense or Conv2D layer whose weight quantization acts on.
struct QuantTarget {
    std::string name; // "conv1", "dense2": kind and ordinal among layers of that kind
    Layer* layer = nullptr;
    QuantizableWeight* weight = nullptr;
};

class Model {
public:
    // inputSample: the shape of one input sample, e.g. {1, 28, 28}. Validates every layer's shape.
    Model(std::vector<std::unique_ptr<Layer>> layers, std::vector<int> inputSample, std::string architecture);

    void initialize(Rng& rng);

    // Returns the logits (N, classes); stays valid until the next forward().
    const Tensor& forward(const Tensor& input, Pass pass);
    // Backpropagates dLoss/dlogits through the Train forward of `input`; fills every param grad.
    void backward(const Tensor& input, const Tensor& gradLogits);

    const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
    const std::vector<QuantTarget>& quantTargets() const { return targets_; }
    std::vector<Param*> params() const;
    std::vector<Tensor*> buffers() const;

    const std::vector<int>& inputSample() const { return inputSample_; }
    int outputs() const { return outputShapes_.back().front(); }
    const std::string& architecture() const { return architecture_; }
    std::size_t parameterCount() const; // every trainable scalar
    std::size_t weightCount() const;    // quantizable weights only
    std::string summary() const;        // one line per layer with its output shape

private:
    std::vector<std::unique_ptr<Layer>> layers_;
    std::vector<int> inputSample_;
    std::vector<std::vector<int>> outputShapes_;
    std::string architecture_;
    std::vector<QuantTarget> targets_;
    std::vector<Tensor> activations_;
    // Whether layer i's input gradient is needed: only when a layer before it has parameters
    // (mlp's first Dense would otherwise compute a 784-wide gradient for Flatten to throw away).
    std::vector<bool> needsGradIn_;
    Tensor gradA_;
    Tensor gradB_;
};

} // namespace sq
