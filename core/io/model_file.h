// The native model file (.sqm): a StoredModel bit-packed, versioned and checksummed
// (format: docs/model-file.md).
#pragma once

#include "core/io/stored_model.h"

#include <cstdint>
#include <string>

namespace sq {

inline constexpr std::uint32_t kModelFileVersion = 1;
// Bytes before the body (magic, version, flags, body length) and after it (CRC-32).
inline constexpr std::size_t kModelFileHeaderBytes = 24;
inline constexpr std::size_t kModelFileTrailerBytes = 4;

// The file's bytes. Throws sq::Error if the model cannot be stored (a level table longer than
// 2^bits, a code outside its table, a name longer than 255 bytes).
std::string encodeModelFile(const StoredModel& model);

// Parses and validates a whole file: magic, version (a newer one is refused as such), length,
// CRC-32, every count and size (before allocating), level tables, codes, and that the stored
// tensors are exactly those of the stored architecture. `name` (the path) starts every sq::Error
// message. Returns the model only when all of it is valid.
StoredModel decodeModelFile(const std::string& bytes, const std::string& name);

// Atomic write (temp file + rename) of encodeModelFile(model).
void writeModelFile(const std::string& path, const StoredModel& model);
// Reads and decodes `path`; files over 1 GiB are refused before reading.
StoredModel readModelFile(const std::string& path);

} // namespace sq
