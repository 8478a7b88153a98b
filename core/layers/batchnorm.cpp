#include "core/layers/batchnorm.h"

#include "core/error.h"

#include <cmath>

namespace sq {

namespace {

// One sample's activations as (channels, spatial); samples are not 64-byte aligned in general.
using ArrayRM = Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using SampleMap = Eigen::Map<ArrayRM>;
using ConstSampleMap = Eigen::Map<const ArrayRM>;

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
    const auto perSample = static_cast<Eigen::Index>(channels_) * spatial;
    const double count = static_cast<double>(n) * spatial;
    mean_.setZero(channels_);
    for (int i = 0; i < n; ++i)
        mean_ += ConstSampleMap(in.data() + i * perSample, channels_, spatial).cast<double>().rowwise().sum();
    mean_ /= count;
    // Two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2, which cancels
    // catastrophically when the mean is large against the spread.
    var_.setZero(channels_);
    for (int i = 0; i < n; ++i)
        var_ += (ConstSampleMap(in.data() + i * perSample, channels_, spatial).cast<double>().colwise() - mean_)
                    .square()
                    .rowwise()
                    .sum();
    var_ /= count;
}

void BatchNorm::setCenter(const Eigen::ArrayXd& mean)
{
    center_ = mean.cast<float>();
    centerLow_ = (mean - center_.cast<double>()).cast<float>();
}

void BatchNorm::normalise(const Tensor& in, Tensor& out, int spatial) const
{
    const int n = in.dim(0);
    const auto perSample = static_cast<Eigen::Index>(channels_) * spatial;
    const auto beta = beta_.value.vec().array();
    for (int i = 0; i < n; ++i) {
        const ConstSampleMap x(in.data() + i * perSample, channels_, spatial);
        SampleMap y(out.data() + i * perSample, channels_, spatial);
        y = (((x.colwise() - center_).colwise() - centerLow_).colwise() * scale_).colwise() + beta;
    }
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
    const auto perSample = static_cast<Eigen::Index>(channels_) * spatial;

    sumGrad_.setZero(channels_);
    sumGradCentered_.setZero(channels_);
    for (int i = 0; i < n; ++i) {
        const ConstSampleMap g(gradOut.data() + i * perSample, channels_, spatial);
        const ConstSampleMap x(in.data() + i * perSample, channels_, spatial);
        sumGrad_ += g.cast<double>().rowwise().sum();
        sumGradCentered_ += (g.cast<double>() * (x.cast<double>().colwise() - trainMean_)).rowwise().sum();
    }
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
    for (int i = 0; i < n; ++i) {
        const ConstSampleMap g(gradOut.data() + i * perSample, channels_, spatial);
        const ConstSampleMap x(in.data() + i * perSample, channels_, spatial);
        SampleMap dx(gradIn->data() + i * perSample, channels_, spatial);
        dx = ((g.colwise() * gradScale_)
              + (((x.colwise() - center_).colwise() - centerLow_).colwise() * gradCenteredScale_))
                 .colwise()
             + gradShift_;
    }
}

} // namespace sq
