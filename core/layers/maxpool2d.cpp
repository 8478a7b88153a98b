#include "core/layers/maxpool2d.h"

#include "core/cpu_dispatch.h"
#include "core/error.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace sq {

namespace {

// Vector values only pass between always-inlined helpers, never across a real call, so GCC's
// note that such arguments change the ABI without AVX does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

// Input values below which pooling stays on one thread (waking threads costs more than it saves).
[[maybe_unused]] constexpr std::size_t kMinParallelValues = std::size_t{1} << 18; // unused without OpenMP

// One output row of the common 2x2, stride-2 window, as a tournament without a serial dependency:
// the winner of each row pair, then the bottom winner only if strictly greater, which keeps the
// first maximum in reading order. NaN wins, so a diverging network shows NaN instead of hiding it.
// Eight outputs at a time as GCC vector values (even/odd input columns split by shuffles), lowered
// to the clone's instruction set (core/cpu_dispatch.h); the compiler's own vectoriser gives up on
// the strided selects.
typedef float F8 __attribute__((vector_size(32)));
typedef std::int32_t I8 __attribute__((vector_size(32)));

[[gnu::always_inline]] inline F8 load8(const float* p)
{
    F8 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// Lanes 0, 2, ..., 14 (or 1, 3, ..., 15) of a:b, in GCC's and Clang's spellings.
[[gnu::always_inline]] inline F8 evenLanes(F8 a, F8 b)
{
#ifdef __clang__
    return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14);
#else
    return __builtin_shuffle(a, b, I8{0, 2, 4, 6, 8, 10, 12, 14});
#endif
}

[[gnu::always_inline]] inline F8 oddLanes(F8 a, F8 b)
{
#ifdef __clang__
    return __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15);
#else
    return __builtin_shuffle(a, b, I8{1, 3, 5, 7, 9, 11, 13, 15});
#endif
}

template <bool Remember>
[[gnu::always_inline]] inline void pool8(const float* top, const float* bottom, float* y, std::int32_t* arg, int a0,
                                         int w)
{
    const I8 evens = {0, 2, 4, 6, 8, 10, 12, 14};
    const F8 t0 = load8(top), t1 = load8(top + 8);
    const F8 b0 = load8(bottom), b1 = load8(bottom + 8);
    const F8 va = evenLanes(t0, t1), vb = oddLanes(t0, t1);
    const F8 vc = evenLanes(b0, b1), vd = oddLanes(b0, b1);
    const I8 takeB = (vb > va) | (vb != vb);
    const I8 takeD = (vd > vc) | (vd != vd);
    const F8 upper = takeB ? vb : va;
    const F8 lower = takeD ? vd : vc;
    const I8 takeLower = (lower > upper) | (lower != lower);
    const F8 best = takeLower ? lower : upper;
    std::memcpy(y, &best, sizeof best);
    if constexpr (Remember) {
        const I8 a = evens + a0;
        const I8 up = takeB ? a + 1 : a;
        const I8 down = takeD ? a + (w + 1) : a + w;
        const I8 at = takeLower ? down : up;
        std::memcpy(arg, &at, sizeof at);
    }
}

template <bool Remember>
[[gnu::always_inline]] inline void poolRow2x2(const float* top, const float* bottom, float* y, std::int32_t* arg,
                                              int ow, int a0, int w)
{
    int ox = 0;
    for (; ox + 8 <= ow; ox += 8)
        pool8<Remember>(top + 2 * ox, bottom + 2 * ox, y + ox, Remember ? arg + ox : nullptr, a0 + 2 * ox, w);
    if (ox == ow)
        return;
    // The last outputs (all of them on LeNet's 5- and 14-wide rows) through the same code on
    // copies: a scalar loop's data-dependent branches are mispredicted half the time.
    const int rest = ow - ox;
    float t[16] = {}, b[16] = {}, out[8];
    std::int32_t at[8];
    std::memcpy(t, top + 2 * ox, sizeof(float) * static_cast<std::size_t>(2 * rest));
    std::memcpy(b, bottom + 2 * ox, sizeof(float) * static_cast<std::size_t>(2 * rest));
    pool8<Remember>(t, b, out, at, a0 + 2 * ox, w);
    std::memcpy(y + ox, out, sizeof(float) * static_cast<std::size_t>(rest));
    if constexpr (Remember)
        std::memcpy(arg + ox, at, sizeof(std::int32_t) * static_cast<std::size_t>(rest));
}

SQ_SIMD_CLONES void poolPlanes2x2(const float* x, float* y, std::int32_t* arg, std::ptrdiff_t planes, int h, int w,
                                  int oh, int ow)
{
    const std::ptrdiff_t inPlane = static_cast<std::ptrdiff_t>(h) * w;
    const std::ptrdiff_t outPlane = static_cast<std::ptrdiff_t>(oh) * ow;
    for (std::ptrdiff_t p = 0; p < planes; ++p)
        for (int oy = 0; oy < oh; ++oy) {
            const float* top = x + p * inPlane + static_cast<std::ptrdiff_t>(2 * oy) * w;
            float* out = y + p * outPlane + static_cast<std::ptrdiff_t>(oy) * ow;
            if (arg)
                poolRow2x2<true>(top, top + w, out, arg + p * outPlane + static_cast<std::ptrdiff_t>(oy) * ow, ow,
                                 2 * oy * w, w);
            else
                poolRow2x2<false>(top, top + w, out, nullptr, ow, 2 * oy * w, w);
        }
}

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
            poolPlanes2x2(x, y, arg, 1, h, w, oh, ow);
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
