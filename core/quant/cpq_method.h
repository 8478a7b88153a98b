// CPQ with DropBits as a training method (SPEC §2.2, this project's specification of it, labelled
// "CPQ (DropBits)"): a trainable step per layer, DropBits over bit groups, and keep-gates that learn
// each layer's bit-length under the memory pressure mu; commit freezes the bit-lengths.
#pragma once

#include "core/model.h"
#include "core/quant/cpq_quantizer.h"
#include "core/quant/cpq_sampling.h"
#include "core/quant/quant_method.h"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace sq {

constexpr float kCpqStepMin = 1e-8f;
// The memory pressure mu by default. Adam moves a keep-gate logit by at most about lr per step, so
// what mu decides is whether the pressure mu * (n_l/N) * P(1-P) outweighs the task's gradient on
// that logit. On mlp/Fashion-MNIST (10k-image runs, B = 4) mu = 0 leaves the logits where they
// start, mu = 0.03 already drifts the large layers' group-4 logits down at about 0.6 lr per step,
// and mu >= 0.3 at the full lr: 0.05 is chosen so that over the reference run's ~3,300 search steps
// the large layers (dense1, dense2: 98% of the weights) give up group 4 while the small last layer,
// whose pressure is scaled by its 1% share, keeps B bits (an extrapolation, see the report).
constexpr double kCpqMuDefault = 0.05;

struct CpqSettings {
    int maxBits = 4;           // B >= 2
    double dropP = 0.3;        // DropBits' p
    double temperature = 1.0;  // tau of the multi-class straight-through estimator, in (0, 1]
    // Keep-gate logits start here: P(keep) = Sig(2) = 0.88, so every layer starts at B bits and
    // mu has to argue a group away.
    double gateLogitInit = 2.0;
    float stepLrMultiplier = 1.0f;
    float gateLrMultiplier = 1.0f;
    std::uint64_t seed = 0;    // DropBits and gate noise; the trainer passes the run's seed
};

class CpqMethod final : public QuantMethod {
public:
    // s_l = std(w_l) * s_B like UniQ's Delta for B bits. Throws sq::Error naming --max-bits,
    // --drop-p or --keep-float.
    CpqMethod(const Model& model, CpqSettings settings, const std::set<std::string>& keepFloat);

    std::string name() const override { return "cpq"; }
    std::vector<OptimParam> params() override;
    // Search: samples the gates and DropBits, writes argmax q(w). Commit: the frozen grid.
    void beginStep() override;
    // Multi-class STE gradients to w, s and the gate logits, plus mu * memory term.
    double endStep(const StepControls& live) override;
    void afterOptimizerStep() override;
    // Each layer keeps the groups whose keep probability is >= 0.5 (nested) from now on.
    void commit() override;
    bool committed() const override { return committed_; }
    void setQuantizedForward(bool on) override;
    std::vector<LayerQuantState> layerStates(bool statistics = true) const override;
    void saveState(BinaryWriter& out) const override;
    void loadState(BinaryReader& in) override;

    const CpqSettings& settings() const { return settings_; }
    // The bit-length layer i would be stored with now (B for a keep-float layer's grid).
    int decidedBits(std::size_t layer) const;
    // Steps sampled so far: with the seed, it fixes every later draw (sessions save it).
    std::uint64_t sampleCounter() const { return counter_; }
    void setSampleCounter(std::uint64_t counter) { counter_ = counter; }
    // What the last beginStep() used for layer i: its grid (step, gates) and each weight's
    // highest group kept by DropBits (empty in the commit phase: none dropped).
    const CpqGrid& lastGrid(std::size_t layer) const { return layers_[layer].grid; }
    const std::vector<std::uint8_t>& lastHighestGroups(std::size_t layer) const { return layers_[layer].highest; }

private:
    struct Layer {
        QuantTarget target;
        bool keepFloat = false;
        Param step;
        Param gateLogits;               // groups 3..B, index j - 3 (empty for B = 2)
        std::vector<float> frozenLogits; // at commit
        int committedBits = 0;
        CpqGrid grid;                    // this step's
        std::array<float, kCpqMaxBits + 1> dzDlogit{};
        std::vector<std::uint8_t> highest; // this step's DropBits draw per weight
        CpqLayerCache cache;
    };

    int bitsOf(const Layer& layer) const;
    CpqGrid decisionGrid(const Layer& layer) const; // the grid q(w) is evaluated and stored with
    void writeEvaluation(Layer& layer) const;

    CpqSettings settings_;
    DropBits dropBits_;
    std::vector<Layer> layers_;
    std::size_t modelWeights_ = 0;
    std::uint64_t counter_ = 0;
    bool committed_ = false;
};

} // namespace sq
