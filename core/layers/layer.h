// The layer contract every building block of a model implements (forward, backward, parameters).
#pragma once

#include "core/rng.h"
#include "core/tensor.h"

#include <string>
#include <vector>

namespace sq {

// What a forward pass is for. Only BatchNorm behaves differently between them.
enum class Pass {
    Train,       // batch statistics, running statistics updated, caches kept for backward()
    Eval,        // running statistics, nothing cached
    Recalibrate, // batch statistics, running statistics accumulated as a plain average
};

// A trainable tensor and its gradient.
struct Param {
    std::string name; // "weight", "bias", "gamma", "beta", "alpha", ...
    Tensor value;
    Tensor grad;
    bool decay = true; // whether the optimizer's weight decay applies
};

// The weight of a Dense or Conv2D layer, the tensors that quantization acts on.
// `param` holds the latent float weights the optimizer trains; the forward pass multiplies by
// effective(), which is the same tensor, or q(w) written into `quantized` by a quantization method
// (straight-through estimator: the gradient computed against q(w) updates the latent weights).
struct QuantizableWeight {
    Param param;
    Tensor quantized;
    bool useQuantized = false;
    int fanIn = 0;

    const Tensor& effective() const { return useQuantized ? quantized : param.value; }
};

// Dense and Conv2D: allocates a weight of `shape` (fan-in `fanIn`) and a bias of `outputs`
// values, zeroed; the bias is exempt from weight decay.
void allocateWeightAndBias(QuantizableWeight& weight, Param& bias, std::vector<int> shape, int fanIn, int outputs);
// PyTorch's default initialisation of both: U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
void initializeUniform(QuantizableWeight& weight, Param& bias, Rng& rng);

// Contract:
// - Shapes: activations are batch first. outputShape() maps the shape of one input sample
//   ((F) or (C, H, W)) to one output sample and throws sq::Error, naming the layer, if the input
//   does not fit. Parameters are allocated by the constructor.
// - forward(in, out, pass) resizes `out` and fills it. A Train pass may cache what backward needs.
// - backward(in, out, gradOut, gradIn) must follow a Train forward of the same `in`. It
//   *overwrites* every parameter's grad with dLoss/dparam and, when gradIn is not null, resizes
//   and fills it with dLoss/din.
// - Workspaces are members and are reused from batch to batch.
class Layer {
public:
    virtual ~Layer() = default;

    virtual std::string kind() const = 0;     // "dense", "conv", "bn", "relu", "maxpool", "flatten"
    virtual std::string describe() const = 0; // human-readable, e.g. "dense 784->256"
    virtual std::vector<int> outputShape(const std::vector<int>& inputSample) const = 0;

    virtual void initialize(Rng& /*rng*/) {}
    virtual void forward(const Tensor& in, Tensor& out, Pass pass) = 0;
    virtual void backward(const Tensor& in, const Tensor& out, const Tensor& gradOut, Tensor* gradIn) = 0;

    virtual std::vector<Param*> params() { return {}; }
    // Non-trained state that belongs to the model (BatchNorm running statistics).
    virtual std::vector<Tensor*> buffers() { return {}; }
    // The quantizable weight of Dense and Conv2D; null for every other layer.
    virtual QuantizableWeight* quantizableWeight() { return nullptr; }

    Layer() = default;
    Layer(const Layer&) = delete;
    Layer& operator=(const Layer&) = delete;
};

} // namespace sq
