#include "core/quant/quant_mode.h"

#include "core/error.h"

namespace sq {

QuantMode parseQuantMode(const std::string& text)
{
    if (text == "float")
        return QuantMode::Float;
    if (text == "binary")
        return QuantMode::Binary;
    if (text == "ternary")
        return QuantMode::Ternary;
    if (text == "sq")
        return QuantMode::Sq;
    if (text == "uniq")
        return QuantMode::Uniq;
    if (text == "cpq")
        return QuantMode::Cpq;
    throw Error("--mode: unknown mode '" + text + "' (expected float, binary, ternary, sq, uniq or cpq)");
}

std::string toString(QuantMode mode)
{
    switch (mode) {
    case QuantMode::Float:
        return "float";
    case QuantMode::Binary:
        return "binary";
    case QuantMode::Ternary:
        return "ternary";
    case QuantMode::Sq:
        return "sq";
    case QuantMode::Uniq:
        return "uniq";
    case QuantMode::Cpq:
        return "cpq";
    }
    return "sq";
}

bool isSqFamily(QuantMode mode) { return mode != QuantMode::Uniq && mode != QuantMode::Cpq; }

} // namespace sq
