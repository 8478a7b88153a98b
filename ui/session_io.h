// Session files from the explorer: written with QSaveFile (atomic), read with core's validation,
// and where the recovery file of a run in progress lives.
#pragma once

#include "core/trainer_state.h"

#include <QString>

namespace sq::ui {

// Atomic write of encodeSessionFile(state); sq::Error naming the path on failure.
void saveSessionFile(const QString& path, const TrainerState& state);
// readSessionFile(): sq::Error naming the path for a missing, corrupt, foreign or newer file.
TrainerState loadSessionFile(const QString& path);

// The recovery file a training run rewrites after every epoch: recovery.sqs in the folder of the
// "recovery/folder" setting, by default QStandardPaths::AppDataLocation.
QString recoveryFilePath();

} // namespace sq::ui
