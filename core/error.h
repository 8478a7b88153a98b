// The single exception type of the engine: every failure names the file or parameter at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace sq {

// Thrown for every user-facing failure (bad file, bad hyperparameter, bad architecture text).
// The message is complete and meant to be shown as is: it names the file or parameter and the
// problem, e.g. "train-images-idx3-ubyte.gz: truncated payload (expected 47040000 bytes, got 812)".
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
};

} // namespace sq
