// Everything a trainer needs to continue a run exactly where it was: a plain value that sessions
// save to disk (core/io/session_file.h) and that the trainer keeps in memory as its last good
// state, to come back to when training diverges.
#pragma once

#include "core/history.h"
#include "core/tensor.h"
#include "core/train_config.h"

#include <cstdint>
#include <string>
#include <vector>

namespace sq {

// Sums over a run of batches (since the last history row, over the current epoch): a history row
// averages them, so a run resumed inside such a window must carry them over.
struct TrainingWindow {
    double crossEntropy = 0.0;
    double regularizer = 0.0;
    std::int64_t correct = 0;
    std::int64_t images = 0;
    int batches = 0;
    double seconds = 0.0;
    void add(double ce, double reg, int right, int count, double secs)
    {
        crossEntropy += ce;
        regularizer += reg;
        correct += right;
        images += count;
        ++batches;
        seconds += secs;
    }
};

// A live value, and whether the user's change has replaced its schedule or setting.
struct LiveValue {
    double value = 0.0;
    bool overridden = false;
};

// What identifies the training data a state was trained on: a session resumed on other data
// could not continue the same batches.
struct DataFingerprint {
    int trainCount = 0;
    int testCount = 0;
    std::vector<int> sampleShape; // (C, H, W)
    int classes = 0;
    std::uint32_t labelsCrc = 0; // CRC-32 of the training labels, in file order
};

struct TrainerState {
    TrainConfig config;
    DataFingerprint data;

    // The model: Model::params() values and Model::buffers() (BatchNorm statistics), in order.
    std::vector<Tensor> params;
    std::vector<Tensor> buffers;
    // The optimizer: Optimizer::stateTensors() in order (SGD velocity; Adam m then v) and its step
    // count (Adam's bias correction).
    std::vector<Tensor> optimizer;
    std::int64_t optimizerSteps = 0;
    // The quantization method's own state as QuantMethod::saveState() wrote it (its trainable
    // scalars, committed decisions, CPQ's sample counter: every later random draw follows from it
    // and the seed).
    std::string method;

    // Progress. The batch order needs no more: epoch e's order is drawn from (seed, e) alone.
    std::int64_t step = 0;
    int epoch = 0;            // 0-based current epoch
    bool epochStarted = false;
    int batchInEpoch = 0;     // batches of the current epoch done
    bool finished = false;

    LiveValue lambda;
    LiveValue gamma;
    LiveValue mu;
    LiveValue learningRate;

    TrainingWindow sinceRecord;
    TrainingWindow thisEpoch;
    double trainSeconds = 0.0;
    double evalSeconds = 0.0;

    RunHistory history;
};

} // namespace sq
