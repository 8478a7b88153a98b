#include "core/model.h"

#include "core/error.h"

#include <map>
#include <sstream>

namespace sq {

Model::Model(std::vector<std::unique_ptr<Layer>> layers, std::vector<int> inputSample, std::string architecture)
    : layers_(std::move(layers)), inputSample_(std::move(inputSample)), architecture_(std::move(architecture))
{
    if (layers_.empty())
        throw Error("model: the architecture has no layers");
    std::vector<int> shape = inputSample_;
    std::map<std::string, int> ordinal;
    for (auto& layer : layers_) {
        shape = layer->outputShape(shape);
        outputShapes_.push_back(shape);
        if (QuantizableWeight* w = layer->quantizableWeight())
            targets_.push_back({layer->kind() + std::to_string(++ordinal[layer->kind()]), layer.get(), w});
    }
    if (shape.size() != 1)
        throw Error("model: the last layer must output class scores (N, classes), got per-sample shape "
                    + shapeString(shape) + "; end the architecture with 'dense <classes>'");
    activations_.resize(layers_.size());
    bool trainableBefore = false;
    for (auto& layer : layers_) {
        needsGradIn_.push_back(trainableBefore);
        trainableBefore = trainableBefore || !layer->params().empty();
    }
}

void Model::initialize(Rng& rng)
{
    for (auto& layer : layers_)
        layer->initialize(rng);
}

const Tensor& Model::forward(const Tensor& input, Pass pass)
{
    const Tensor* x = &input;
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        layers_[i]->forward(*x, activations_[i], pass);
        x = &activations_[i];
    }
    return *x;
}

void Model::backward(const Tensor& input, const Tensor& gradLogits)
{
    const Tensor* gradOut = &gradLogits;
    for (std::size_t i = layers_.size(); i-- > 0;) {
        const Tensor& in = i == 0 ? input : activations_[i - 1];
        Tensor* gradIn = needsGradIn_[i] ? (gradOut == &gradA_ ? &gradB_ : &gradA_) : nullptr;
        layers_[i]->backward(in, activations_[i], *gradOut, gradIn);
        if (!gradIn)
            break; // no layer before this one has parameters
        gradOut = gradIn;
    }
}

std::vector<Param*> Model::params() const
{
    std::vector<Param*> out;
    for (const auto& layer : layers_)
        for (Param* p : layer->params())
            out.push_back(p);
    return out;
}

std::vector<Tensor*> Model::buffers() const
{
    std::vector<Tensor*> out;
    for (const auto& layer : layers_)
        for (Tensor* t : layer->buffers())
            out.push_back(t);
    return out;
}

std::size_t Model::parameterCount() const
{
    std::size_t n = 0;
    for (const Param* p : params())
        n += p->value.size();
    return n;
}

std::size_t Model::weightCount() const
{
    std::size_t n = 0;
    for (const auto& t : targets_)
        n += t.weight->param.value.size();
    return n;
}

std::string Model::summary() const
{
    std::ostringstream out;
    out << "input " << shapeString(inputSample_) << "\n";
    for (std::size_t i = 0; i < layers_.size(); ++i)
        out << "  " << layers_[i]->describe() << " -> " << shapeString(outputShapes_[i]) << "\n";
    out << parameterCount() << " parameters, " << weightCount() << " quantizable weights";
    return out.str();
}

} // namespace sq
