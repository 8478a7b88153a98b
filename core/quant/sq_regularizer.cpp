#include "core/quant/sq_regularizer.h"

#include <cmath>

namespace sq {

double zeroBasinHalfWidth(double alpha, double beta, int p)
{
    const double t = std::tan(beta);
    return alpha / (1.0 + (p == 1 ? t : std::sqrt(t)));
}

namespace {

// The per-weight kernel, specialised on p so the inner loop has no power calls.
template <int P>
SqLayerTerm layerTerm(const float* w, std::size_t n, const SqShape& shape, float* gradW, float gradScale)
{
    const float alpha = shape.alpha;
    const bool open = !shape.closedZeroBasin;
    const float t = open ? static_cast<float>(std::tan(static_cast<double>(shape.beta))) : 0.0f;
    double sumR = 0.0;
    double sumOuterDAlpha = 0.0;
    double sumInnerPow = 0.0;
    std::size_t inner = 0;
    // The per-weight derivative carries the layer's 1/(n alpha^p) factor.
    const double scale = 1.0 / (static_cast<double>(n) * std::pow(static_cast<double>(alpha), P));
    const float gradFactor = static_cast<float>(gradScale * scale);
    for (std::size_t i = 0; i < n; ++i) {
        const float x = w[i];
        const float a = std::abs(x);
        const float s = x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
        const float d = a - alpha;
        const float outer = P == 2 ? d * d : std::abs(d);
        const float ap = P == 2 ? a * a : a;
        const float innerCost = t * ap;
        float dr;
        if (open && innerCost < outer) {
            sumR += innerCost;
            sumInnerPow += ap;
            ++inner;
            dr = P == 2 ? 2.0f * t * x : t * s;
        } else {
            sumR += outer;
            const float dOuter = P == 2 ? 2.0f * d : (d > 0.0f ? 1.0f : (d < 0.0f ? -1.0f : 0.0f));
            sumOuterDAlpha -= dOuter;
            dr = dOuter * s;
        }
        if (gradW)
            gradW[i] += gradFactor * dr;
    }
    SqLayerTerm term;
    term.value = sumR * scale;
    term.dAlpha = sumOuterDAlpha * scale;
    term.inZeroBasin = inner;
    if (open) {
        const double tb = static_cast<double>(t);
        term.dBeta = sumInnerPow * scale * (1.0 + tb * tb); // d tan(beta) / d beta = sec^2
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
