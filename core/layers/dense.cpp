#include "core/layers/dense.h"

#include "core/error.h"

#include <cmath>

namespace sq {

Dense::Dense(int inFeatures, int outFeatures) : in_(inFeatures), out_(outFeatures)
{
    if (in_ <= 0 || out_ <= 0)
        throw Error("dense: feature counts must be positive (got " + std::to_string(in_) + "->"
                    + std::to_string(out_) + ")");
    allocateWeightAndBias(weight_, bias_, {out_, in_}, in_, out_);
}

std::string Dense::describe() const { return "dense " + std::to_string(in_) + "->" + std::to_string(out_); }

std::vector<int> Dense::outputShape(const std::vector<int>& inputSample) const
{
    int features = 1;
    for (int d : inputSample)
        features *= d;
    if (features != in_)
        throw Error(describe() + ": expects " + std::to_string(in_) + " input features, got "
                    + shapeString(inputSample) + " = " + std::to_string(features)
                    + " (add 'flatten' or fix the size)");
    return {out_};
}

void Dense::initialize(Rng& rng)
{
    initializeUniform(weight_, bias_, rng);
}

void Dense::forward(const Tensor& in, Tensor& out, Pass /*pass*/)
{
    const int n = in.dim(0);
    out.resize({n, out_});
    auto y = out.matrix();
    // The bias first, then the product accumulated onto it: one pass over the output fewer than
    // product-then-bias, with the same sums (the product is summed apart, then added to the bias).
    y.rowwise() = bias_.value.vec().transpose();
    y.noalias() += in.matrix() * weight_.effective().matrix().transpose();
}

void Dense::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& gradOut, Tensor* gradIn)
{
    const auto g = gradOut.matrix();
    weight_.param.grad.matrix().noalias() = g.transpose() * in.matrix();
    bias_.grad.vec().noalias() = g.colwise().sum().transpose();
    if (gradIn) {
        gradIn->resize(in.shape());
        gradIn->matrix().noalias() = g * weight_.effective().matrix();
    }
}

} // namespace sq
