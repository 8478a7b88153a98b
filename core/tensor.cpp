#include "core/tensor.h"

#include "core/error.h"

#include <algorithm>

namespace sq {

void Tensor::resize(std::vector<int> shape)
{
    std::size_t n = 1;
    for (int d : shape) {
        if (d < 0)
            throw Error("tensor: negative dimension in shape " + sq::shapeString(shape));
        n *= static_cast<std::size_t>(d);
    }
    shape_ = std::move(shape);
    size_ = shape_.empty() ? 0 : n;
    if (data_.size() < size_)
        data_.resize(size_);
}

void Tensor::setZero() { std::fill_n(data_.data(), size_, 0.0f); }

void Tensor::fill(float value) { std::fill_n(data_.data(), size_, value); }

std::string Tensor::shapeString() const { return sq::shapeString(shape_); }

std::string shapeString(const std::vector<int>& shape)
{
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i)
            s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + ")";
}

} // namespace sq
