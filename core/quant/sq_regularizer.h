// The Smart Quantization regularizer and quantizer (Razani et al., "Adaptive Binary-Ternary
// Quantization", CVPR 2021 Workshops, arXiv 1909.12205), in the scale-free form of SPEC §1.
//
//   r(w; alpha, beta) = min( | |w| - alpha |^p , tan(beta) |w|^p )                 per weight
//   R_l = (1/n) sum_i r(w_i) / sg(alpha)^p + gamma * cot(beta)                     per layer
//
// beta = pi/4 gives the ternary regularizer (minima -alpha, 0, +alpha); beta -> pi/2 closes the
// zero basin |w| < Delta = alpha / (1 + tan(beta)^(1/p)) and leaves the binary one.
#pragma once

#include <cstddef>
#include <numbers>

namespace sq {

constexpr double kBetaMin = std::numbers::pi / 4.0;         // ternary
constexpr double kBetaMax = std::numbers::pi / 2.0 - 1e-3;  // (almost) binary
constexpr double kBetaSwitchDefault = 3.0 * std::numbers::pi / 8.0;
constexpr float kAlphaMin = 1e-8f;

struct SqShape {
    float alpha = 1.0f;
    float beta = static_cast<float>(kBetaSwitchDefault);
    int p = 2;
    // The committed binary shape: no zero basin at all, r = | |w| - alpha |^p and no gamma term.
    bool closedZeroBasin = false;
};

struct SqLayerTerm {
    double value = 0.0;             // R_l
    double dAlpha = 0.0;            // dR_l/dalpha, holding the divisor sg(alpha)^p constant
    double dBeta = 0.0;             // dR_l/dbeta
    std::size_t inZeroBasin = 0;    // weights where the tan(beta)|w|^p branch is the minimum
};

// One fused pass over a layer's n weights. When gradW is not null, adds gradScale * dR_l/dw_i
// to gradW[i] (the trainer passes lambda as gradScale). At a tie between the two branches the
// outer one (| |w| - alpha |^p) is taken, matching the quantizer's |w| < Delta test for zero.
SqLayerTerm sqLayerTerm(const float* w, std::size_t n, const SqShape& shape, double gamma, float* gradW,
                        float gradScale);

// Delta(alpha, beta) = alpha / (1 + tan(beta)^(1/p)); zero for a closed zero basin.
double zeroBasinHalfWidth(double alpha, double beta, int p);

// q(w) = alpha * sign(w), sign(0) = +1.
inline float quantizeBinary(float w, float alpha) { return w >= 0.0f ? alpha : -alpha; }
// q(w) = 0 if |w| < Delta, else alpha * sign(w).
inline float quantizeTernary(float w, float alpha, float delta)
{
    return (w < delta && w > -delta) ? 0.0f : quantizeBinary(w, alpha);
}

} // namespace sq
