#include "core/layers/dense.h"

#include "core/error.h"

#include <cmath>

namespace sq {

Dense::Dense(int inFeatures, int outFeatures) : in_(inFeatures), out_(outFeatures)
{
    if (in_ <= 0 || out_ <= 0)
        throw Error("dense: feature counts must be positive (got " + std::to_string(in_) + "->"
                    + std::to_string(out_) + ")");
    weight_.param.name = "weight";
    weight_.param.value.resize({out_, in_});
    weight_.param.grad.resize({out_, in_});
    weight_.fanIn = in_;
    bias_.name = "bias";
    bias_.decay = false;
    bias_.value.resize({out_});
    bias_.grad.resize({out_});
    weight_.param.value.setZero();
    bias_.value.setZero();
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
    const float bound = 1.0f / std::sqrt(static_cast<float>(in_));
    for (std::size_t i = 0; i < weight_.param.value.size(); ++i)
        weight_.param.value[i] = rng.uniform(-bound, bound);
    for (std::size_t i = 0; i < bias_.value.size(); ++i)
        bias_.value[i] = rng.uniform(-bound, bound);
}

void Dense::forward(const Tensor& in, Tensor& out, Pass /*pass*/)
{
    const int n = in.dim(0);
    out.resize({n, out_});
    auto y = out.matrix();
    y.noalias() = in.matrix() * weight_.effective().matrix().transpose();
    y.rowwise() += bias_.value.vec().transpose();
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
