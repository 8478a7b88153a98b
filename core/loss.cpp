#include "core/loss.h"

#include <cmath>

namespace sq {

int argmaxRow(const Tensor& logits, int row)
{
    const int k = logits.dim(1);
    const float* z = logits.data() + static_cast<std::size_t>(row) * static_cast<std::size_t>(k);
    int best = 0;
    for (int j = 1; j < k; ++j)
        if (z[j] > z[best])
            best = j;
    return best;
}

LossResult softmaxCrossEntropy(const Tensor& logits, const std::vector<int>& labels, Tensor& gradLogits)
{
    const int n = logits.dim(0);
    const int k = logits.dim(1);
    gradLogits.resize(logits.shape());
    LossResult result;
    const float invN = 1.0f / static_cast<float>(n);
    for (int i = 0; i < n; ++i) {
        const float* z = logits.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(k);
        float* g = gradLogits.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(k);
        const int best = argmaxRow(logits, i);
        // Shift by the maximum so exp() cannot overflow.
        const float zmax = z[best];
        double sum = 0.0;
        for (int j = 0; j < k; ++j) {
            g[j] = std::exp(z[j] - zmax);
            sum += g[j];
        }
        const int label = labels[static_cast<std::size_t>(i)];
        result.loss += std::log(sum) - static_cast<double>(z[label] - zmax);
        const float inv = static_cast<float>(1.0 / sum);
        for (int j = 0; j < k; ++j)
            g[j] = g[j] * inv * invN;
        g[label] -= invN;
        if (best == label)
            ++result.correct;
    }
    result.loss /= n;
    return result;
}

} // namespace sq
