// The interface every weight-quantization method implements, so the trainer and the views stay
// method-agnostic (SQ, UniQ and CPQ/DropBits sit behind it; core/quant/method_factory.h makes them).
#pragma once

#include "core/optimizer.h"

#include <string>
#include <vector>

namespace sq {

class BinaryReader;
class BinaryWriter;

// What a method reports about one quantizable layer (for snapshots, history and summaries).
struct LayerQuantState {
    std::string name;          // "dense1"
    std::string description;   // "dense 784->256"
    std::string method;        // "sq" (also float/binary/ternary modes), "uniq" or "cpq"
    std::size_t weights = 0;
    // "float", "binary" (two symmetric levels), "ternary" ({-a, 0, +a}) or "<b>-bit" (e.g. UniQ's
    // "2-bit": four levels without zero; CPQ's "3-bit": seven levels with zero).
    std::string decision;
    int bits = 32;             // storage bits per weight under the current decision
    bool keepFloat = false;    // excluded from quantization by the user
    bool committed = false;    // depth or bit-length frozen (commit phase)
    float alpha = 0.0f;        // grid scale: the largest level magnitude (SQ's alpha)
    float beta = 0.0f;         // SQ shape parameter (0 for other methods)
    float delta = 0.0f;        // SQ zero-basin half-width (0 when binary and for other methods)
    float step = 0.0f;         // UniQ's Delta or CPQ's s: the spacing of the levels (0 for SQ)
    std::vector<float> levels; // the quantization grid q(w) uses now, ascending
    // Shares of weights quantized to each sign (negative, zero, positive); sum to 1.
    double shareNegative = 0.0;
    double shareZero = 0.0;
    double sharePositive = 0.0;
    std::vector<double> levelShares; // UniQ and CPQ: share of weights at each of `levels`
    double quantError = 0.0;   // ||w - q(w)||^2 / ||w||^2
    // CPQ only (SPEC §2.2): the maximum bit-length B; P(keep) of the groups 3..B in order (group j
    // at index j - 3); and the levels of the groups the current decision drops, ascending.
    int maxBits = 0;
    std::vector<float> keepProbability;
    std::vector<float> droppedLevels;
};

// The live values a method reads at each step, pulled from sq::Controls (or their schedules) by
// the trainer: SQ uses lambda and gamma, CPQ the memory pressure mu, UniQ none.
struct StepControls {
    double lambda = 0.0;
    double gamma = 0.0;
    double mu = 0.0;
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
    // the latent weights and of the method's params, and adds the gradient of the method's own
    // loss term (SQ: lambda * sum_l R_l; CPQ: the memory pressure). Returns that term's value.
    virtual double endStep(const StepControls& live) = 0;
    // After the optimizer step: projects the method's params back to their domain.
    virtual void afterOptimizerStep() = 0;

    // Freezes every layer's depth (SQ) or bit-length (CPQ) and trains through the
    // straight-through estimator from then on.
    virtual void commit() = 0;
    virtual bool committed() const = 0;

    // Quantized evaluation: forward with q(w) under the current decisions (true) or with the
    // float weights (false). The next beginStep() restores what training needs.
    virtual void setQuantizedForward(bool on) = 0;

    // With statistics = false the per-weight passes (shares, quantization error) are skipped,
    // for callers that need only the decisions and scalars on the training hot path.
    virtual std::vector<LayerQuantState> layerStates(bool statistics = true) const = 0;

    // Sessions and the last good state (core/trainer_state.h): the method's state beyond the
    // model's weights, enough to continue training exactly (its params' values, committed
    // decisions, counters). loadState() reads what saveState() wrote for the same settings and
    // model; a mismatch or a malformed value is an sq::Error from the reader, and then nothing
    // has changed.
    virtual void saveState(BinaryWriter& out) const = 0;
    virtual void loadState(BinaryReader& in) = 0;
};

} // namespace sq
