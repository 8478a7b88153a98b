#include "core/quant/layer_common.h"

namespace sq {

LayerQuantState layerIdentity(const QuantTarget& target, const std::string& method, bool keepFloat)
{
    LayerQuantState s;
    s.name = target.name;
    s.description = target.layer->describe();
    s.method = method;
    s.weights = target.weight->param.value.size();
    s.keepFloat = keepFloat;
    if (keepFloat) {
        s.decision = "float";
        s.bits = 32;
    }
    return s;
}

} // namespace sq
