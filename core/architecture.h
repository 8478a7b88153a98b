// Model descriptions: the presets (SPEC §5) and the short architecture text users write.
//
// Grammar: items separated by commas or new lines, each one of
//   dense N | conv N KxK [pad P] [stride S] | maxpool K [stride S] | bn | relu | flatten
// e.g. "conv 32 3x3 pad 1, bn, relu, maxpool 2, dense 10". Dense flattens its input itself.
#pragma once

#include "core/model.h"

#include <string>
#include <vector>

namespace sq {

struct LayerSpec {
    std::string kind; // dense, conv, maxpool, bn, relu, flatten
    int size = 0;     // dense: units; conv: output channels; maxpool: window
    int kernel = 0;   // conv
    int padding = 0;  // conv
    int stride = 1;   // conv, maxpool (maxpool's default is its window)
    std::string text; // the item as written, for error messages
};

// Syntax only; throws sq::Error naming the item ("--arch: item 3 'conv 32 3x3 pad': ...").
std::vector<LayerSpec> parseArchitecture(const std::string& text);

std::vector<std::string> presetNames();
// The architecture text of a preset; throws sq::Error listing the presets for an unknown name.
std::string presetArchitecture(const std::string& name);
// The input sample shape a preset is defined for (SPEC §5).
std::vector<int> presetInputShape(const std::string& name);

// Builds (but does not initialise) a model for inputs of `inputSample` and `classes` outputs.
// Shape errors name the item that does not fit.
Model buildModel(const std::string& architectureText, const std::vector<int>& inputSample, int classes);

// A preset by name, refusing a dataset whose sample shape is not the preset's.
Model buildPreset(const std::string& name, const std::vector<int>& inputSample, int classes);

} // namespace sq
