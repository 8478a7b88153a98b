#include "core/optimizer.h"

#include "core/cpu_dispatch.h"
#include "core/error.h"

#include <algorithm>
#include <cmath>

namespace sq {

OptimizerKind parseOptimizerKind(const std::string& text)
{
    if (text == "sgd")
        return OptimizerKind::Sgd;
    if (text == "adam")
        return OptimizerKind::Adam;
    throw Error("--optimizer: unknown optimizer '" + text + "' (expected sgd or adam)");
}

std::string toString(OptimizerKind kind) { return kind == OptimizerKind::Sgd ? "sgd" : "adam"; }

namespace {

std::vector<Tensor> zerosLike(const std::vector<OptimParam>& params)
{
    std::vector<Tensor> state;
    state.reserve(params.size());
    for (const auto& p : params) {
        state.emplace_back(p.param->value.shape());
        state.back().setZero();
    }
    return state;
}

// The updates below, one pass over each parameter reading and writing each value once (Eigen's
// expressions took one pass per statement). Same per-element arithmetic, in the same order.
SQ_SIMD_CLONES void sgdUpdate(float* w, float* v, const float* g, std::size_t n, float momentum, float decay,
                              float rate)
{
    for (std::size_t i = 0; i < n; ++i) {
        const float vi = momentum * v[i] + g[i] + decay * w[i];
        v[i] = vi;
        w[i] -= rate * vi;
    }
}

SQ_SIMD_CLONES void adamUpdate(float* w, float* m, float* v, const float* grad, std::size_t n, float beta1,
                               float beta2, float decay, float rate, float sqrtCorrection2, float epsilon)
{
    for (std::size_t i = 0; i < n; ++i) {
        const float g = grad[i] + decay * w[i];
        const float mi = beta1 * m[i] + (1.0f - beta1) * g;
        const float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        w[i] -= rate * mi / (std::sqrt(vi) / sqrtCorrection2 + epsilon);
    }
}

// Runs update(begin, count) over [0, n) in chunks shared out between the threads when n is large
// (the updates are element-wise: the result does not depend on the split).
template <typename Update>
void forChunks(std::size_t n, const Update& update)
{
    constexpr std::size_t kChunk = std::size_t{1} << 15;
    constexpr std::size_t kMinParallel = std::size_t{1} << 16;
    if (n < kMinParallel) {
        update(std::size_t{0}, n);
        return;
    }
    const std::size_t chunks = (n + kChunk - 1) / kChunk;
#pragma omp parallel for schedule(static)
    for (std::size_t c = 0; c < chunks; ++c)
        update(c * kChunk, std::min(kChunk, n - c * kChunk));
}

std::vector<Tensor*> pointers(std::vector<Tensor>& tensors)
{
    std::vector<Tensor*> out;
    for (auto& t : tensors)
        out.push_back(&t);
    return out;
}

} // namespace

Sgd::Sgd(std::vector<OptimParam> params, float momentum, float weightDecay)
    : params_(std::move(params)), velocity_(zerosLike(params_)), momentum_(momentum), weightDecay_(weightDecay)
{
}

void Sgd::step(float lr)
{
    ++steps_;
    for (std::size_t i = 0; i < params_.size(); ++i) {
        Param& p = *params_[i].param;
        const float rate = lr * params_[i].lrMultiplier;
        const float decay = p.decay ? weightDecay_ : 0.0f;
        forChunks(p.value.size(), [&](std::size_t begin, std::size_t count) {
            sgdUpdate(p.value.data() + begin, velocity_[i].data() + begin, p.grad.data() + begin, count, momentum_,
                      decay, rate);
        });
    }
}

std::vector<Tensor*> Sgd::stateTensors() { return pointers(velocity_); }

Adam::Adam(std::vector<OptimParam> params, float beta1, float beta2, float epsilon, float weightDecay)
    : params_(std::move(params))
    , m_(zerosLike(params_))
    , v_(zerosLike(params_))
    , beta1_(beta1)
    , beta2_(beta2)
    , epsilon_(epsilon)
    , weightDecay_(weightDecay)
{
}

void Adam::step(float lr)
{
    ++steps_;
    const double t = static_cast<double>(steps_);
    const float correction1 = static_cast<float>(1.0 - std::pow(static_cast<double>(beta1_), t));
    const float sqrtCorrection2 = static_cast<float>(std::sqrt(1.0 - std::pow(static_cast<double>(beta2_), t)));
    for (std::size_t i = 0; i < params_.size(); ++i) {
        Param& p = *params_[i].param;
        const float rate = lr * params_[i].lrMultiplier / correction1;
        const float decay = p.decay ? weightDecay_ : 0.0f;
        // w -= lr * mhat / (sqrt(vhat) + eps), with the bias corrections folded into the scalars.
        forChunks(p.value.size(), [&](std::size_t begin, std::size_t count) {
            adamUpdate(p.value.data() + begin, m_[i].data() + begin, v_[i].data() + begin, p.grad.data() + begin,
                       count, beta1_, beta2_, decay, rate, sqrtCorrection2, epsilon_);
        });
    }
}

std::vector<Tensor*> Adam::stateTensors()
{
    auto out = pointers(m_);
    for (auto* t : pointers(v_))
        out.push_back(t);
    return out;
}

std::unique_ptr<Optimizer> makeOptimizer(const OptimizerSettings& s, std::vector<OptimParam> params)
{
    if (s.kind == OptimizerKind::Sgd)
        return std::make_unique<Sgd>(std::move(params), s.momentum, s.weightDecay);
    return std::make_unique<Adam>(std::move(params), s.beta1, s.beta2, s.epsilon, s.weightDecay);
}

} // namespace sq
