// history.csv read back into the per-epoch records the run wrote (format: docs/run-files.md), for
// comparing runs' curves.
#pragma once

#include "core/history.h"

#include <string>
#include <string_view>

namespace sq {

// Throws sq::Error "<source> line L, column '<name>': <problem>" for a missing column, a row
// with the wrong number of fields (a truncated file), a malformed or out-of-range number, or
// files and headers beyond fixed size limits. Only `epochs` of the result is filled. Losses and
// accuracies may be nan (a diverged run writes them so); counts and bits may not.
RunHistory parseHistoryCsv(std::string_view text, const std::string& source);
RunHistory readHistoryCsv(const std::string& path);

} // namespace sq
