// The step of the MSE-optimal uniform quantizer for a unit Gaussian (UniQ's initialisation, SPEC §2.1).
#pragma once

namespace sq {

constexpr int kGaussianStepMaxBits = 8;

// s_b: the step Delta minimising E[(x - q(x))^2] for x ~ N(0, 1), where q rounds to the nearest
// of the 2^b levels (k + 1/2) * Delta, k = -2^(b-1) .. 2^(b-1) - 1, and clamps to the outermost.
// b in 1..8 (throws sq::Error naming --bits otherwise). Computed numerically once, then cached.
double gaussianOptimalStep(int bits);

// The mean squared error of that quantizer for step `delta` (closed form through the normal
// pdf and cdf); gaussianOptimalStep() minimises it.
double gaussianQuantizerMse(int bits, double delta);

} // namespace sq
