// UniQ as a training method (SPEC §2.1): b bits per layer and a trainable step Delta with the
// LSQ-scaled gradient; q(w) in the forward pass from the first step, no search phase.
#pragma once

#include "core/model.h"
#include "core/quant/quant_method.h"
#include "core/quant/uniq_quantizer.h"

#include <set>
#include <string>
#include <vector>

namespace sq {

constexpr int kUniqMaxBits = 8;
constexpr float kUniqStepMin = 1e-8f;

struct UniqSettings {
    int bits = 2;                // every quantized layer, unless layerBits is given
    std::vector<int> layerBits;  // one per quantized (not keep-float) layer, in model order
    float stepLrMultiplier = 1.0f;
};

class UniqMethod final : public QuantMethod {
public:
    // Initialises Delta_l = std(w_l) * s_b (population std, s_b from gaussianOptimalStep()).
    // Throws sq::Error naming --bits, --layer-bits or --keep-float for settings the model cannot take.
    UniqMethod(const Model& model, UniqSettings settings, const std::set<std::string>& keepFloat);

    std::string name() const override { return "uniq"; }
    std::vector<OptimParam> params() override;
    void beginStep() override;
    double endStep(const StepControls& live) override;
    void afterOptimizerStep() override;
    // UniQ has no depth to search: committing only marks the layers as committed.
    void commit() override { committed_ = true; }
    bool committed() const override { return committed_; }
    void setQuantizedForward(bool on) override;
    std::vector<LayerQuantState> layerStates(bool statistics = true) const override;
    void saveState(BinaryWriter& out) const override;
    void loadState(BinaryReader& in) override;

private:
    struct Layer {
        QuantTarget target;
        bool keepFloat = false;
        int bits = 32;
        Param step;
        UniqGrid grid() const { return {step.value[0], bits}; }
    };

    void writeQuantized(Layer& layer) const;

    UniqSettings settings_;
    std::vector<Layer> layers_;
    bool committed_ = false;
};

} // namespace sq
