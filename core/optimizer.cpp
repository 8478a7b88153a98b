#include "core/optimizer.h"

#include "core/error.h"

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
        auto w = p.value.vec();
        auto v = velocity_[i].vec();
        v = momentum_ * v + p.grad.vec() + decay * w;
        w -= rate * v;
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
        auto w = p.value.vec().array();
        auto m = m_[i].vec().array();
        auto v = v_[i].vec().array();
        const auto g = p.grad.vec().array() + decay * w;
        m = beta1_ * m + (1.0f - beta1_) * g;
        v = beta2_ * v + (1.0f - beta2_) * g * g;
        // w -= lr * mhat / (sqrt(vhat) + eps), with the bias corrections folded into the scalars.
        w -= rate * m / (v.sqrt() / sqrtCorrection2 + epsilon_);
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
