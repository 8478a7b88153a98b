// Batch normalisation per channel of (N, F) or (N, C, H, W) activations, with running statistics.
#pragma once

#include "core/layers/layer.h"

namespace sq {

// y = gamma * (x - mean) / sqrt(var + eps) + beta, per channel (a feature of (N, F), or a channel
// of (N, C, H, W) whose statistics then run over N, H and W), as PyTorch's BatchNorm1d/2d.
// - Pass::Train: batch mean and biased batch variance; the running statistics follow
//   r = (1 - momentum) * r + momentum * batch, with the *unbiased* variance for the running variance.
// - Pass::Eval: the running statistics.
// - Pass::Recalibrate: normalises like Train, and the running statistics become the plain average of
//   the batch statistics seen since resetRunningStats() (PyTorch's momentum=None). Without a reset,
//   the current running statistics count as recalibrationBatches() earlier batches; that count is
//   0 initially and after a Train pass, so the first recalibration batch then replaces them.
class BatchNorm final : public Layer {
public:
    explicit BatchNorm(int channels, float momentum = 0.1f, float eps = 1e-5f);

    std::string kind() const override { return "bn"; }
    std::string describe() const override { return "bn " + std::to_string(channels_); }
    std::vector<int> outputShape(const std::vector<int>& inputSample) const override;

    // Train and Recalibrate need at least two values per channel (N * H * W >= 2), otherwise the
    // variance is undefined; they throw sq::Error.
    void forward(const Tensor& in, Tensor& out, Pass pass) override;
    // The exact gradient of the Train forward, through the batch mean and variance.
    void backward(const Tensor& in, const Tensor& out, const Tensor& gradOut, Tensor* gradIn) override;

    std::vector<Param*> params() override { return {&gamma_, &beta_}; }
    std::vector<Tensor*> buffers() override { return {&runningMean_, &runningVar_}; }

    // Mean 0, variance 0 and no batch counted: the next Recalibrate passes rebuild the statistics
    // from scratch (used after the weights change under quantization).
    void resetRunningStats();
    const Tensor& runningMean() const { return runningMean_; }
    const Tensor& runningVar() const { return runningVar_; }
    int recalibrationBatches() const { return recalibrationBatches_; }

    int channels() const { return channels_; }
    float momentum() const { return momentum_; }
    float eps() const { return eps_; }

private:
    // Elements per channel per sample (H * W, or 1 for (N, F)); throws if `in` does not fit.
    int spatialSize(const Tensor& in) const;
    // Batch mean and biased variance per channel into mean_ and var_.
    void batchStatistics(const Tensor& in, int spatial);
    // center_ and centerLow_ from a mean in double.
    void setCenter(const Eigen::ArrayXd& mean);
    // out = ((x - center_) - centerLow_) * scale_ + beta, per channel.
    void normalise(const Tensor& in, Tensor& out, int spatial) const;

    int channels_;
    float momentum_;
    float eps_;
    Param gamma_;
    Param beta_;
    Tensor runningMean_;
    Tensor runningVar_;
    int recalibrationBatches_ = 0;

    // Per-channel workspaces (statistics are accumulated in double: a channel can hold 10^5 values).
    Eigen::ArrayXd mean_;
    Eigen::ArrayXd var_;
    Eigen::ArrayXd sumGrad_;
    Eigen::ArrayXd sumGradCentered_;
    // The mean as a float plus the rounding residual of that float: (x - center_) - centerLow_ is
    // as accurate as the deviation itself even when the mean is large against the spread (a plain
    // float mean would add noise of ulp(mean) * scale to every output).
    Eigen::ArrayXf center_;
    Eigen::ArrayXf centerLow_;
    Eigen::ArrayXf scale_;
    Eigen::ArrayXf gradScale_;
    Eigen::ArrayXf gradCenteredScale_;
    Eigen::ArrayXf gradShift_;
    // What backward() needs from the last Train pass.
    Eigen::ArrayXd trainMean_;
    Eigen::ArrayXd trainInvStd_;
    long long trainCount_ = 0; // values per channel of that batch; 0 = no Train pass yet
};

} // namespace sq
