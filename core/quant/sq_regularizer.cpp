#include "core/quant/sq_regularizer.h"

#include "core/cpu_dispatch.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace sq {

double zeroBasinHalfWidth(double alpha, double beta, int p)
{
    const double t = std::tan(beta);
    return alpha / (1.0 + (p == 1 ? t : std::sqrt(t)));
}

namespace {

// Parts of a layer's weights that threads share out (a multiple of the vector block, below).
constexpr std::size_t kPart = std::size_t{1} << 15;
// Weights below which a layer stays on one thread: waking the others would cost more.
[[maybe_unused]] constexpr std::size_t kMinParallelWeights = std::size_t{1} << 16;

// The sums a pass over one layer's weights collects.
struct Sums {
    double r = 0.0;             // sum of r(w_i)
    double outerDAlpha = 0.0;   // sum over the outer branch of -d| |w| - alpha |^p / d|w|
    double innerPow = 0.0;      // sum over the zero basin of |w|^p
    std::size_t inner = 0;      // weights in the zero basin
};

// Lanes of the per-weight loop: a fixed lane count (not the machine's vector width) fixes the
// order of the float additions, whichever clone below runs.
constexpr int kLanes = 8;
// Each lane's float partial sums go into double after this many weights per lane: long enough for
// the vector loop to run at full speed, short enough that float rounding stays near 1e-7 relative.
constexpr std::size_t kBlockPerLane = 64;

// The per-weight kernel, specialised on p so the inner loop has no power calls, written without
// branches (selects) so that it vectorises. One pass reads w and updates gradW in place: the
// layer's weights are touched once per step.
// kLanes floats as one value (GCC vector extension): the compiler lowers each operation to
// whatever the clone's instruction set has. Eight, not sixteen: GCC 12 splits 64-byte vector
// selects lane by lane inside target clones.
// The helpers below are always inlined, so no vector value ever crosses a call boundary: GCC's
// note that such returns would change the ABI without AVX-512 does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float Lanes __attribute__((vector_size(kLanes * sizeof(float))));
typedef int LaneMask __attribute__((vector_size(kLanes * sizeof(int))));

[[gnu::always_inline]] inline Lanes load(const float* p)
{
    Lanes v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

[[gnu::always_inline]] inline void store(float* p, Lanes v) { std::memcpy(p, &v, sizeof v); }

[[gnu::always_inline]] inline Lanes select(LaneMask m, Lanes a, Lanes b) { return m ? a : b; }

template <int P, bool Grad, bool Open>
[[gnu::always_inline]] inline Sums layerSums(const float* __restrict w, std::size_t n, float alpha, float t,
                                             float* __restrict gradW, float gradFactor)
{
    Sums sums;
    std::size_t i = 0;
    constexpr std::size_t kBlock = kLanes * kBlockPerLane;
    const Lanes zero = Lanes{} + 0.0f;
    const Lanes one = zero + 1.0f;
    const Lanes vAlpha = zero + alpha;
    const Lanes vT = zero + t;
    const Lanes vFactor = zero + gradFactor;
    for (; i + kBlock <= n; i += kBlock) {
        Lanes r = zero, outer = zero, innerPow = zero, inner = zero; // counts exact in float
        for (std::size_t k = 0; k < kBlockPerLane; ++k) {
            const std::size_t at = i + k * kLanes;
            const Lanes v = load(w + at);
            const Lanes s = select(v > zero, one, select(v < zero, -one, zero));
            const Lanes a = v * s; // |v|
            const Lanes d = a - vAlpha;
            const Lanes dSign = select(d > zero, one, select(d < zero, -one, zero));
            const Lanes outerCost = P == 2 ? d * d : d * dSign;
            const Lanes ap = P == 2 ? a * a : a;
            const Lanes innerCost = vT * ap;
            const LaneMask isInner = Open ? (innerCost < outerCost) : LaneMask{};
            const Lanes dOuter = P == 2 ? 2.0f * d : dSign;
            r += select(isInner, innerCost, outerCost);
            innerPow += select(isInner, ap, zero);
            inner += select(isInner, one, zero);
            outer -= select(isInner, zero, dOuter);
            if constexpr (Grad) {
                const Lanes drInner = P == 2 ? 2.0f * vT * v : vT * s;
                const Lanes drOuter = dOuter * s;
                store(gradW + at, load(gradW + at) + vFactor * select(isInner, drInner, drOuter));
            }
        }
        for (int l = 0; l < kLanes; ++l) {
            sums.r += r[l];
            sums.outerDAlpha += outer[l];
            sums.innerPow += innerPow[l];
            sums.inner += static_cast<std::size_t>(inner[l]);
        }
    }
    // The tail, weight by weight, straight into double.
    for (; i < n; ++i) {
        const float x = w[i];
        const float a = std::abs(x);
        const float s = x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
        const float d = a - alpha;
        const float outerCost = P == 2 ? d * d : std::abs(d);
        const float ap = P == 2 ? a * a : a;
        const float innerCost = t * ap;
        float dr;
        if (Open && innerCost < outerCost) {
            sums.r += innerCost;
            sums.innerPow += ap;
            ++sums.inner;
            dr = P == 2 ? 2.0f * t * x : t * s;
        } else {
            sums.r += outerCost;
            const float dOuter = P == 2 ? 2.0f * d : (d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f));
            sums.outerDAlpha -= dOuter;
            dr = dOuter * s;
        }
        if constexpr (Grad)
            gradW[i] += gradFactor * dr;
    }
    return sums;
}

// Compiled for AVX-512, AVX2 and the baseline (core/cpu_dispatch.h).

// gradW may be null (value only); it never overlaps w (a weight and its own gradient tensor).
SQ_SIMD_CLONES Sums layerSumsP1(const float* w, std::size_t n, float alpha, float t, bool open, float* gradW,
                                float gradFactor)
{
    if (open)
        return gradW ? layerSums<1, true, true>(w, n, alpha, t, gradW, gradFactor)
                     : layerSums<1, false, true>(w, n, alpha, t, gradW, gradFactor);
    return gradW ? layerSums<1, true, false>(w, n, alpha, t, gradW, gradFactor)
                 : layerSums<1, false, false>(w, n, alpha, t, gradW, gradFactor);
}

SQ_SIMD_CLONES Sums layerSumsP2(const float* w, std::size_t n, float alpha, float t, bool open, float* gradW,
                                float gradFactor)
{
    if (open)
        return gradW ? layerSums<2, true, true>(w, n, alpha, t, gradW, gradFactor)
                     : layerSums<2, false, true>(w, n, alpha, t, gradW, gradFactor);
    return gradW ? layerSums<2, true, false>(w, n, alpha, t, gradW, gradFactor)
                 : layerSums<2, false, false>(w, n, alpha, t, gradW, gradFactor);
}

template <int P>
SqLayerTerm layerTerm(const float* w, std::size_t n, const SqShape& shape, float* gradW, float gradScale)
{
    const float alpha = shape.alpha;
    const bool open = !shape.closedZeroBasin;
    const float t = open ? static_cast<float>(std::tan(static_cast<double>(shape.beta))) : 0.0f;
    // The per-weight derivative carries the layer's 1/(n alpha^p) factor.
    const double scale = 1.0 / (static_cast<double>(n) * std::pow(static_cast<double>(alpha), P));
    const float gradFactor = static_cast<float>(gradScale * scale);
    // Large layers are cut into parts of a fixed size, shared out between the threads and summed in
    // part order: the sums do not depend on the thread count.
    const std::size_t parts = (n + kPart - 1) / kPart;
    Sums sums;
    const auto partSums = [&](std::size_t part) {
        const std::size_t begin = part * kPart;
        const std::size_t count = std::min(kPart, n - begin);
        float* grad = gradW ? gradW + begin : nullptr;
        return P == 2 ? layerSumsP2(w + begin, count, alpha, t, open, grad, gradFactor)
                      : layerSumsP1(w + begin, count, alpha, t, open, grad, gradFactor);
    };
    if (parts <= 1) {
        sums = partSums(0);
    } else {
        std::vector<Sums> each(parts);
#pragma omp parallel for schedule(static) if (n >= kMinParallelWeights)
        for (std::size_t part = 0; part < parts; ++part)
            each[part] = partSums(part);
        for (const Sums& e : each) {
            sums.r += e.r;
            sums.outerDAlpha += e.outerDAlpha;
            sums.innerPow += e.innerPow;
            sums.inner += e.inner;
        }
    }
    SqLayerTerm term;
    term.value = sums.r * scale;
    term.dAlpha = sums.outerDAlpha * scale;
    term.inZeroBasin = sums.inner;
    if (open) {
        const double tb = static_cast<double>(t);
        term.dBeta = sums.innerPow * scale * (1.0 + tb * tb); // d tan(beta) / d beta = sec^2
    }
    return term;
}

} // namespace

SqLayerTerm sqLayerTerm(const float* w, std::size_t n, const SqShape& shape, double gamma, float* gradW,
                        float gradScale)
{
    SqLayerTerm term = shape.p == 1 ? layerTerm<1>(w, n, shape, gradW, gradScale)
                                    : layerTerm<2>(w, n, shape, gradW, gradScale);
    if (!shape.closedZeroBasin) {
        const double cot = 1.0 / std::tan(static_cast<double>(shape.beta));
        term.value += gamma * cot;
        term.dBeta -= gamma * (1.0 + cot * cot); // d cot(beta) / d beta = -csc^2
    }
    return term;
}

} // namespace sq
