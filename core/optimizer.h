// First-order optimizers (SGD with momentum, Adam) and learning-rate schedules.
#pragma once

#include "core/layers/layer.h"

#include <memory>
#include <string>
#include <vector>

namespace sq {

// A parameter under optimization, with its own learning-rate multiplier (SQ's alpha and beta
// may learn at a different rate than the weights).
struct OptimParam {
    Param* param = nullptr;
    float lrMultiplier = 1.0f;
};

enum class OptimizerKind { Sgd, Adam };

struct OptimizerSettings {
    OptimizerKind kind = OptimizerKind::Adam;
    float momentum = 0.9f;    // SGD
    float weightDecay = 0.0f; // L2, added to the gradient of parameters with decay = true
    float beta1 = 0.9f;       // Adam
    float beta2 = 0.999f;     // Adam
    float epsilon = 1e-8f;    // Adam
};

OptimizerKind parseOptimizerKind(const std::string& text); // "sgd" | "adam"
std::string toString(OptimizerKind kind);

// State is indexed by the parameter's position in the list given at construction (not by
// address), so it survives reallocation and can be saved with a session.
class Optimizer {
public:
    virtual ~Optimizer() = default;
    virtual void step(float lr) = 0;
    // The buffers of the optimizer's state, in a fixed order (for sessions).
    virtual std::vector<Tensor*> stateTensors() = 0;
    std::int64_t steps() const { return steps_; }
    // Sessions: the step count restored with the state tensors (Adam's bias correction uses it).
    void setSteps(std::int64_t steps) { steps_ = steps; }

protected:
    std::int64_t steps_ = 0;
};

// SGD with heavy-ball momentum as in PyTorch: v = mu*v + g; w -= lr*v (Sutskever et al., 2013).
class Sgd final : public Optimizer {
public:
    Sgd(std::vector<OptimParam> params, float momentum, float weightDecay);
    void step(float lr) override;
    std::vector<Tensor*> stateTensors() override;

private:
    std::vector<OptimParam> params_;
    std::vector<Tensor> velocity_;
    float momentum_;
    float weightDecay_;
};

// Adam (Kingma & Ba, ICLR 2015, Algorithm 1), with bias correction; weight decay as L2 in the
// gradient, as PyTorch's Adam does.
class Adam final : public Optimizer {
public:
    Adam(std::vector<OptimParam> params, float beta1, float beta2, float epsilon, float weightDecay);
    void step(float lr) override;
    std::vector<Tensor*> stateTensors() override;

private:
    std::vector<OptimParam> params_;
    std::vector<Tensor> m_;
    std::vector<Tensor> v_;
    float beta1_;
    float beta2_;
    float epsilon_;
    float weightDecay_;
};

std::unique_ptr<Optimizer> makeOptimizer(const OptimizerSettings& settings, std::vector<OptimParam> params);

} // namespace sq
