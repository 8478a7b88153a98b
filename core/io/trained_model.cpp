#include "core/io/trained_model.h"

#include <algorithm>

namespace sq {

StoredModel captureTrainedModel(Trainer& trainer, const std::vector<float>& inputMean,
                                const std::vector<float>& inputStddev)
{
    const auto states = trainer.method().layerStates();
    const bool quantized = std::any_of(states.begin(), states.end(), [](const auto& s) { return s.bits < 32; });
    StoredModel stored;
    const auto capture = [&](const Model& model) {
        stored = captureModel(model, trainer.method().layerStates(), trainer.method().name(), inputMean,
                              inputStddev);
    };
    if (quantized)
        trainer.withQuantizedModel(capture);
    else
        // No layer trains through q(w) then, so the statistics training left are the ones the
        // float accuracy was measured with (Trainer::evaluate re-estimates them only otherwise).
        capture(trainer.model());
    return stored;
}

} // namespace sq
