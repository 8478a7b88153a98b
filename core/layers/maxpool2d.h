// Max pooling over square windows of (N, C, H, W) activations, without padding.
#pragma once

#include "core/layers/layer.h"

#include <cstdint>

namespace sq {

// Output size: floor((H - size) / stride) + 1 (and the same for W); rows and columns that do not
// fill a whole window are dropped, as in PyTorch.
class MaxPool2D final : public Layer {
public:
    // stride 0 means stride = size (non-overlapping windows).
    explicit MaxPool2D(int size, int stride = 0);

    std::string kind() const override { return "maxpool"; }
    std::string describe() const override; // "maxpool 2", "maxpool 3 stride 2"
    std::vector<int> outputShape(const std::vector<int>& inputSample) const override;

    // A Train pass remembers where each window's maximum was (the first one on ties).
    void forward(const Tensor& in, Tensor& out, Pass pass) override;
    // Routes each output gradient to the input that was the maximum of its window.
    void backward(const Tensor& in, const Tensor& out, const Tensor& gradOut, Tensor* gradIn) override;

    int size() const { return size_; }
    int stride() const { return stride_; }

private:
    template <bool Remember>
    void pool(const Tensor& in, Tensor& out);

    int size_;
    int stride_;
    // For every output value of the last Train pass: the index of its maximum within its input plane.
    std::vector<std::int32_t> argmax_;
};

} // namespace sq
