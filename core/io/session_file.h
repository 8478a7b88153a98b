// The session file (.sqs): a TrainerState saved to continue a run later exactly where it stopped,
// versioned and checksummed like the model file (format: docs/session-file.md).
#pragma once

#include "core/trainer_state.h"

#include <cstdint>
#include <string>

namespace sq {

class Trainer;

// 2: the blow-up and collapse windows in the settings (version 1 files load with their defaults).
inline constexpr std::uint32_t kSessionFileVersion = 2;

// The file's bytes. Throws sq::Error if a value cannot be stored (an over-long string).
std::string encodeSessionFile(const TrainerState& state);

// Parses and validates a whole file: magic, version (a newer one is refused as such), flags,
// length, CRC-32, then every count and size against the bytes left before allocating, enum values
// and settings (TrainConfig::validate). Every sq::Error starts with `name` (the path). Returns the
// state only when all of it is valid.
TrainerState decodeSessionFile(const std::string& bytes, const std::string& name);

// Atomic write (temp file + rename) of encodeSessionFile(state).
void writeSessionFile(const std::string& path, const TrainerState& state);
// Reads and decodes `path`; files over 4 GiB are refused before reading.
TrainerState readSessionFile(const std::string& path);

// trainer.restoreState(state) with `name` (the session's path) in front of any sq::Error; the
// trainer must have been built from state.config on the session's dataset.
void restoreSession(Trainer& trainer, const TrainerState& state, const std::string& name);

} // namespace sq
