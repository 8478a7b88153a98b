// What every quantization method does alike for its layers: the identity part of a layer's
// reported state, and switching the q(w) forward on and off.
#pragma once

#include "core/model.h"
#include "core/quant/quant_method.h"

#include <string>

namespace sq {

// name, description, method, weight count and keep-float flag; a layer kept in float32 also gets
// its decision ("float", 32 bits), the rest is the method's to fill.
LayerQuantState layerIdentity(const QuantTarget& target, const std::string& method, bool keepFloat);

// Every layer not kept in float multiplies by q(w) (written first by write(layer)) or by w.
template <class Layers, class Write>
void setQuantizedForwardOf(Layers& layers, bool on, const Write& write)
{
    for (auto& layer : layers) {
        if (layer.keepFloat)
            continue;
        if (on)
            write(layer);
        layer.target.weight->useQuantized = on;
    }
}

} // namespace sq
