// Softmax cross-entropy over class logits, averaged over the batch.
#pragma once

#include "core/tensor.h"

#include <vector>

namespace sq {

struct LossResult {
    double loss = 0.0; // mean cross-entropy (nats)
    int correct = 0;   // samples whose largest logit is the label
};

// logits (N, K), labels in [0, K). Writes dLoss/dlogits into gradLogits (resized).
LossResult softmaxCrossEntropy(const Tensor& logits, const std::vector<int>& labels, Tensor& gradLogits);

// Index of the largest logit of each row (first on ties).
int argmaxRow(const Tensor& logits, int row);

} // namespace sq
