// Fully connected layer: y = x W^T + b, with W of shape (out, in) as in PyTorch.
#pragma once

#include "core/layers/layer.h"

namespace sq {

class Dense final : public Layer {
public:
    Dense(int inFeatures, int outFeatures);

    std::string kind() const override { return "dense"; }
    std::string describe() const override;
    std::vector<int> outputShape(const std::vector<int>& inputSample) const override;

    // PyTorch's default: U(-1/sqrt(in), 1/sqrt(in)) for weights and biases.
    void initialize(Rng& rng) override;
    void forward(const Tensor& in, Tensor& out, Pass pass) override;
    void backward(const Tensor& in, const Tensor& out, const Tensor& gradOut, Tensor* gradIn) override;

    std::vector<Param*> params() override { return {&weight_.param, &bias_}; }
    QuantizableWeight* quantizableWeight() override { return &weight_; }

    int inFeatures() const { return in_; }
    int outFeatures() const { return out_; }

private:
    void checkInput(const Tensor& in) const;
    int in_;
    int out_;
    QuantizableWeight weight_;
    Param bias_;
};

} // namespace sq
