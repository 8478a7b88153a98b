#include "core/quant/cpq_sampling.h"

#include "core/error.h"

#include <algorithm>
#include <string>

namespace sq {

DropBits::DropBits(int maxBits, double p) : maxBits_(maxBits), p_(p)
{
    if (maxBits < 2 || maxBits > 8)
        throw Error("--max-bits: must be in [2, 8], got " + std::to_string(maxBits));
    if (!(p >= 0.0 && p < 1.0))
        throw Error("--drop-p: must be in [0, 1), got " + std::to_string(p));
    for (int j = 2; j <= maxBits; ++j)
        threshold_[static_cast<std::size_t>(j)] = static_cast<float>(dropProbability(j));
}

double DropBits::dropProbability(int group) const { return std::pow(p_, maxBits_ - group + 1); }

GateSample sampleHardConcrete(float logit, double u)
{
    const double x = (std::log(u) - std::log1p(-u) + static_cast<double>(logit)) / kHardConcreteBeta;
    const double s = 1.0 / (1.0 + std::exp(-x));
    const double stretched = s * (kHardConcreteZeta - kHardConcreteGamma) + kHardConcreteGamma;
    GateSample g;
    g.z = static_cast<float>(std::clamp(stretched, 0.0, 1.0));
    if (stretched > 0.0 && stretched < 1.0)
        g.dzDlogit = static_cast<float>((kHardConcreteZeta - kHardConcreteGamma) * s * (1.0 - s) / kHardConcreteBeta);
    return g;
}

} // namespace sq
