// CPQ's random parts (SPEC §2.2): DropBits' per-weight drop of bit groups, and the hard-concrete
// keep-gates through which each layer learns its bit-length (Louizos, Welling, Kingma, "Learning
// Sparse Neural Networks through L0 Regularization", ICLR 2018).
#pragma once

#include <array>
#include <cmath>

namespace sq {

// DropBits: in each step, for each weight, group j >= 2 of a B-bit grid is dropped with
// probability p^(B-j+1), nested (dropping group j drops every higher group). One uniform u per
// weight gives both: group j is dropped iff u < p^(B-j+1), and these thresholds grow with j, so
// a dropped group's higher groups are dropped too while each marginal is exactly p^(B-j+1).
class DropBits {
public:
    DropBits(int maxBits, double p);

    // The highest group kept for a weight whose draw is u in [0, 1): 1 (zero only) to B.
    int highestGroup(float u) const
    {
        int highest = 1;
        for (int j = 2; j <= maxBits_; ++j)
            highest += u >= threshold_[static_cast<std::size_t>(j)] ? 1 : 0;
        return highest;
    }
    // p^(B-j+1) for group j = 2..B.
    double dropProbability(int group) const;

private:
    int maxBits_;
    double p_;
    std::array<float, 9> threshold_{};
};

// Hard concrete gate: s = Sig((log u - log(1-u) + a) / beta), z = clamp(s (zeta - gamma) + gamma, 0, 1)
// with beta = 2/3, gamma = -0.1, zeta = 1.1. The stretch is symmetric about 1/2, so
// P(z > 1/2) = Sig(a): the gate's keep probability is the logistic of its logit.
struct GateSample {
    float z = 1.0f;
    float dzDlogit = 0.0f; // 0 where z is clamped to 0 or 1
};

constexpr double kHardConcreteBeta = 2.0 / 3.0;
constexpr double kHardConcreteGamma = -0.1;
constexpr double kHardConcreteZeta = 1.1;

// u in (0, 1), exclusive.
GateSample sampleHardConcrete(float logit, double u);

inline float keepProbability(float logit) { return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(logit)))); }

} // namespace sq
