// The interface every weight-quantization method implements, so the trainer and the views stay
// method-agnostic (SQ now; UniQ and CPQ/DropBits will sit beside it).
#pragma once

#include "core/optimizer.h"

#include <string>
#include <vector>

namespace sq {

// What a method reports about one quantizable layer (for snapshots, history and summaries).
struct LayerQuantState {
    std::string name;          // "dense1"
    std::string description;   // "dense 784->256"
    std::size_t weights = 0;
    std::string decision;      // "binary", "ternary" or "float"
    int bits = 32;             // storage bits per weight under the current decision
    bool keepFloat = false;    // excluded from quantization by the user
    bool committed = false;    // depth frozen (commit phase)
    float alpha = 0.0f;        // grid scale
    float beta = 0.0f;         // SQ shape parameter
    float delta = 0.0f;        // zero-basin half-width (0 when binary)
    std::vector<float> levels; // the quantization grid, ascending
    // Shares of weights quantized to each sign (negative, zero, positive); sum to 1.
    double shareNegative = 0.0;
    double shareZero = 0.0;
    double sharePositive = 0.0;
    double quantError = 0.0;   // ||w - q(w)||^2 / ||w||^2
};

class QuantMethod {
public:
    virtual ~QuantMethod() = default;

    virtual std::string name() const = 0;
    // The method's trainable state (e.g. SQ's alpha and beta), optimized with the weights.
    virtual std::vector<OptimParam> params() = 0;

    // Before a training forward pass: writes q(w) and switches the forward to it on the layers
    // that train through the straight-through estimator in the current phase.
    virtual void beginStep() = 0;
    // After backward: turns the gradients with respect to the forward weights into gradients of
    // the latent weights and of the method's params, and adds lambda * the regularizer's
    // gradient. Returns lambda * sum_l R_l (the regularizer's share of the loss).
    virtual double endStep(double lambda, double gamma) = 0;
    // After the optimizer step: projects the method's params back to their domain.
    virtual void afterOptimizerStep() = 0;

    // Freezes every layer's depth and switches training to the straight-through estimator.
    virtual void commit() = 0;
    virtual bool committed() const = 0;

    // Quantized evaluation: forward with q(w) under the current decisions (true) or with the
    // float weights (false). The next beginStep() restores what training needs.
    virtual void setQuantizedForward(bool on) = 0;

    // With statistics = false the per-weight passes (shares, quantization error) are skipped,
    // for callers that need only the decisions and scalars on the training hot path.
    virtual std::vector<LayerQuantState> layerStates(bool statistics = true) const = 0;
};

} // namespace sq
