#include "core/layers/dense.h"

#include "core/error.h"
#include "core/gemm.h"

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

void Dense::checkInput(const Tensor& in) const
{
    if (in.rank() < 1 || in.sampleSize() != static_cast<std::size_t>(in_))
        throw Error(describe() + ": input " + in.shapeString() + " does not have " + std::to_string(in_)
                    + " features per sample");
}

void Dense::forward(const Tensor& in, Tensor& out, Pass /*pass*/)
{
    checkInput(in);
    const int n = in.dim(0);
    out.resize({n, out_});
    // The bias first, then the product accumulated onto it: one pass over the output fewer than
    // product-then-bias.
    out.matrix().rowwise() = bias_.value.vec().transpose();
    gemm(ref(in.data(), n, in_), Op::None, ref(weight_.effective().data(), out_, in_), Op::Transpose, out.data(),
         out_, Accumulate::Yes);
}

void Dense::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& gradOut, Tensor* gradIn)
{
    checkInput(in);
    const int n = in.dim(0);
    if (gradOut.size() != static_cast<std::size_t>(n) * static_cast<std::size_t>(out_))
        throw Error(describe() + ": output gradient " + gradOut.shapeString() + " does not match the output");
    const MatrixRef g = ref(gradOut.data(), n, out_);
    gemm(g, Op::Transpose, ref(in.data(), n, in_), Op::None, weight_.param.grad.data(), in_, Accumulate::No);
    bias_.grad.vec().noalias() = gradOut.matrix().colwise().sum().transpose();
    if (gradIn) {
        gradIn->resize(in.shape());
        gemm(g, Op::None, ref(weight_.effective().data(), out_, in_), Op::None, gradIn->data(), in_, Accumulate::No);
    }
}

} // namespace sq
