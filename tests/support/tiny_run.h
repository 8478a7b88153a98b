// The smallest useful training run for UI and threading tests: a two-layer model on the IDX
// fixture, one thread, snapshots every other batch (so views and spies get plenty of them).
#pragma once

#include "core/train_config.h"

#include <QString>

namespace sq::testing {

inline TrainConfig tinyRunConfig(const QString& datasetDir, int epochs)
{
    TrainConfig c;
    c.datasetDir = datasetDir.toStdString();
    c.arch = "dense 32, bn, relu, dense 10";
    c.epochs = epochs;
    c.commitEpochs = 1;
    c.batchSize = 16;
    c.threads = 1;
    c.recalibrationImages = 128;
    c.snapshotEveryBatches = 2;
    return c;
}

} // namespace sq::testing
