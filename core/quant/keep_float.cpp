#include "core/quant/keep_float.h"

#include "core/error.h"

namespace sq {

std::vector<bool> resolveKeepFloat(const std::vector<QuantTarget>& targets, const std::set<std::string>& keepFloat)
{
    std::vector<bool> flags(targets.size(), false);
    std::set<std::string> unknown = keepFloat;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const std::string& name = targets[i].name;
        const bool first = i == 0;
        const bool last = i + 1 == targets.size();
        flags[i] = keepFloat.count(name) || (first && keepFloat.count("first")) || (last && keepFloat.count("last"));
        unknown.erase(name);
    }
    unknown.erase("first");
    unknown.erase("last");
    if (!unknown.empty()) {
        std::string names;
        for (const auto& t : targets)
            names += (names.empty() ? "" : ", ") + t.name;
        throw Error("--keep-float: no quantizable layer named '" + *unknown.begin() + "' (layers: " + names
                    + ", or first/last)");
    }
    return flags;
}

} // namespace sq
