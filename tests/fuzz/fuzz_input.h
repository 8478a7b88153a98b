// Helpers for fuzz targets: the readers under test take file paths, so each input is handed to
// them as an in-memory file (memfd) under /proc/self/fd, with no disk traffic between runs.
#pragma once

#include "core/error.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace sq::fuzz {

class MemoryFile {
public:
    MemoryFile(const std::uint8_t* data, std::size_t size) : fd_(memfd_create("sq-fuzz", 0))
    {
        if (fd_ < 0)
            throw std::runtime_error("memfd_create failed");
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::write(fd_, data + done, size - done);
            if (n <= 0)
                throw std::runtime_error("memfd write failed");
            done += static_cast<std::size_t>(n);
        }
    }
    ~MemoryFile() { ::close(fd_); }
    MemoryFile(const MemoryFile&) = delete;
    MemoryFile& operator=(const MemoryFile&) = delete;

    std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

private:
    int fd_;
};

// Runs `body`; sq::Error is the readers' documented answer to bad input and ends the run quietly.
// Anything else (another exception, a crash, a sanitizer report) is a finding.
template <typename Body>
int expectOnlySqErrors(Body&& body)
{
    try {
        body();
    } catch (const sq::Error&) {
    }
    return 0;
}

} // namespace sq::fuzz
