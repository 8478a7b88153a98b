#include "core/layers/layer.h"

#include <cmath>

namespace sq {

void allocateWeightAndBias(QuantizableWeight& weight, Param& bias, std::vector<int> shape, int fanIn, int outputs)
{
    weight.param.name = "weight";
    weight.param.grad.resize(shape);
    weight.param.value.resize(std::move(shape));
    weight.param.value.setZero();
    weight.fanIn = fanIn;
    bias.name = "bias";
    bias.decay = false;
    bias.value.resize({outputs});
    bias.grad.resize({outputs});
    bias.value.setZero();
}

void initializeUniform(QuantizableWeight& weight, Param& bias, Rng& rng)
{
    const float bound = 1.0f / std::sqrt(static_cast<float>(weight.fanIn));
    for (std::size_t i = 0; i < weight.param.value.size(); ++i)
        weight.param.value[i] = rng.uniform(-bound, bound);
    for (std::size_t i = 0; i < bias.value.size(); ++i)
        bias.value[i] = rng.uniform(-bound, bound);
}

} // namespace sq
