// Finite-difference gradient checker for layers: compares backward() against numerical derivatives.
#pragma once

#include "core/layers/layer.h"
#include "core/rng.h"
#include "core/tensor.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace sq::testing {

// The checked loss is L = sum(out .* R) for a fixed random R in [-1, 1): dL/dout = R weighs every
// output differently, so a gradient routed to the wrong output or summed in the wrong order shows up
// (with L = sum(out) it often would not).
//
// Choosing the step h and the tolerances. The layers compute in float, the loss is summed in double.
// - Truncation: the central difference errs by about h^2 |f'''| / 6; it is zero where the layer is
//   linear in the perturbed value (dense, conv, flatten, relu and maxpool away from their kinks), so
//   those can use a larger h. BatchNorm is not; use the 4-point stencil (error ~ h^4 |f^(5)| / 30).
// - Rounding: the outputs that depend on the perturbed value change by float roundoff, about
//   6e-8 |out| each, and the difference quotient divides that by 2h. Perturbations are applied in
//   float and the quotient uses the step actually taken, (x + h) - x, not h.
// - A coordinate passes when |analytic - numeric| <= absTolerance + relTolerance * max(|analytic|,
//   |numeric|). The tests state their tolerances next to the configurations; they were chosen about
//   ten times above the observed error so that they pass on every platform, yet a gradient off by a
//   few percent at a single coordinate fails (test_layers.cpp checks that the checker catches it).
struct GradCheckOptions {
    float step = 1e-2f;        // h
    bool fourPoint = false;    // (8 (L(x+h) - L(x-h)) - (L(x+2h) - L(x-2h))) / 12h instead of central
    double relTolerance = 1e-2;
    double absTolerance = 1e-3;
    int maxCoordinates = 0;    // per tensor, sampled at random; 0 checks them all
    std::uint64_t seed = 12345; // for R and the sampling
    bool checkInput = true;     // also check dL/din (backward() then gets a gradIn)
    // Coordinates where the layer is not differentiable within the perturbation (see skipReluKinks,
    // skipMaxPoolTies). `tensor` is "input" or the parameter's name.
    std::function<bool(const std::string& tensor, std::size_t index)> skip;
};

struct GradCheckResult {
    bool ok = true;
    std::string failure;   // a structural problem: wrong gradient shape, non-finite values, nothing checked
    double maxError = 0.0; // max |a - n| / (abs + rel * max(|a|, |n|)) over the checked coordinates; <= 1 passes
    std::string worst;     // the coordinate where maxError was reached
    int checked = 0;
    int skipped = 0;

    std::string summary() const
    {
        if (!failure.empty())
            return failure;
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "%.3g", maxError);
        return std::string(ok ? "passed" : "FAILED") + ": max error " + buffer + " (1 = tolerance) at " + worst
               + "; " + std::to_string(checked) + " coordinates checked, " + std::to_string(skipped) + " skipped";
    }
};

namespace detail {

inline std::string coordinate(const std::string& name, const std::vector<int>& shape, std::size_t flat)
{
    std::vector<int> index(shape.size());
    for (std::size_t d = shape.size(); d-- > 0;) {
        const auto extent = static_cast<std::size_t>(shape[d]);
        index[d] = static_cast<int>(flat % extent);
        flat /= extent;
    }
    return name + shapeString(index);
}

inline std::string number(double v)
{
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.7g", v);
    return buffer;
}

inline bool allFinite(const Tensor& t)
{
    for (std::size_t i = 0; i < t.size(); ++i)
        if (!std::isfinite(t[i]))
            return false;
    return true;
}

inline double weightedSum(const Tensor& out, const Tensor& weights)
{
    double sum = 0.0;
    for (std::size_t i = 0; i < out.size(); ++i)
        sum += static_cast<double>(out[i]) * static_cast<double>(weights[i]);
    return sum;
}

} // namespace detail

