// C header export for microcontrollers: one self-contained C99 file with the packed weights,
// level tables, float parameters and a small portable inference function.
#pragma once

#include "core/io/stored_model.h"

#include <string>

namespace sq {

// The text of model.h: weights stay bit-packed (decoded weight by weight while computing), no
// dynamic memory, no library beyond <stdint.h> and <math.h>. Its comment block documents the
// entry points (sq_model_predict, sq_model_logits, sq_model_normalize) and
// SQ_MODEL_SCRATCH_FLOATS. Supports dense, conv (stride, padding), maxpool, bn, relu, flatten.
std::string cHeaderSource(const StoredModel& model);

// Atomic write of cHeaderSource(model).
void writeCHeader(const std::string& path, const StoredModel& model);

} // namespace sq
