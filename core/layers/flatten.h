// Flatten: (N, C, H, W) -> (N, C*H*W). Dense accepts either, so this only reshapes.
#pragma once

#include "core/layers/layer.h"

namespace sq {

class Flatten final : public Layer {
public:
    std::string kind() const override { return "flatten"; }
    std::string describe() const override { return "flatten"; }
    std::vector<int> outputShape(const std::vector<int>& inputSample) const override;

    void forward(const Tensor& in, Tensor& out, Pass pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& gradOut, Tensor* gradIn) override;
};

} // namespace sq
