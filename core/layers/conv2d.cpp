#include "core/layers/conv2d.h"

#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace sq {

namespace {

// Samples are unfolded together until a chunk has about this many columns: late layers see tiny
// images (4x4, 2x2), and one GEMM per sample would then be a badly shaped product of 16 columns.
constexpr Eigen::Index kTargetColumns = 2048;
// ...but never so many that the unfolded chunk outgrows a few MB (patch rows can be 512 * 9).
constexpr Eigen::Index kMaxChunkFloats = Eigen::Index{1} << 21;

// The output positions o (along one axis) whose input coordinate o * stride - padding + offset
// falls inside [0, size): a contiguous range [lo, hi), empty when lo == hi.
struct ValidRange {
    int lo;
    int hi;
};

ValidRange validRange(int offset, int size, int outSize, int stride, int padding)
{
    const int first = padding - offset; // o * stride must be >= first
    const int last = size - 1 + padding - offset; // o * stride must be <= last
    int lo = first > 0 ? (first + stride - 1) / stride : 0;
    int hi = last >= 0 ? last / stride + 1 : 0;
    hi = std::min(hi, outSize);
    lo = std::min(lo, hi);
    return {lo, hi};
}

} // namespace

Conv2D::Conv2D(int inChannels, int outChannels, int kernel, int stride, int padding)
    : in_(inChannels), out_(outChannels), kernel_(kernel), stride_(stride), padding_(padding)
{
    if (in_ <= 0 || out_ <= 0)
        throw Error("conv: channel counts must be positive (got " + std::to_string(in_) + "->"
                    + std::to_string(out_) + ")");
    if (kernel_ <= 0)
        throw Error("conv: kernel size must be positive (got " + std::to_string(kernel_) + ")");
    if (stride_ <= 0)
        throw Error("conv: stride must be positive (got " + std::to_string(stride_) + ")");
    if (padding_ < 0)
        throw Error("conv: padding must not be negative (got " + std::to_string(padding_) + ")");
    weight_.param.name = "weight";
    weight_.param.value.resize({out_, in_, kernel_, kernel_});
    weight_.param.grad.resize({out_, in_, kernel_, kernel_});
    weight_.fanIn = in_ * kernel_ * kernel_;
    bias_.name = "bias";
    bias_.decay = false;
    bias_.value.resize({out_});
    bias_.grad.resize({out_});
    weight_.param.value.setZero();
    bias_.value.setZero();
}

std::string Conv2D::describe() const
{
    std::string s = "conv " + std::to_string(in_) + "->" + std::to_string(out_) + " " + std::to_string(kernel_)
                    + "x" + std::to_string(kernel_);
    if (padding_ != 0)
        s += " pad " + std::to_string(padding_);
    if (stride_ != 1)
        s += " stride " + std::to_string(stride_);
    return s;
}

std::vector<int> Conv2D::outputShape(const std::vector<int>& inputSample) const
{
    if (inputSample.size() != 3)
        throw Error(describe() + ": expects an image input (C, H, W), got " + shapeString(inputSample));
    if (inputSample[0] != in_)
        throw Error(describe() + ": expects " + std::to_string(in_) + " input channels, got "
                    + shapeString(inputSample));
    const int h = inputSample[1] + 2 * padding_;
    const int w = inputSample[2] + 2 * padding_;
    if (inputSample[1] <= 0 || inputSample[2] <= 0 || h < kernel_ || w < kernel_)
        throw Error(describe() + ": input " + shapeString(inputSample) + " is smaller than the "
                    + std::to_string(kernel_) + "x" + std::to_string(kernel_)
                    + " kernel (the output would be empty)");
    return {out_, (h - kernel_) / stride_ + 1, (w - kernel_) / stride_ + 1};
}

void Conv2D::initialize(Rng& rng)
{
    const float bound = 1.0f / std::sqrt(static_cast<float>(weight_.fanIn));
    for (std::size_t i = 0; i < weight_.param.value.size(); ++i)
        weight_.param.value[i] = rng.uniform(-bound, bound);
    for (std::size_t i = 0; i < bias_.value.size(); ++i)
        bias_.value[i] = rng.uniform(-bound, bound);
}

