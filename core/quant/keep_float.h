// Which quantizable layers the user keeps in float32 (--keep-float: layer names, or first/last),
// resolved once for every method so they all accept and refuse the same lists.
#pragma once

#include "core/model.h"

#include <set>
#include <string>
#include <vector>

namespace sq {

// One flag per model.quantTargets() entry. Throws sq::Error naming --keep-float for a name that
// matches no quantizable layer.
std::vector<bool> resolveKeepFloat(const std::vector<QuantTarget>& targets, const std::set<std::string>& keepFloat);

} // namespace sq
