// Smart Quantization as a training method: per-layer alpha and beta, search and commit phases,
// and the fixed-depth modes (float, binary, ternary) that share its engine (SPEC §1).
#pragma once

#include "core/model.h"
#include "core/quant/quant_method.h"
#include "core/quant/quant_mode.h"
#include "core/quant/sq_regularizer.h"

#include <set>
#include <string>
#include <vector>

namespace sq {

struct SqSettings {
    QuantMode mode = QuantMode::Sq; // the run's mode; SqMethod runs float, binary, ternary and sq
    int p = 2;
    double betaInit = kBetaSwitchDefault + 0.01;
    double betaSwitch = kBetaSwitchDefault;
    float alphaLrMultiplier = 1.0f;
    float betaLrMultiplier = 1.0f;
    std::set<std::string> keepFloat; // layer names ("dense1") that stay float32 (every method)
};

class SqMethod final : public QuantMethod {
public:
    // Initialises alpha_l = mean|w_l| from the model's current weights.
    SqMethod(const Model& model, SqSettings settings);

    std::string name() const override { return toString(settings_.mode); }
    std::vector<OptimParam> params() override;
    void beginStep() override;
    double endStep(const StepControls& live) override;
    void afterOptimizerStep() override;
    void commit() override;
    bool committed() const override { return committed_; }
    void setQuantizedForward(bool on) override;
    std::vector<LayerQuantState> layerStates(bool statistics = true) const override;
    void saveState(BinaryWriter& out) const override;
    void loadState(BinaryReader& in) override;

    const SqSettings& settings() const { return settings_; }

private:
    enum class Depth { Float, Binary, Ternary };

    struct Layer {
        QuantTarget target;
        bool keepFloat = false;
        Param alpha;
        Param beta;
        Depth committedDepth = Depth::Float;
    };

    Depth depthOf(const Layer& layer) const;        // the depth q(w) uses now
    Depth storageDepth(const Layer& layer) const;   // what the layer is stored as (float mode: float)
    SqShape shapeOf(const Layer& layer) const;      // the regularizer's shape now
    float quantizedDelta(const Layer& layer) const; // zero-basin half-width used by q(w)
    void writeQuantized(Layer& layer) const;
    float alphaOf(const Layer& layer) const;
    bool regularized(const Layer& layer) const;

    SqSettings settings_;
    std::vector<Layer> layers_;
    bool committed_ = false;
};

} // namespace sq
