// Atomic file writes: readers see the old file or the complete new one, never a half-written one.
#pragma once

#include <string>

namespace sq {

// Writes `contents` to a temporary file beside `path`, flushes it to disk and renames it over
// `path`. On any failure the temporary is removed, `path` is untouched and sq::Error names it.
void writeFileAtomically(const std::string& path, const std::string& contents);

// Creates a folder and its parents; sq::Error naming it when that fails.
void makeDirectories(const std::string& path);

} // namespace sq
