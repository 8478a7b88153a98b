// 2-D convolution over (N, C, H, W) activations, computed as im2col + one GEMM per chunk of samples.
#pragma once

#include "core/layers/layer.h"

namespace sq {

// Weight of shape (out, in, k, k) as in PyTorch, square kernel, zero padding on every side.
// Output size: floor((H + 2 * padding - kernel) / stride) + 1 (and the same for W).
class Conv2D final : public Layer {
public:
    Conv2D(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0);

    std::string kind() const override { return "conv"; }
    std::string describe() const override; // e.g. "conv 1->6 5x5 pad 2", "conv 3->8 3x3 pad 1 stride 2"
    std::vector<int> outputShape(const std::vector<int>& inputSample) const override;

    // PyTorch's default: U(-1/sqrt(fanIn), 1/sqrt(fanIn)) for weights and biases, fanIn = in * k * k.
    void initialize(Rng& rng) override;
    void forward(const Tensor& in, Tensor& out, Pass pass) override;
    // Gradients are taken against weight_.effective() and written to weight_.param.grad
    // (straight-through estimator when the quantized weights are in use).
    void backward(const Tensor& in, const Tensor& out, const Tensor& gradOut, Tensor* gradIn) override;

    std::vector<Param*> params() override { return {&weight_.param, &bias_}; }
    QuantizableWeight* quantizableWeight() override { return &weight_; }

    int inChannels() const { return in_; }
    int outChannels() const { return out_; }
    int kernel() const { return kernel_; }
    int stride() const { return stride_; }
    int padding() const { return padding_; }

private:
    // Sizes of one batch, derived from the input shape once per call.
    struct Geometry {
        int n = 0, h = 0, w = 0;   // batch, input height and width
        int oh = 0, ow = 0;        // output height and width
        Eigen::Index pixels = 0;   // oh * ow: columns contributed by one sample
        Eigen::Index patch = 0;    // in * k * k: rows of the unfolded input
        int chunk = 0;             // samples unfolded together
        int chunks = 0;            // ceil(n / chunk)
    };
    // One thread's scratch space, sized for a whole chunk before the parallel loop starts.
    struct Workspace {
        Tensor col;   // (patch, chunk * pixels): the unfolded input, then its gradient in backward
        Tensor chunk; // (out, chunk * pixels): one chunk's output, or its gathered output gradient
        Tensor padded; // one input plane with its zero border (im2col)
    };

    Geometry geometry(const Tensor& in) const;
    const Tensor& checkedWeight() const;
    // Threads for `chunks` chunks, with a workspace each.
    int prepareWorkspaces(const Geometry& g);
    // Unfolds samples [first, first + count) of `in` into col (patch x count * pixels); `padded`
    // holds (h + 2 padding) x (w + 2 padding) floats of scratch.
    void im2col(const Tensor& in, int first, int count, const Geometry& g, float* col, float* padded) const;
    // Folds col back, adding every patch entry onto the input pixel it was read from.
    void col2im(const float* col, int first, int count, const Geometry& g, Tensor& gradIn) const;

    int in_;
    int out_;
    int kernel_;
    int stride_;
    int padding_;
    QuantizableWeight weight_;
    Param bias_;

    // Kept between batches so that a warmed-up layer does not allocate.
    std::vector<Workspace> workspaces_;
    Tensor weightGradParts_; // (chunks, out, patch): each chunk's share of the weight gradient
};

} // namespace sq
