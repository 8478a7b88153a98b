// Makes the quantization method a run's mode asks for (SPEC §1 and §2), so the trainer names none.
#pragma once

#include "core/model.h"
#include "core/quant/quant_method.h"
#include "core/train_config.h"

#include <memory>

namespace sq {

// SqMethod for float/binary/ternary/sq, UniqMethod for uniq, CpqMethod for cpq, initialised from
// the model's current weights. Throws sq::Error naming the flag the model cannot take.
std::unique_ptr<QuantMethod> makeQuantMethod(const Model& model, const TrainConfig& config);

} // namespace sq
