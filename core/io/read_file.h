// Reading a whole file of untrusted size: refused with a clear error beyond a caller's bound,
// so that a huge or endless file (a FIFO, /dev/zero) cannot exhaust memory.
#pragma once

#include <cstddef>
#include <string>

namespace sq {

// The file's bytes; sq::Error naming the file when it cannot be opened or read, is not a regular
// file, or holds more than maxBytes.
std::string readFileBounded(const std::string& path, std::size_t maxBytes);

} // namespace sq
