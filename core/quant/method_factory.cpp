#include "core/quant/method_factory.h"

#include "core/quant/cpq_method.h"
#include "core/quant/sq_method.h"
#include "core/quant/uniq_method.h"

namespace sq {

std::unique_ptr<QuantMethod> makeQuantMethod(const Model& model, const TrainConfig& config)
{
    switch (config.sq.mode) {
    case QuantMode::Uniq:
        return std::make_unique<UniqMethod>(model, config.uniq, config.sq.keepFloat);
    case QuantMode::Cpq: {
        CpqSettings cpq = config.cpq;
        cpq.seed = config.seed;
        return std::make_unique<CpqMethod>(model, cpq, config.sq.keepFloat);
    }
    case QuantMode::Float:
    case QuantMode::Binary:
    case QuantMode::Ternary:
    case QuantMode::Sq:
        break;
    }
    return std::make_unique<SqMethod>(model, config.sq);
}

} // namespace sq
