#include "core/layers/activation.h"

namespace sq {

void ReLU::forward(const Tensor& in, Tensor& out, Pass /*pass*/)
{
    out.resize(in.shape());
    out.vec() = in.vec().cwiseMax(0.0f);
}

void ReLU::backward(const Tensor& /*in*/, const Tensor& out, const Tensor& gradOut, Tensor* gradIn)
{
    if (!gradIn)
        return;
    gradIn->resize(out.shape());
    gradIn->vec() = (out.vec().array() > 0.0f).select(gradOut.vec(), 0.0f);
}

} // namespace sq
