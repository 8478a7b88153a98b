#include "core/layers/batchnorm.h"

#include "core/cpu_dispatch.h"
#include "core/error.h"

#include <cmath>

namespace sq {

namespace {

// The passes over the activations, as plain loops on (n, channels, spatial) buffers compiled for
// several SIMD widths (core/cpu_dispatch.h). Statistics accumulate in double as before; a (N, F)
// batch (spatial 1) runs its loops across the features, an image batch across the pixels of one
// channel. Sums over pixels go through a fixed number of double lanes, so their order does not
// depend on the vector width.
constexpr int kLanes = 8;

// sum over the row of (x - shift), or of (x - shift)^2 with Square, in double.
template <bool Square>
[[gnu::always_inline]] inline double rowSum(const float* x, int count, double shift)
{
    double lanes[kLanes] = {};
    int s = 0;
    for (; s + kLanes <= count; s += kLanes)
        for (int l = 0; l < kLanes; ++l) {
            const double d = static_cast<double>(x[s + l]) - shift;
            lanes[l] += Square ? d * d : d;
        }
    double sum = 0.0;
    for (; s < count; ++s) {
        const double d = static_cast<double>(x[s]) - shift;
        sum += Square ? d * d : d;
    }
    for (double v : lanes)
        sum += v;
    return sum;
}

// out[c] = sum over samples and pixels of (x - shift[c]) (or its square); shift may be null.
template <bool Square>
[[gnu::always_inline]] inline void channelSumsBody(const float* x, int n, int channels, int c0, int c1, int spatial,
                                                   const double* shift, double* out)
{
    for (int c = c0; c < c1; ++c)
        out[c] = 0.0;
    if (spatial == 1) {
        for (int i = 0; i < n; ++i) {
            const float* row = x + static_cast<std::ptrdiff_t>(i) * channels;
            for (int c = c0; c < c1; ++c) {
                const double d = static_cast<double>(row[c]) - (shift ? shift[c] : 0.0);
                out[c] += Square ? d * d : d;
            }
        }
        return;
    }
    for (int i = 0; i < n; ++i)
        for (int c = c0; c < c1; ++c)
            out[c] += rowSum<Square>(x + (static_cast<std::ptrdiff_t>(i) * channels + c) * spatial, spatial,
                                     shift ? shift[c] : 0.0);
}

SQ_SIMD_CLONES void channelSums(const float* x, int n, int channels, int c0, int c1, int spatial, double* out)
{
    channelSumsBody<false>(x, n, channels, c0, c1, spatial, nullptr, out);
}

SQ_SIMD_CLONES void channelSquaredDeviations(const float* x, int n, int channels, int c0, int c1, int spatial, const double* mean,
                                             double* out)
{
    channelSumsBody<true>(x, n, channels, c0, c1, spatial, mean, out);
}

// sumG[c] = sum of g, sumGC[c] = sum of g * (x - mean[c]), in double.
SQ_SIMD_CLONES void gradientSums(const float* g, const float* x, int n, int channels, int c0, int c1, int spatial,
                                 const double* mean, double* sumG, double* sumGC)
{
    for (int c = c0; c < c1; ++c) {
        sumG[c] = 0.0;
        sumGC[c] = 0.0;
    }
    if (spatial == 1) {
        for (int i = 0; i < n; ++i) {
            const float* gr = g + static_cast<std::ptrdiff_t>(i) * channels;
            const float* xr = x + static_cast<std::ptrdiff_t>(i) * channels;
            for (int c = c0; c < c1; ++c) {
                const double gd = gr[c];
                sumG[c] += gd;
                sumGC[c] += gd * (static_cast<double>(xr[c]) - mean[c]);
            }
        }
        return;
    }
    for (int i = 0; i < n; ++i)
        for (int c = c0; c < c1; ++c) {
            const std::ptrdiff_t base = (static_cast<std::ptrdiff_t>(i) * channels + c) * spatial;
            const float* gr = g + base;
            const float* xr = x + base;
            const double m = mean[c];
            double lanesG[kLanes] = {};
            double lanesGC[kLanes] = {};
            int s = 0;
            for (; s + kLanes <= spatial; s += kLanes)
                for (int l = 0; l < kLanes; ++l) {
                    const double gd = gr[s + l];
                    lanesG[l] += gd;
                    lanesGC[l] += gd * (static_cast<double>(xr[s + l]) - m);
                }
            double a = 0.0, b = 0.0;
            for (; s < spatial; ++s) {
                const double gd = gr[s];
                a += gd;
                b += gd * (static_cast<double>(xr[s]) - m);
            }
            for (int l = 0; l < kLanes; ++l) {
                a += lanesG[l];
                b += lanesGC[l];
            }
            sumG[c] += a;
            sumGC[c] += b;
        }
}

// y = ((x - center) - low) * scale + shift per channel (forward), or with Grad
// dx = (g * gscale) + ((x - center) - low) * scale + shift (backward), in float.
template <bool Grad>
[[gnu::always_inline]] inline void affineBody(const float* x, const float* g, float* y, int n, int channels,
                                              int c0, int c1, int spatial, const float* center, const float* low,
                                              const float* gscale, const float* scale, const float* shift)
{
    if (spatial == 1) {
        for (int i = 0; i < n; ++i) {
            const std::ptrdiff_t base = static_cast<std::ptrdiff_t>(i) * channels;
            for (int c = c0; c < c1; ++c) {
                const float centred = (x[base + c] - center[c]) - low[c];
                y[base + c] = Grad ? (g[base + c] * gscale[c]) + centred * scale[c] + shift[c]
                                   : centred * scale[c] + shift[c];
            }
        }
        return;
    }
    for (int i = 0; i < n; ++i)
        for (int c = c0; c < c1; ++c) {
            const std::ptrdiff_t base = (static_cast<std::ptrdiff_t>(i) * channels + c) * spatial;
            const float cen = center[c], lo = low[c], sc = scale[c], sh = shift[c];
            const float gs = Grad ? gscale[c] : 0.0f;
            for (int s = 0; s < spatial; ++s) {
                const float centred = (x[base + s] - cen) - lo;
                y[base + s] = Grad ? (g[base + s] * gs) + centred * sc + sh : centred * sc + sh;
            }
        }
}

SQ_SIMD_CLONES void normaliseKernel(const float* x, float* y, int n, int channels, int c0, int c1, int spatial, const float* center,
                                    const float* low, const float* scale, const float* shift)
{
    affineBody<false>(x, nullptr, y, n, channels, c0, c1, spatial, center, low, nullptr, scale, shift);
}

SQ_SIMD_CLONES void inputGradientKernel(const float* g, const float* x, float* dx, int n, int channels, int c0, int c1, int spatial,
                                        const float* center, const float* low, const float* gscale,
                                        const float* scale, const float* shift)
{
    affineBody<true>(x, g, dx, n, channels, c0, c1, spatial, center, low, gscale, scale, shift);
}

// Image batches: channels are independent, so they are shared out between the threads, one
// channel per iteration (the result does not depend on the split); (N, F) batches and small
// images stay on one thread.
constexpr std::size_t kMinParallelValues = std::size_t{1} << 18;

template <typename Kernel>
void overChannels(const Tensor& in, int channels, int spatial, const Kernel& kernel)
{
    if (spatial == 1 || in.size() < kMinParallelValues) {
        kernel(0, channels);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int c = 0; c < channels; ++c)
        kernel(c, c + 1);
}

} // namespace

BatchNorm::BatchNorm(int channels, float momentum, float eps) : channels_(channels), momentum_(momentum), eps_(eps)
{
    if (channels_ <= 0)
        throw Error("bn: channel count must be positive (got " + std::to_string(channels_) + ")");
    if (!(momentum_ >= 0.0f && momentum_ <= 1.0f))
        throw Error(describe() + ": momentum must be in [0, 1] (got " + std::to_string(momentum_) + ")");
    if (!(eps_ > 0.0f))
        throw Error(describe() + ": eps must be positive (got " + std::to_string(eps_) + ")");
    gamma_.name = "gamma";
    gamma_.decay = false;
    gamma_.value.resize({channels_});
    gamma_.grad.resize({channels_});
    gamma_.value.fill(1.0f);
    beta_.name = "beta";
    beta_.decay = false;
    beta_.value.resize({channels_});
    beta_.grad.resize({channels_});
    beta_.value.setZero();
    runningMean_.resize({channels_});
    runningMean_.setZero();
    runningVar_.resize({channels_});
    runningVar_.fill(1.0f);
}

std::vector<int> BatchNorm::outputShape(const std::vector<int>& inputSample) const
{
    if ((inputSample.size() != 1 && inputSample.size() != 3) || inputSample[0] != channels_)
        throw Error(describe() + ": expects (" + std::to_string(channels_) + ") features or ("
                    + std::to_string(channels_) + ", H, W) images, got " + shapeString(inputSample));
    return inputSample;
}

void BatchNorm::resetRunningStats()
{
    runningMean_.setZero();
    runningVar_.setZero();
    recalibrationBatches_ = 0;
}

int BatchNorm::spatialSize(const Tensor& in) const
{
    if (in.rank() != 2 && in.rank() != 4)
        throw Error(describe() + ": expects a batch (N, F) or (N, C, H, W), got " + in.shapeString());
    std::vector<int> sample(in.shape().begin() + 1, in.shape().end());
    outputShape(sample);
    return in.rank() == 4 ? in.dim(2) * in.dim(3) : 1;
}

void BatchNorm::batchStatistics(const Tensor& in, int spatial)
{
    const int n = in.dim(0);
    const double count = static_cast<double>(n) * spatial;
    mean_.resize(channels_);
    var_.resize(channels_);
    overChannels(in, channels_, spatial,
                 [&](int c0, int c1) { channelSums(in.data(), n, channels_, c0, c1, spatial, mean_.data()); });
    mean_ /= count;
    // Two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2, which cancels
    // catastrophically when the mean is large against the spread.
    overChannels(in, channels_, spatial, [&](int c0, int c1) {
        channelSquaredDeviations(in.data(), n, channels_, c0, c1, spatial, mean_.data(), var_.data());
    });
    var_ /= count;
}

void BatchNorm::setCenter(const Eigen::ArrayXd& mean)
{
    center_ = mean.cast<float>();
    centerLow_ = (mean - center_.cast<double>()).cast<float>();
}

void BatchNorm::normalise(const Tensor& in, Tensor& out, int spatial) const
{
    overChannels(in, channels_, spatial, [&](int c0, int c1) {
        normaliseKernel(in.data(), out.data(), in.dim(0), channels_, c0, c1, spatial, center_.data(),
                        centerLow_.data(), scale_.data(), beta_.value.data());
    });
}

void BatchNorm::forward(const Tensor& in, Tensor& out, Pass pass)
{
    const int spatial = spatialSize(in);
    out.resize(in.shape());
    const auto gamma = gamma_.value.vec().array();
    auto runMean = runningMean_.vec().array();
    auto runVar = runningVar_.vec().array();

    if (pass == Pass::Eval) {
        center_ = runMean;
        centerLow_.setZero(channels_);
        scale_ = gamma / (runVar + eps_).sqrt();
        normalise(in, out, spatial);
        return;
    }

    const long long count = static_cast<long long>(in.dim(0)) * spatial;
    if (count < 2)
        throw Error(describe() + ": batch statistics need at least 2 values per channel, got input "
                    + in.shapeString() + " (use a batch size of 2 or more)");
    batchStatistics(in, spatial);
    const Eigen::ArrayXd invStd = (var_ + static_cast<double>(eps_)).rsqrt();
    setCenter(mean_);
    scale_ = gamma * invStd.cast<float>();
    normalise(in, out, spatial);

    // The running variance estimates the population's, hence the unbiased batch variance.
    const Eigen::ArrayXd unbiased = var_ * (static_cast<double>(count) / static_cast<double>(count - 1));
    double factor = momentum_;
    if (pass == Pass::Recalibrate) {
        ++recalibrationBatches_;
        factor = 1.0 / recalibrationBatches_;
    } else {
        recalibrationBatches_ = 0; // the statistics are an exponential average again, not a plain one
    }
    runMean = ((1.0 - factor) * runMean.cast<double>() + factor * mean_).cast<float>();
    runVar = ((1.0 - factor) * runVar.cast<double>() + factor * unbiased).cast<float>();

    if (pass == Pass::Train) {
        trainMean_ = mean_;
        trainInvStd_ = invStd;
        trainCount_ = count;
    }
}

void BatchNorm::backward(const Tensor& in, const Tensor& /*out*/, const Tensor& gradOut, Tensor* gradIn)
{
    const int spatial = spatialSize(in);
    const long long count = static_cast<long long>(in.dim(0)) * spatial;
    if (trainCount_ == 0 || count != trainCount_ || gradOut.shape() != in.shape())
        throw Error(describe() + ": backward() needs a Train forward of the same batch (input "
                    + in.shapeString() + ", output gradient " + gradOut.shapeString() + ")");
    const int n = in.dim(0);
    sumGrad_.resize(channels_);
    sumGradCentered_.resize(channels_);
    overChannels(in, channels_, spatial, [&](int c0, int c1) {
        gradientSums(gradOut.data(), in.data(), n, channels_, c0, c1, spatial, trainMean_.data(), sumGrad_.data(),
                     sumGradCentered_.data());
    });
    // With xhat = (x - mean) * invStd and y = gamma * xhat + beta:
    //   dbeta = sum(g), dgamma = sum(g * xhat),
    //   dx = gamma * invStd * (g - dbeta / m - xhat * dgamma / m)
    // (the last two terms are the paths through the batch mean and the batch variance).
    gamma_.grad.vec() = (sumGradCentered_ * trainInvStd_).cast<float>().matrix();
    beta_.grad.vec() = sumGrad_.cast<float>().matrix();
    if (!gradIn)
        return;

    const double m = static_cast<double>(count);
    const Eigen::ArrayXd a = gamma_.value.vec().array().cast<double>() * trainInvStd_;
    // dx = a * g + k * (x - mean) + b, per channel.
    gradScale_ = a.cast<float>();
    gradCenteredScale_ = (-a * trainInvStd_.square() * sumGradCentered_ / m).cast<float>();
    gradShift_ = (-a * sumGrad_ / m).cast<float>();
    setCenter(trainMean_);
    gradIn->resize(in.shape());
    overChannels(in, channels_, spatial, [&](int c0, int c1) {
        inputGradientKernel(gradOut.data(), in.data(), gradIn->data(), n, channels_, c0, c1, spatial,
                            center_.data(), centerLow_.data(), gradScale_.data(), gradCenteredScale_.data(),
                            gradShift_.data());
    });
}

} // namespace sq
