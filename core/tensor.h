// Float32 tensors: a shape and a contiguous, SIMD-aligned, row-major buffer (batch first).
#pragma once

#include <Eigen/Core>

#include <cstddef>
#include <initializer_list>
#include <string>
#include <vector>

namespace sq {

using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixMap = Eigen::Map<MatrixRM, Eigen::AlignedMax>;
using ConstMatrixMap = Eigen::Map<const MatrixRM, Eigen::AlignedMax>;
using VectorMap = Eigen::Map<Eigen::VectorXf, Eigen::AlignedMax>;
using ConstVectorMap = Eigen::Map<const Eigen::VectorXf, Eigen::AlignedMax>;

// A tensor of any rank; activations are (N, C, H, W) or (N, F), weights as their layer defines.
// resize() keeps the allocation when the element count does not grow, so layers can reuse
// their workspaces from batch to batch without touching fresh pages.
class Tensor {
public:
    Tensor() = default;
    explicit Tensor(std::vector<int> shape) { resize(std::move(shape)); }
    Tensor(std::initializer_list<int> shape) { resize(std::vector<int>(shape)); }

    void resize(std::vector<int> shape);
    void setZero();
    void fill(float value);

    const std::vector<int>& shape() const { return shape_; }
    int rank() const { return static_cast<int>(shape_.size()); }
    int dim(int i) const { return shape_[static_cast<std::size_t>(i)]; }
    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

    float* data() { return data_.data(); }
    const float* data() const { return data_.data(); }
    float& operator[](std::size_t i) { return data_[i]; }
    float operator[](std::size_t i) const { return data_[i]; }

    // Views of the whole buffer: as a vector, or as a matrix whose rows are the first dimension.
    VectorMap vec() { return VectorMap(data(), static_cast<Eigen::Index>(size_)); }
    ConstVectorMap vec() const { return ConstVectorMap(data(), static_cast<Eigen::Index>(size_)); }
    MatrixMap matrix() { return MatrixMap(data(), dim(0), static_cast<Eigen::Index>(size_) / dim(0)); }
    ConstMatrixMap matrix() const
    {
        return ConstMatrixMap(data(), dim(0), static_cast<Eigen::Index>(size_) / dim(0));
    }

    // Elements per item of the first dimension (per sample for activations).
    std::size_t sampleSize() const { return shape_.empty() ? 0 : size_ / static_cast<std::size_t>(dim(0)); }

    std::string shapeString() const;

private:
    std::vector<int> shape_;
    std::size_t size_ = 0;
    std::vector<float, Eigen::aligned_allocator<float>> data_;
};

std::string shapeString(const std::vector<int>& shape);

} // namespace sq
