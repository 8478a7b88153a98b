#include "core/layers/maxpool2d.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace sq {

namespace {

// Input values below which pooling stays on one thread (waking threads costs more than it saves).
constexpr std::size_t kMinParallelValues = std::size_t{1} << 18;

} // namespace

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
    const std::ptrdiff_t planes = static_cast<std::ptrdiff_t>(in.dim(0)) * in.dim(1);
    const std::ptrdiff_t inPlane = static_cast<std::ptrdiff_t>(h) * w;
    const std::ptrdiff_t outPlane = static_cast<std::ptrdiff_t>(oh) * ow;
    // Planes are independent; a few threads pay off only on a large batch.
#pragma omp parallel for schedule(static) if (in.size() >= kMinParallelValues)
    for (std::ptrdiff_t p = 0; p < planes; ++p) {
        const float* x = in.data() + p * inPlane;
        float* y = out.data() + p * outPlane;
        std::int32_t* arg = Remember ? argmax_.data() + p * outPlane : nullptr;
        if (size_ == 2 && stride_ == 2) {
            // The common case, as a tournament without a serial dependency: the winner of each row
            // pair, then the bottom winner only if strictly greater, which again keeps the first
            // maximum in reading order.
            for (int oy = 0; oy < oh; ++oy) {
                const float* top = x + static_cast<std::ptrdiff_t>(2 * oy) * w;
                const float* bottom = top + w;
                for (int ox = 0; ox < ow; ++ox) {
                    const int a = 2 * oy * w + 2 * ox;
                    const int c = a + w;
                    const float va = top[2 * ox], vb = top[2 * ox + 1];
                    const float vc = bottom[2 * ox], vd = bottom[2 * ox + 1];
                    const bool takeB = vb > va || std::isnan(vb);
                    const bool takeD = vd > vc || std::isnan(vd);
                    const float upper = takeB ? vb : va;
                    const float lower = takeD ? vd : vc;
                    const bool takeLower = lower > upper || std::isnan(lower);
                    *y++ = takeLower ? lower : upper;
                    if constexpr (Remember)
                        *arg++ = takeLower ? (takeD ? c + 1 : c) : (takeB ? a + 1 : a);
                }
            }
            continue;
        }
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
                        // Strictly greater keeps the first maximum on ties; a NaN wins so that a
                        // diverging network shows NaN instead of hiding it. Written as selects, not
                        // a branch: on real data the branch would be mispredicted half the time.
                        const bool take = v > bestValue || std::isnan(v);
                        bestValue = take ? v : bestValue;
                        best = take ? rowStart + j : best;
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
    const std::ptrdiff_t planes = static_cast<std::ptrdiff_t>(in.dim(0)) * in.dim(1);
    const std::ptrdiff_t inPlane = planes == 0 ? 0 : static_cast<std::ptrdiff_t>(in.size()) / planes;
    const std::ptrdiff_t outPlane = planes == 0 ? 0 : static_cast<std::ptrdiff_t>(gradOut.size()) / planes;
#pragma omp parallel for schedule(static) if (in.size() >= kMinParallelValues)
    for (std::ptrdiff_t p = 0; p < planes; ++p) {
        float* dx = gradIn->data() + p * inPlane;
        const float* g = gradOut.data() + p * outPlane;
        const std::int32_t* arg = argmax_.data() + p * outPlane;
        std::fill(dx, dx + inPlane, 0.0f);
        // += because overlapping windows (stride < size) can pick the same input.
        for (std::ptrdiff_t i = 0; i < outPlane; ++i)
            dx[arg[i]] += g[i];
    }
}

} // namespace sq
