#include "core/layers/conv2d.h"

#include "core/error.h"
#include "core/gemm.h"
#include "core/parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>


namespace sq {

namespace {

// Samples are unfolded together until a chunk has about this many columns: late layers see tiny
// images (4x4, 2x2), and one GEMM per sample would then be a badly shaped product of 16 columns.
constexpr Eigen::Index kTargetColumns = 2048;
// ...but never so many that the unfolded chunk outgrows a few MB (patch rows can be 512 * 9).
constexpr Eigen::Index kMaxChunkFloats = Eigen::Index{1} << 21;
// Chunks are what the threads share out, so a batch is cut into at least this many. The chunking
// does not depend on the thread count, and each chunk's weight gradient is kept apart and the parts
// summed in chunk order: a batch computed on several threads gives bit-identical results to the
// same batch on one thread.
constexpr int kMinChunks = 8;
// Multiply-adds below which a batch stays on one thread: waking the other threads costs more than
// it saves on small batches (and far more when the cores are busy with other work).
constexpr double kMinParallelWork = 4.0e6;

// Short row copies (a few to a few dozen floats, hundreds of thousands per batch) as fixed-size
// moves the compiler inlines: std::copy becomes a call to memmove whose per-call cost dominated
// im2col on LeNet's 28-pixel rows.
inline void copyShort(float* __restrict dst, const float* __restrict src, int n)
{
    int i = 0;
    for (; i + 8 <= n; i += 8)
        std::memcpy(dst + i, src + i, 8 * sizeof(float));
    if (n - i >= 4) {
        std::memcpy(dst + i, src + i, 4 * sizeof(float));
        i += 4;
    }
    if (n - i >= 2) {
        std::memcpy(dst + i, src + i, 2 * sizeof(float));
        i += 2;
    }
    if (n - i >= 1)
        dst[i] = src[i];
}

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
    allocateWeightAndBias(weight_, bias_, {out_, in_, kernel_, kernel_}, in_ * kernel_ * kernel_, out_);
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
    initializeUniform(weight_, bias_, rng);
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
    chunk = std::min<Eigen::Index>(chunk, (g.n + kMinChunks - 1) / kMinChunks);
    g.chunk = static_cast<int>(std::max<Eigen::Index>(chunk, 1));
    g.chunks = (g.n + g.chunk - 1) / g.chunk;
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

int Conv2D::prepareWorkspaces(const Geometry& g)
{
    const double work = static_cast<double>(g.n) * static_cast<double>(g.pixels) * static_cast<double>(g.patch) * out_;
    const int threads = work < kMinParallelWork ? 1 : std::max(1, std::min(maxThreadCount(), g.chunks));
    if (workspaces_.size() < static_cast<std::size_t>(threads))
        workspaces_.resize(static_cast<std::size_t>(threads));
    const int cols = static_cast<int>(g.chunk * g.pixels);
    // Sized here, outside the parallel loop, where an exception could still propagate.
    for (int t = 0; t < threads; ++t) {
        Workspace& ws = workspaces_[static_cast<std::size_t>(t)];
        ws.col.resize({static_cast<int>(g.patch), cols});
        ws.chunk.resize({out_, cols});
        ws.padded.resize({(g.h + 2 * padding_) * (g.w + 2 * padding_)});
    }
    return threads;
}

void Conv2D::im2col(const Tensor& in, int first, int count, const Geometry& g, float* col, float* padded) const
{
    const Eigen::Index cols = count * g.pixels;
    const Eigen::Index plane = Eigen::Index{g.h} * g.w;
    const float* src = in.data() + Eigen::Index{first} * in_ * plane;
    const int k = kernel_;
    // With padding, each input plane is first copied into a zero-bordered one (a few KB): every
    // patch row then reads whole output rows without bounds tests or zero fills.
    const int pw = g.w + 2 * padding_;
    const int ph = g.h + 2 * padding_;
    if (padding_ > 0)
        std::fill(padded, padded + Eigen::Index{ph} * pw, 0.0f);
    for (int s = 0; s < count; ++s) {
        for (int c = 0; c < in_; ++c) {
            const float* x = src + (Eigen::Index{s} * in_ + c) * plane;
            const float* base = x;
            if (padding_ > 0) {
                for (int y = 0; y < g.h; ++y)
                    copyShort(padded + Eigen::Index{y + padding_} * pw + padding_, x + Eigen::Index{y} * g.w, g.w);
                base = padded;
            }
            for (int ki = 0; ki < k; ++ki) {
                for (int kj = 0; kj < k; ++kj) {
                    const Eigen::Index row = (Eigen::Index{c} * k + ki) * k + kj;
                    float* dst = col + row * cols + s * g.pixels;
                    for (int oy = 0; oy < g.oh; ++oy, dst += g.ow) {
                        const float* from = base + Eigen::Index{oy * stride_ + ki} * pw + kj;
                        if (stride_ == 1) {
                            copyShort(dst, from, g.ow);
                        } else {
                            for (int i = 0; i < g.ow; ++i)
                                dst[i] = from[Eigen::Index{i} * stride_];
                        }
                    }
                }
            }
        }
    }
}

void Conv2D::col2im(const float* col, int first, int count, const Geometry& g, Tensor& gradIn) const
{
    const Eigen::Index cols = count * g.pixels;
    const Eigen::Index plane = Eigen::Index{g.h} * g.w;
    float* dstBase = gradIn.data() + Eigen::Index{first} * in_ * plane;
    const int k = kernel_;
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

// Chunks of samples go to the threads; inside the parallel loop Eigen's products run single-threaded
// (Eigen does not nest parallelism), which scales better than splitting each product across
// threads: no synchronisation inside the loop, and im2col/col2im run in parallel too.
void Conv2D::forward(const Tensor& in, Tensor& out, Pass /*pass*/)
{
    const Geometry g = geometry(in);
    out.resize({g.n, out_, g.oh, g.ow});
    const MatrixRef w = ref(checkedWeight().data(), out_, static_cast<int>(g.patch));
    const int patch = static_cast<int>(g.patch);
    [[maybe_unused]] const int threads = prepareWorkspaces(g); // unused without OpenMP
    const float* bias = bias_.value.data();
#pragma omp parallel for schedule(dynamic) num_threads(threads) if (threads > 1)
    for (int chunk = 0; chunk < g.chunks; ++chunk) {
        Workspace& ws = workspaces_[static_cast<std::size_t>(threadIndex())];
        const int first = chunk * g.chunk;
        const int count = std::min(g.chunk, g.n - first);
        const Eigen::Index cols = count * g.pixels;
        const int columns = static_cast<int>(cols);
        im2col(in, first, count, g, ws.col.data(), ws.padded.data());
        gemm(w, Op::None, ref(ws.col.data(), patch, columns), Op::None, ws.chunk.data(), columns, Accumulate::No);
        // The product is (out, sample * pixels); the activations are (sample, out, pixels).
        for (int s = 0; s < count; ++s) {
            float* to = out.data() + (Eigen::Index{first} + s) * out_ * g.pixels;
            for (int o = 0; o < out_; ++o, to += g.pixels) {
                const float* from = ws.chunk.data() + o * cols + s * g.pixels;
                const float b = bias[o];
                for (Eigen::Index p = 0; p < g.pixels; ++p)
                    to[p] = from[p] + b;
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
    const MatrixRef w = ref(checkedWeight().data(), out_, static_cast<int>(g.patch));
    const int patch = static_cast<int>(g.patch);

    auto gradB = bias_.grad.vec();
    gradB.setZero();
    for (int s = 0; s < g.n; ++s)
        gradB += Eigen::Map<const MatrixRM>(gradOut.data() + Eigen::Index{s} * out_ * g.pixels, out_, g.pixels)
                     .rowwise()
                     .sum();

    [[maybe_unused]] const int threads = prepareWorkspaces(g); // unused without OpenMP
    const Eigen::Index weightSize = out_ * g.patch;
    // A single chunk writes the weight gradient directly; several each write their own part.
    float* parts = weight_.param.grad.data();
    if (g.chunks > 1) {
        weightGradParts_.resize({g.chunks, out_, static_cast<int>(g.patch)});
        parts = weightGradParts_.data();
    }
    if (gradIn)
        gradIn->resize(in.shape());
    const Eigen::Index inSample = static_cast<Eigen::Index>(in.sampleSize());
#pragma omp parallel for schedule(dynamic) num_threads(threads) if (threads > 1)
    for (int chunk = 0; chunk < g.chunks; ++chunk) {
        Workspace& ws = workspaces_[static_cast<std::size_t>(threadIndex())];
        const int first = chunk * g.chunk;
        const int count = std::min(g.chunk, g.n - first);
        const Eigen::Index cols = count * g.pixels;
        // Recomputing the unfolded input is cheap next to the products, and spares keeping every
        // chunk (k * k times the input) from the forward pass.
        im2col(in, first, count, g, ws.col.data(), ws.padded.data());
        for (int s = 0; s < count; ++s) {
            const float* from = gradOut.data() + (Eigen::Index{first} + s) * out_ * g.pixels;
            for (int o = 0; o < out_; ++o, from += g.pixels)
                copyShort(ws.chunk.data() + o * cols + s * g.pixels, from, static_cast<int>(g.pixels));
        }
        const int columns = static_cast<int>(cols);
        const MatrixRef gy = ref(ws.chunk.data(), out_, columns);
        gemm(gy, Op::None, ref(ws.col.data(), patch, columns), Op::Transpose, parts + chunk * weightSize, patch,
             Accumulate::No);
        if (gradIn) {
            // The unfolded input is no longer needed: its buffer takes the unfolded input gradient.
            gemm(w, Op::Transpose, gy, Op::None, ws.col.data(), columns, Accumulate::No);
            float* samples = gradIn->data() + Eigen::Index{first} * inSample;
            std::fill(samples, samples + count * inSample, 0.0f);
            col2im(ws.col.data(), first, count, g, *gradIn);
        }
    }

    auto gradW = weight_.param.grad.matrix();
    if (g.n == 0) {
        gradW.setZero();
    } else if (g.chunks > 1) {
        // Summed in chunk order, so the result does not depend on which thread did which chunk.
        const Eigen::Index rows = out_;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
        for (Eigen::Index o = 0; o < rows; ++o) {
            auto row = gradW.row(o);
            row = Eigen::Map<const MatrixRM>(parts + o * g.patch, 1, g.patch);
            for (int chunk = 1; chunk < g.chunks; ++chunk)
                row += Eigen::Map<const MatrixRM>(parts + chunk * weightSize + o * g.patch, 1, g.patch);
        }
    }
}

} // namespace sq
