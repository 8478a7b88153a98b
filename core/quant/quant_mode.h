// The training modes a run can choose: SQ and its fixed-depth variants (SPEC §1), UniQ and CPQ (SPEC §2).
#pragma once

#include <string>

namespace sq {

enum class QuantMode { Float, Binary, Ternary, Sq, Uniq, Cpq };
QuantMode parseQuantMode(const std::string& text); // float|binary|ternary|sq|uniq|cpq
std::string toString(QuantMode mode);
// True for the modes SqMethod runs (float, binary, ternary, sq).
bool isSqFamily(QuantMode mode);

} // namespace sq