Conv2D::Geometry Conv2D::geometry(const Tensor& in) const
{
    if (in.rank() != 4)
        throw Error(describe() + ": expects a batch of images (N, C, H, W), got " + in.shapeString());
    const std::vector<int> o = outputShape({in.dim(1), in.dim(2), in.dim(3)});
    Geometry g;
    g.n = in.dim(0);
    g.h = in.dim(2);
    g.w = in.dim(3);
    g.oh = o[1];
    g.ow = o[2];
    g.pixels = Eigen::Index{g.oh} * g.ow;
    g.patch = Eigen::Index{in_} * kernel_ * kernel_;
    Eigen::Index chunk = (kTargetColumns + g.pixels - 1) / g.pixels;
    chunk = std::min(chunk, std::max<Eigen::Index>(1, kMaxChunkFloats / (g.patch * g.pixels)));
    g.chunk = static_cast<int>(std::clamp<Eigen::Index>(chunk, 1, std::max(g.n, 1)));
    return g;
}

const Tensor& Conv2D::checkedWeight() const
{
    const Tensor& w = weight_.effective();
    if (w.size() != weight_.param.value.size())
        throw Error(describe() + ": quantized weight has " + std::to_string(w.size()) + " values, expected "
                    + std::to_string(weight_.param.value.size()));
    return w;
}

void Conv2D::im2col(const Tensor& in, int first, int count, const Geometry& g)
{
    const Eigen::Index cols = count * g.pixels;
    col_.resize({static_cast<int>(g.patch), static_cast<int>(cols)});
    const Eigen::Index plane = Eigen::Index{g.h} * g.w;
    const float* src = in.data() + Eigen::Index{first} * in_ * plane;
    float* col = col_.data();
    const int k = kernel_;
    // Every row of col_ is written by exactly one iteration, so the rows split across threads freely.
#pragma omp parallel for schedule(static) if (g.patch * cols >= (Eigen::Index{1} << 16))
    for (Eigen::Index row = 0; row < g.patch; ++row) {
        const int c = static_cast<int>(row / (k * k));
        const int ki = static_cast<int>(row / k % k);
        const int kj = static_cast<int>(row % k);
        const ValidRange rows = validRange(ki, g.h, g.oh, stride_, padding_);
        const ValidRange cs = validRange(kj, g.w, g.ow, stride_, padding_);
        float* dst = col + row * cols;
        for (int s = 0; s < count; ++s) {
            const float* x = src + (Eigen::Index{s} * in_ + c) * plane;
            for (int oy = 0; oy < g.oh; ++oy, dst += g.ow) {
                if (oy < rows.lo || oy >= rows.hi || cs.lo == cs.hi) {
                    std::fill_n(dst, g.ow, 0.0f);
                    continue;
                }
                // The input pixel read by output column cs.lo; the next ones follow at `stride_`.
                const float* from = x + Eigen::Index{oy * stride_ - padding_ + ki} * g.w
                                    + (cs.lo * stride_ - padding_ + kj);
                std::fill_n(dst, cs.lo, 0.0f);
                if (stride_ == 1) {
                    std::copy(from, from + (cs.hi - cs.lo), dst + cs.lo);
                } else {
                    for (int i = 0; i < cs.hi - cs.lo; ++i)
                        dst[cs.lo + i] = from[Eigen::Index{i} * stride_];
                }
                std::fill(dst + cs.hi, dst + g.ow, 0.0f);
            }
        }
    }
}

void Conv2D::col2im(Tensor& gradIn, int first, int count, const Geometry& g) const
{
    const Eigen::Index cols = count * g.pixels;
    const Eigen::Index plane = Eigen::Index{g.h} * g.w;
    float* dstBase = gradIn.data() + Eigen::Index{first} * in_ * plane;
    const float* col = col_.data();
    const int k = kernel_;
    // Rows of different input channels land on different planes; rows of one channel overlap, so
    // the channels split across threads and each channel's rows run in order.
#pragma omp parallel for schedule(static) if (g.patch * cols >= (Eigen::Index{1} << 16))
    for (int c = 0; c < in_; ++c) {
        for (int ki = 0; ki < k; ++ki) {
            const ValidRange rows = validRange(ki, g.h, g.oh, stride_, padding_);
            for (int kj = 0; kj < k; ++kj) {
                const ValidRange cs = validRange(kj, g.w, g.ow, stride_, padding_);
                if (cs.lo == cs.hi)
                    continue; // this kernel column only ever reads padding
                const Eigen::Index row = (Eigen::Index{c} * k + ki) * k + kj;
                const float* srcRow = col + row * cols;
                for (int s = 0; s < count; ++s) {
                    float* x = dstBase + (Eigen::Index{s} * in_ + c) * plane;
                    const float* src = srcRow + s * g.pixels;
                    for (int oy = rows.lo; oy < rows.hi; ++oy) {
                        float* to = x + Eigen::Index{oy * stride_ - padding_ + ki} * g.w
                                    + (cs.lo * stride_ - padding_ + kj);
                        const float* from = src + Eigen::Index{oy} * g.ow + cs.lo;
                        const int span = cs.hi - cs.lo;
                        if (stride_ == 1) {
                            for (int i = 0; i < span; ++i)
                                to[i] += from[i];
                        } else {
                            for (int i = 0; i < span; ++i)
                                to[Eigen::Index{i} * stride_] += from[i];
                        }
                    }
                }
            }
        }
    }
}

