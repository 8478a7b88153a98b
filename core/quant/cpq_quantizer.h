// CPQ's probabilistic grid quantizer and its multi-class straight-through gradients (SPEC §2.2,
// this project's specification of CPQ/DropBits, built on Relaxed Quantization, Louizos et al.,
// ICLR 2019): grid k*s for |k| <= 2^(B-1) - 1 with noise sigma = s/3, level probabilities from
// the logistic CDF, forward = the most probable level, backward through softmax(log(pi)/tau).
//
// Cost per weight is bounded: only the levels within kCpqWindow of the nearest active level get
// probabilities; the window's edge levels take the open tails beyond them. With sigma = s/3 a
// level d steps away holds about e^(-3d) of the mass, so what the edges lump together is below
// Sig(-3 kCpqWindow) = 1.2e-4 per side; when the active grid fits in the window (B <= 3, or a
// weight near the grid's edge) the probabilities are exact. The softmax temperature is kept in
// (0, 1] because a softer one (tau > 1) would spread mass beyond the window (pi^(1/tau)).
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <utility>
#include <vector>

namespace sq {

constexpr int kCpqMaxBits = 8;
constexpr int kCpqWindow = 3;

// K = 2^(bits-1) - 1, the largest |k| of a bits-bit grid with zero (1 bit: only zero).
inline int cpqMaxLevel(int bits) { return (1 << (bits - 1)) - 1; }
// The group that needs level k: group 1 = {0}; group j = { k : 2^(j-2) <= |k| <= 2^(j-1) - 1 }.
inline int cpqGroupOf(int level)
{
    const unsigned a = static_cast<unsigned>(std::abs(level));
    return a == 0 ? 1 : static_cast<int>(std::bit_width(a)) + 1;
}

// One layer's grid for one step.
struct CpqGrid {
    float step = 1.0f;        // s
    int maxBits = 4;          // B
    float temperature = 1.0f; // tau of the backward softmax, in (0, 1]
    // z_j, the relaxed keep-gate of group j (index j = 3..B; 1 for groups 1 and 2): it multiplies
    // the probability mass of the group's levels. 0 drops the group and, nested, every higher one.
    std::array<float, kCpqMaxBits + 1> gate{1, 1, 1, 1, 1, 1, 1, 1, 1};

    // The highest group j whose gates z_3..z_j are all > 0.
    int activeBits() const;
};

// One weight through the quantizer.
struct CpqPoint {
    int level = 0;     // k*, the most probable active level: the forward value is k* s
    float value = 0.0f;
    float soft = 0.0f;  // y = s sum_k p_k k, the relaxed value the backward pass differentiates
    float dw = 0.0f;    // dy/dw
    float dStep = 0.0f; // dy/ds (the grid moves with s, and so do the probabilities)
    std::array<float, kCpqMaxBits + 1> dGate{}; // dy/dz_j for the active gated groups
};

// highestGroup: the highest group DropBits kept for this weight this step (B: none dropped).
CpqPoint cpqPoint(float w, const CpqGrid& grid, int highestGroup = kCpqMaxBits);

// The probabilities the quantizer gives the levels of w's window: (level k, p_k) with p from
// softmax(log(pi)/tau); at tau = 1 they are pi itself. For tests and views.
std::vector<std::pair<int, double>> cpqProbabilities(float w, const CpqGrid& grid, int highestGroup = kCpqMaxBits);

// Per-weight slopes a forward pass over a layer keeps for the backward pass of the same step.
struct CpqLayerCache {
    std::vector<float> dw;
    std::vector<float> dStep;
    std::vector<int> softGates; // groups whose gate is strictly inside (0, 1) this step
    std::vector<float> dGate;   // weight-major, softGates.size() per weight: dy/dz_j
};

// q[i] = k* s for every weight (DropBits' highest kept group per weight, or null for none
// dropped); fills `cache` when it is not null. Deterministic for any thread count.
void cpqForwardLayer(const float* w, std::size_t n, const CpqGrid& grid, const std::uint8_t* highestGroup, float* q,
                     CpqLayerCache* cache);

struct CpqLayerGrad {
    double step = 0.0;
    std::array<double, kCpqMaxBits + 1> gate{}; // dL/dz_j
};

// grad holds dL/dq on entry and dL/dw on exit; returns dL/ds and dL/dz_j of the layer.
CpqLayerGrad cpqBackwardLayer(float* grad, std::size_t n, const CpqLayerCache& cache);

} // namespace sq
