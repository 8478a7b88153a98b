#include "core/layers/maxpool2d.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace sq {

MaxPool2D::MaxPool2D(int size, int stride) : size_(size), stride_(stride == 0 ? size : stride)
{
    if (size_ <= 0)
        throw Error("maxpool: window size must be positive (got " + std::to_string(size_) + ")");
    if (stride_ <= 0)
        throw Error("maxpool " + std::to_string(size_) + ": stride must be positive (got "
                    + std::to_string(stride) + ")");
}

std::string MaxPool2D::describe() const
{
    std::string s = "maxpool " + std::to_string(size_);
    if (stride_ != size_)
        s += " stride " + std::to_string(stride_);
    return s;
}

std::vector<int> MaxPool2D::outputShape(const std::vector<int>& inputSample) const
{
    if (inputSample.size() != 3)
        throw Error(describe() + ": expects an image input (C, H, W), got " + shapeString(inputSample));
    if (inputSample[0] <= 0 || inputSample[1] < size_ || inputSample[2] < size_)
        throw Error(describe() + ": input " + shapeString(inputSample) + " is smaller than the "
                    + std::to_string(size_) + "x" + std::to_string(size_) + " window (the output would be empty)");
    return {inputSample[0], (inputSample[1] - size_) / stride_ + 1, (inputSample[2] - size_) / stride_ + 1};
}

template <bool Remember>
void MaxPool2D::pool(const Tensor& in, Tensor& out)
{
    const int h = in.dim(2);
    const int w = in.dim(3);
    const int oh = out.dim(2);
    const int ow = out.dim(3);
    const std::size_t planes = static_cast<std::size_t>(in.dim(0)) * static_cast<std::size_t>(in.dim(1));
    const std::size_t inPlane = static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
    const float* x = in.data();
    float* y = out.data();
    std::int32_t* arg = argmax_.data();
    for (std::size_t p = 0; p < planes; ++p, x += inPlane) {
        for (int oy = 0; oy < oh; ++oy) {
            for (int ox = 0; ox < ow; ++ox) {
                const int top = oy * stride_;
                const int left = ox * stride_;
                int best = top * w + left;
                float bestValue = x[best];
                for (int i = 0; i < size_; ++i) {
                    const int rowStart = (top + i) * w + left;
                    for (int j = 0; j < size_; ++j) {
                        const float v = x[rowStart + j];
                        // Strictly greater keeps the first maximum on ties; a NaN wins so that
                        // a diverging network shows NaN instead of silently hiding it.
                        if (v > bestValue || std::isnan(v)) {
                            bestValue = v;
                            best = rowStart + j;
                        }
                    }
                }
                *y++ = bestValue;
                if constexpr (Remember)
                    *arg++ = best;
            }
        }
    }
}

void MaxPool2D::forward(const Tensor& in, Tensor& out, Pass pass)
{
    if (in.rank() != 4)
        throw Error(describe() + ": expects a batch of images (N, C, H, W), got " + in.shapeString());
    const std::vector<int> o = outputShape({in.dim(1), in.dim(2), in.dim(3)});
    out.resize({in.dim(0), o[0], o[1], o[2]});
    if (pass == Pass::Train) {
        argmax_.resize(out.size());
        pool<true>(in, out);
    } else {
        pool<false>(in, out);
    }
}

void MaxPool2D::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& gradOut, Tensor* gradIn)
{
    if (!gradIn)
        return;
    if (gradOut.rank() != 4 || gradOut.dim(0) != in.dim(0) || gradOut.dim(1) != in.dim(1)
        || argmax_.size() != gradOut.size())
        throw Error(describe() + ": backward() needs a Train forward of the same batch (output gradient "
                    + gradOut.shapeString() + ", input " + in.shapeString() + ")");
    gradIn->resize(in.shape());
    gradIn->setZero();
    const std::size_t planes = static_cast<std::size_t>(in.dim(0)) * static_cast<std::size_t>(in.dim(1));
    const std::size_t inPlane = in.size() / std::max<std::size_t>(planes, 1);
    const std::size_t outPlane = gradOut.size() / std::max<std::size_t>(planes, 1);
    const float* g = gradOut.data();
    const std::int32_t* arg = argmax_.data();
    float* dx = gradIn->data();
    // += because overlapping windows (stride < size) can pick the same input.
    for (std::size_t p = 0; p < planes; ++p, dx += inPlane)
        for (std::size_t i = 0; i < outPlane; ++i)
            dx[*arg++] += *g++;
}

} // namespace sq
