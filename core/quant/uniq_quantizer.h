// UniQ's symmetric uniform quantizer without a zero level and its straight-through gradients
// (Pham, Abraham, Chung, IEEE Access 9, 2021, arXiv 2104.00210; SPEC §2.1).
//
//   levels (k + 1/2) Delta, k = -2^(b-1) .. 2^(b-1) - 1;   c = (2^b - 1)/2;   x = w/Delta + c
//   q(w) = Delta * ( round(clamp(x, 0, 2^b - 1)) - c )        round: halves to even
//   dq/dw = 1 for 0 <= x <= 2^b - 1, else 0                   (straight-through)
//   dq/dDelta = round(x) - x inside, -c below, +c above       (LSQ; the method scales it by g)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace sq {

struct UniqGrid {
    float step = 1.0f; // Delta
    int bits = 2;

    float top() const { return static_cast<float>((1 << bits) - 1); } // 2^b - 1: the largest index
    float centre() const { return 0.5f * top(); }                      // c
    float level(int index) const { return step * (static_cast<float>(index) - centre()); }
    // LSQ's gradient scale g = 1 / sqrt(n * max(2^(b-1) - 1, 1)) for a layer of n weights.
    double gradScale(std::size_t n) const
    {
        return 1.0 / std::sqrt(static_cast<double>(n) * std::max((1 << (bits - 1)) - 1, 1));
    }
};

// Round half to even of 0 <= x < 2^23, exactly std::nearbyint under the default rounding mode:
// x + 2^23 has no fraction bits left, so the addition itself rounds (to nearest, ties to even).
// Written out so that the per-weight loops vectorise instead of calling libm; it relies on IEEE
// arithmetic (no -ffast-math, which could fold the two operations away), and the tests compare it
// with std::nearbyint at halves.
inline float roundHalfEvenNonNegative(float x)
{
    constexpr float kShift = 8388608.0f; // 2^23
    return (x + kShift) - kShift;
}

// The index round(clamp(x, 0, 2^b - 1)) in 0 .. 2^b - 1, as a float.
inline float uniqIndex(float w, const UniqGrid& g)
{
    const float x = w / g.step + g.centre();
    return roundHalfEvenNonNegative(std::clamp(x, 0.0f, g.top()));
}

inline float uniqQuantize(float w, const UniqGrid& g) { return g.step * (uniqIndex(w, g) - g.centre()); }

// dq/dw (0 or 1) and the unscaled dq/dDelta at w.
struct UniqSlopes {
    float dw = 0.0f;
    float dStep = 0.0f;
};

inline UniqSlopes uniqSlopes(float w, const UniqGrid& g)
{
    const float x = w / g.step + g.centre();
    if (x < 0.0f)
        return {0.0f, -g.centre()};
    if (x > g.top())
        return {0.0f, g.centre()};
    return {1.0f, roundHalfEvenNonNegative(x) - x};
}

} // namespace sq
