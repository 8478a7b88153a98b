#include "core/layers/flatten.h"

namespace sq {

std::vector<int> Flatten::outputShape(const std::vector<int>& inputSample) const
{
    int features = 1;
    for (int d : inputSample)
        features *= d;
    return {features};
}

void Flatten::forward(const Tensor& in, Tensor& out, Pass /*pass*/)
{
    out.resize({in.dim(0), static_cast<int>(in.sampleSize())});
    out.vec() = in.vec();
}

void Flatten::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& gradOut, Tensor* gradIn)
{
    if (!gradIn)
        return;
    gradIn->resize(in.shape());
    gradIn->vec() = gradOut.vec();
}

} // namespace sq
