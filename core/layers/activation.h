// Element-wise activations (ReLU).
#pragma once

#include "core/layers/layer.h"

namespace sq {

class ReLU final : public Layer {
public:
    std::string kind() const override { return "relu"; }
    std::string describe() const override { return "relu"; }
    std::vector<int> outputShape(const std::vector<int>& inputSample) const override { return inputSample; }

    void forward(const Tensor& in, Tensor& out, Pass pass) override;
    // The derivative at exactly 0 is taken as 0 (as PyTorch does).
    void backward(const Tensor& in, const Tensor& out, const Tensor& gradOut, Tensor* gradIn) override;
};

} // namespace sq
