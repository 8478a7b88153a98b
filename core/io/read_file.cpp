#include "core/io/read_file.h"

#include "core/error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace sq {

std::string readFileBounded(const std::string& path, std::size_t maxBytes)
{
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(status))
        throw Error(path + ": no such file");
    if (!std::filesystem::is_regular_file(status))
        throw Error(path + ": not a regular file");
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file)
        throw Error(path + ": cannot open: " + std::strerror(errno));
    // Read in chunks rather than trusting the size the file system reports (it can change).
    std::string out;
    char buffer[1 << 16];
    while (true) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
        if (n > 0) {
            if (out.size() + n > maxBytes)
                throw Error(path + ": larger than " + std::to_string(maxBytes)
                            + " bytes, too large for this kind of file");
            out.append(buffer, n);
        }
        if (n < sizeof buffer) {
            if (std::ferror(file.get()))
                throw Error(path + ": read failed: " + std::strerror(errno));
            break;
        }
    }
    return out;
}

} // namespace sq
