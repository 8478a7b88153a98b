#include "core/io/atomic_file.h"

#include "core/error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace sq {

namespace {

std::string systemError() { return std::strerror(errno); }

} // namespace

void writeFileAtomically(const std::string& path, const std::string& contents)
{
    std::string tmp = path + ".tmp-XXXXXX";
    const int fd = ::mkstemp(tmp.data());
    if (fd < 0)
        throw Error(path + ": cannot create a temporary file beside it: " + systemError());
    const auto fail = [&](const std::string& what) {
        const std::string reason = systemError();
        ::close(fd);
        ::unlink(tmp.c_str());
        throw Error(path + ": " + what + ": " + reason);
    };
    const char* p = contents.data();
    std::size_t left = contents.size();
    while (left > 0) {
        const ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail("write failed");
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0)
        fail("cannot flush to disk");
    if (::close(fd) != 0) {
        const std::string reason = systemError();
        ::unlink(tmp.c_str());
        throw Error(path + ": close failed: " + reason);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string reason = systemError();
        ::unlink(tmp.c_str());
        throw Error(path + ": cannot replace it: " + reason);
    }
}

void makeDirectories(const std::string& path)
{
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec || !std::filesystem::is_directory(path))
        throw Error(path + ": cannot create the folder: " + (ec ? ec.message() : "not a directory"));
}

} // namespace sq