// Runs a Train forward and backward on `input`, then compares every gradient (input and each
// parameter) with finite differences of L = sum(out .* R). Before backward() every gradient is
// filled with NaN, so one that backward() forgets to overwrite (or accumulates into) fails.
// For a Dense/Conv2D using its quantized weights, the "weight" gradient is checked against
// perturbations of the quantized tensor: with the straight-through estimator, param.grad is
// dL/dq(w).
inline GradCheckResult checkLayerGradients(Layer& layer, const Tensor& input, const GradCheckOptions& options = {})
{
    GradCheckResult result;
    auto fail = [&](const std::string& why) {
        result.ok = false;
        result.failure = layer.describe() + ": " + why;
        return result;
    };

    Tensor in = input;
    Tensor out;
    layer.forward(in, out, Pass::Train);
    if (!detail::allFinite(out))
        return fail("forward produced non-finite values");
    Rng rng(options.seed);
    Tensor weights(out.shape());
    for (std::size_t i = 0; i < weights.size(); ++i)
        weights[i] = rng.uniform(-1.0f, 1.0f);

    const float nan = std::numeric_limits<float>::quiet_NaN();
    const std::vector<Param*> params = layer.params();
    for (Param* p : params)
        p->grad.fill(nan);
    Tensor gradIn(in.shape());
    gradIn.fill(nan);
    layer.backward(in, out, weights, options.checkInput ? &gradIn : nullptr);

    struct Target {
        std::string name;
        Tensor* values;  // what gets perturbed
        Tensor analytic; // copied: later forwards must not be able to change it
    };
    std::vector<Target> targets;
    if (options.checkInput) {
        if (gradIn.shape() != in.shape())
            return fail("input gradient has shape " + gradIn.shapeString() + ", input " + in.shapeString());
        if (!detail::allFinite(gradIn))
            return fail("input gradient has non-finite values (not written by backward()?)");
        targets.push_back({"input", &in, gradIn});
    }
    QuantizableWeight* qw = layer.quantizableWeight();
    for (Param* p : params) {
        if (p->grad.shape() != p->value.shape())
            return fail("'" + p->name + "' gradient has shape " + p->grad.shapeString() + ", parameter "
                        + p->value.shapeString());
        if (!detail::allFinite(p->grad))
            return fail("'" + p->name + "' gradient has non-finite values (not written by backward()?)");
        Tensor* values = (qw && p == &qw->param && qw->useQuantized) ? &qw->quantized : &p->value;
        targets.push_back({p->name, values, p->grad});
    }

    auto loss = [&] {
        layer.forward(in, out, Pass::Train);
        return detail::weightedSum(out, weights);
    };
    const double h = options.step;
    for (Target& t : targets) {
        std::vector<std::size_t> order(t.values->size());
        std::iota(order.begin(), order.end(), std::size_t{0});
        if (options.maxCoordinates > 0 && order.size() > static_cast<std::size_t>(options.maxCoordinates)) {
            rng.shuffle(order);
            order.resize(static_cast<std::size_t>(options.maxCoordinates));
            std::sort(order.begin(), order.end());
        }
        Tensor& v = *t.values;
        for (std::size_t i : order) {
            if (options.skip && options.skip(t.name, i)) {
                ++result.skipped;
                continue;
            }
            const float x0 = v[i];
            // Central difference over [x0 - step, x0 + step], using the steps float actually took.
            auto slope = [&](double step) {
                v[i] = static_cast<float>(x0 + step);
                const double up = static_cast<double>(v[i]);
                const double lossUp = loss();
                v[i] = static_cast<float>(x0 - step);
                const double down = static_cast<double>(v[i]);
                const double lossDown = loss();
                return (lossUp - lossDown) / (up - down);
            };
            double numeric = slope(h);
            if (options.fourPoint)
                numeric = (4.0 * numeric - slope(2.0 * h)) / 3.0; // Richardson: cancels the h^2 term
            v[i] = x0;
            const double analytic = t.analytic[i];
            const double diff = std::fabs(analytic - numeric);
            const double allowed =
                options.absTolerance + options.relTolerance * std::max(std::fabs(analytic), std::fabs(numeric));
            const double error = diff / allowed;
            ++result.checked;
            if (!std::isfinite(numeric))
                return fail("non-finite finite difference at " + detail::coordinate(t.name, v.shape(), i));
            if (error > result.maxError || result.worst.empty()) {
                result.maxError = std::max(error, result.maxError);
                result.worst = detail::coordinate(t.name, v.shape(), i) + ": analytic " + detail::number(analytic)
                               + ", numeric " + detail::number(numeric) + ", |diff| " + detail::number(diff)
                               + " (allowed " + detail::number(allowed) + ")";
            }
        }
    }
    if (result.checked == 0)
        return fail("no coordinate was checked (all skipped?)");
    result.ok = result.maxError <= 1.0;
    return result;
}

// Skips inputs of a ReLU within `margin` of its kink at 0. The margin must exceed the largest
// perturbation (step, or 2 * step with the 4-point stencil).
inline std::function<bool(const std::string&, std::size_t)> skipReluKinks(const Tensor& input, float margin)
{
    return [input, margin](const std::string& tensor, std::size_t i) {
        return tensor == "input" && std::fabs(input[i]) < margin;
    };
}

// Skips inputs of a max pooling (size, stride) on (N, C, H, W) whose perturbation by less than `margin`
// could change which value wins a window: the winner when the runner-up is within margin, and any
// other value within margin of the winner.
inline std::function<bool(const std::string&, std::size_t)> skipMaxPoolTies(const Tensor& input, int size,
                                                                              int stride, float margin)
{
    std::vector<char> nearTie(input.size(), 0);
    const int h = input.dim(2);
    const int w = input.dim(3);
    const std::size_t planes = static_cast<std::size_t>(input.dim(0)) * static_cast<std::size_t>(input.dim(1));
    for (std::size_t p = 0; p < planes; ++p) {
        const std::size_t base = p * static_cast<std::size_t>(h) * static_cast<std::size_t>(w);
        for (int top = 0; top + size <= h; top += stride) {
            for (int left = 0; left + size <= w; left += stride) {
                std::vector<std::size_t> window;
                for (int i = 0; i < size; ++i)
                    for (int j = 0; j < size; ++j)
                        window.push_back(base + static_cast<std::size_t>((top + i) * w + left + j));
                std::size_t best = window[0];
                for (std::size_t k : window)
                    if (input[k] > input[best])
                        best = k;
                float runnerUp = -std::numeric_limits<float>::infinity();
                for (std::size_t k : window)
                    if (k != best)
                        runnerUp = std::max(runnerUp, input[k]);
                for (std::size_t k : window) {
                    const float gap = k == best ? input[best] - runnerUp : input[best] - input[k];
                    if (gap < margin)
                        nearTie[k] = 1;
                }
            }
        }
    }
    return [nearTie](const std::string& tensor, std::size_t i) { return tensor == "input" && nearTie[i] != 0; };
}

} // namespace sq::testing