void Conv2D::forward(const Tensor& in, Tensor& out, Pass /*pass*/)
{
    const Geometry g = geometry(in);
    out.resize({g.n, out_, g.oh, g.ow});
    const ConstMatrixMap w(checkedWeight().data(), out_, g.patch);
    const float* bias = bias_.value.data();
    for (int first = 0; first < g.n; first += g.chunk) {
        const int count = std::min(g.chunk, g.n - first);
        im2col(in, first, count, g);
        chunk_.resize({out_, static_cast<int>(count * g.pixels)});
        chunk_.matrix().noalias() = w * col_.matrix();
        // The GEMM yields (out, sample * pixels); the activations are (sample, out, pixels).
        const Eigen::Index cols = count * g.pixels;
        for (int s = 0; s < count; ++s) {
            float* y = out.data() + (Eigen::Index{first} + s) * out_ * g.pixels;
            for (int o = 0; o < out_; ++o, y += g.pixels) {
                const float* from = chunk_.data() + o * cols + s * g.pixels;
                const float b = bias[o];
                for (Eigen::Index p = 0; p < g.pixels; ++p)
                    y[p] = from[p] + b;
            }
        }
    }
}

void Conv2D::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& gradOut, Tensor* gradIn)
{
    const Geometry g = geometry(in);
    if (gradOut.rank() != 4 || gradOut.dim(0) != g.n || gradOut.dim(1) != out_ || gradOut.dim(2) != g.oh
        || gradOut.dim(3) != g.ow)
        throw Error(describe() + ": output gradient " + gradOut.shapeString() + " does not match the output ("
                    + std::to_string(g.n) + ", " + std::to_string(out_) + ", " + std::to_string(g.oh) + ", "
                    + std::to_string(g.ow) + ")");
    const ConstMatrixMap w(checkedWeight().data(), out_, g.patch);
    auto gradW = weight_.param.grad.matrix();
    auto gradB = bias_.grad.vec();
    gradB.setZero();
    if (g.n == 0)
        gradW.setZero(); // no chunk below would write it
    if (gradIn) {
        gradIn->resize(in.shape());
        gradIn->setZero();
    }
    for (int first = 0; first < g.n; first += g.chunk) {
        const int count = std::min(g.chunk, g.n - first);
        const Eigen::Index cols = count * g.pixels;
        // Recomputing the unfolded input is cheap next to the GEMMs and saves keeping a copy of
        // every chunk (which would be k*k times the input) from the forward pass.
        im2col(in, first, count, g);
        chunk_.resize({out_, static_cast<int>(cols)});
        for (int s = 0; s < count; ++s) {
            const float* from = gradOut.data() + (Eigen::Index{first} + s) * out_ * g.pixels;
            for (int o = 0; o < out_; ++o, from += g.pixels)
                std::copy(from, from + g.pixels, chunk_.data() + o * cols + s * g.pixels);
        }
        const auto gy = chunk_.matrix();
        gradB += gy.rowwise().sum();
        if (first == 0)
            gradW.noalias() = gy * col_.matrix().transpose();
        else
            gradW.noalias() += gy * col_.matrix().transpose();
        if (gradIn) {
            // col_ is no longer needed: it becomes the gradient of the unfolded input.
            col_.matrix().noalias() = w.transpose() * gy;
            col2im(*gradIn, first, count, g);
        }
    }
}

} // namespace sq
