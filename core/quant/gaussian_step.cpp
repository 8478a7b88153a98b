#include "core/quant/gaussian_step.h"

#include "core/error.h"

#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>

namespace sq {

namespace {

double pdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * std::numbers::pi); }
// Upper tail 1 - Phi(x), through erfc so that it keeps its precision far out.
double upperTail(double x) { return 0.5 * std::erfc(x / std::numbers::sqrt2); }

// E[(x - c)^2; a < x < b] for x ~ N(0, 1), with b = +infinity allowed:
// integral of x^2 phi = [Phi - x phi], of x phi = [-phi], of phi = [Phi].
double cellError(double a, double b, double c)
{
    const double mass = upperTail(a) - (std::isinf(b) ? 0.0 : upperTail(b));
    const double bPdf = std::isinf(b) ? 0.0 : pdf(b);
    const double bTerm = std::isinf(b) ? 0.0 : b * bPdf;
    const double second = mass + a * pdf(a) - bTerm;
    const double first = pdf(a) - bPdf;
    return second - 2.0 * c * first + c * c * mass;
}

double minimise(int bits)
{
    // The error is unimodal in delta: golden-section search on a bracket wide enough for b = 1..8
    // (s_1 = 1.596 is the largest optimum, s_8 = 0.031 the smallest).
    const double invPhi = (std::sqrt(5.0) - 1.0) / 2.0;
    double lo = 1e-3;
    double hi = 4.0;
    double x1 = hi - invPhi * (hi - lo);
    double x2 = lo + invPhi * (hi - lo);
    double f1 = gaussianQuantizerMse(bits, x1);
    double f2 = gaussianQuantizerMse(bits, x2);
    while (hi - lo > 1e-10) {
        if (f1 < f2) {
            hi = x2;
            x2 = x1;
            f2 = f1;
            x1 = hi - invPhi * (hi - lo);
            f1 = gaussianQuantizerMse(bits, x1);
        } else {
            lo = x1;
            x1 = x2;
            f1 = f2;
            x2 = lo + invPhi * (hi - lo);
            f2 = gaussianQuantizerMse(bits, x2);
        }
    }
    return 0.5 * (lo + hi);
}

void checkBits(int bits)
{
    if (bits < 1 || bits > kGaussianStepMaxBits)
        throw Error("--bits: must be in [1, 8], got " + std::to_string(bits));
}

} // namespace

double gaussianQuantizerMse(int bits, double delta)
{
    checkBits(bits);
    // By symmetry, twice the positive half: levels (k + 1/2) delta for k = 0 .. L/2 - 1, cells
    // [k delta, (k + 1) delta], the outermost open to +infinity.
    const int half = 1 << (bits - 1);
    double mse = 0.0;
    for (int k = 0; k < half; ++k) {
        const double a = k * delta;
        const double b = k + 1 == half ? std::numeric_limits<double>::infinity() : (k + 1) * delta;
        mse += cellError(a, b, (k + 0.5) * delta);
    }
    return 2.0 * mse;
}

double gaussianOptimalStep(int bits)
{
    checkBits(bits);
    static const std::array<double, kGaussianStepMaxBits> table = [] {
        std::array<double, kGaussianStepMaxBits> t{};
        for (int b = 1; b <= kGaussianStepMaxBits; ++b)
            t[static_cast<std::size_t>(b - 1)] = minimise(b);
        return t;
    }();
    return table[static_cast<std::size_t>(bits - 1)];
}

} // namespace sq
