#include "core/data/byte_source.h"

#include "core/error.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace sq {

namespace {

// One deflate code of 2 bits can stand for at most 258 bytes, so a gzip file never inflates to
// more than 1032 times its own size; the header and trailer only make the bound looser.
constexpr std::uint64_t kMaxDeflateRatio = 1032;
constexpr std::size_t kChunk = std::size_t{1} << 20;

} // namespace

ByteSource::ByteSource(std::string path) : path_(std::move(path))
{
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status status = fs::status(path_, ec);
    if (status.type() == fs::file_type::not_found)
        throw Error(path_ + ": file not found");
    if (ec)
        throw Error(path_ + ": cannot access (" + ec.message() + ")");
    if (!fs::is_regular_file(status))
        throw Error(path_ + ": not a regular file");
    fileSize_ = fs::file_size(path_, ec);
    if (ec)
        throw Error(path_ + ": cannot read the file size (" + ec.message() + ")");

    file_ = std::fopen(path_.c_str(), "rb");
    if (!file_)
        throw Error(path_ + ": cannot open (" + std::strerror(errno) + ")");
    unsigned char magic[2] = {0, 0};
    const std::size_t got = std::fread(magic, 1, 2, file_);
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        std::fclose(file_);
        file_ = nullptr;
        gz_ = gzopen(path_.c_str(), "rb");
        if (!gz_)
            throw Error(path_ + ": cannot open gzip file (" + std::strerror(errno) + ")");
        // Must precede the first gzread; larger buffers cut the syscall count on 30 MB files.
        gzbuffer(gz_, 1u << 17);
    } else {
        if (std::ferror(file_)) {
            const std::string reason = std::strerror(errno);
            std::fclose(file_);
            file_ = nullptr;
            throw Error(path_ + ": read error (" + reason + ")");
        }
        std::rewind(file_);
    }
}

ByteSource::~ByteSource()
{
    if (gz_)
        gzclose(gz_);
    if (file_)
        std::fclose(file_);
}

std::uint64_t ByteSource::remainingBound() const
{
    if (!gz_)
        return fileSize_ > position_ ? fileSize_ - position_ : 0;
    const std::uint64_t total = fileSize_ > UINT64_MAX / kMaxDeflateRatio ? UINT64_MAX : fileSize_ * kMaxDeflateRatio;
    return total > position_ ? total - position_ : 0;
}

void ByteSource::throwGzipError()
{
    int code = Z_OK;
    const char* message = gzerror(gz_, &code);
    std::string reason = code == Z_ERRNO ? std::string(std::strerror(errno)) : std::string(message);
    // zlib prefixes its messages with the path, which ours already starts with.
    if (reason.rfind(path_ + ": ", 0) == 0)
        reason.erase(0, path_.size() + 2);
    throw Error(path_ + ": corrupt gzip stream (zlib error: " + reason + ")");
}

std::size_t ByteSource::read(std::uint8_t* dst, std::size_t n)
{
    std::size_t done = 0;
    if (gz_) {
        while (done < n) {
            // gzread takes an unsigned count and answers with an int.
            const auto want = static_cast<unsigned>(std::min<std::size_t>(n - done, INT_MAX));
            const int got = gzread(gz_, dst + done, want);
            if (got < 0)
                throwGzipError();
            if (got == 0)
                break;
            done += static_cast<std::size_t>(got);
        }
        // A short read ends the content only when zlib saw no error on the way.
        if (done < n) {
            int code = Z_OK;
            gzerror(gz_, &code);
            if (code != Z_OK)
                throwGzipError();
        }
    } else {
        done = std::fread(dst, 1, n, file_);
        if (done < n && std::ferror(file_))
            throw Error(path_ + ": read error (" + std::strerror(errno) + ")");
    }
    position_ += done;
    return done;
}

std::vector<std::uint8_t> ByteSource::readChunked(std::size_t n, std::size_t reserve)
{
    std::vector<std::uint8_t> out;
    out.reserve(reserve);
    while (out.size() < n) {
        const std::size_t want = std::min(kChunk, n - out.size());
        const std::size_t old = out.size();
        out.resize(old + want);
        const std::size_t got = read(out.data() + old, want);
        out.resize(old + got);
        if (got < want)
            break;
    }
    return out;
}

std::vector<std::uint8_t> ByteSource::readUpTo(std::size_t n)
{
    // Never more than the file can hold, so the reserve is exact for plain files and bounded
    // by the compressed size for gzip ones, whatever n a header claimed.
    return readChunked(n, static_cast<std::size_t>(std::min<std::uint64_t>(n, remainingBound())));
}

std::vector<std::uint8_t> ByteSource::readAll(std::size_t limit)
{
    const auto tooLarge = [&] {
        return Error(path_ + ": absurd size: the content is over the limit of " + std::to_string(limit) + " bytes");
    };
    if (!gz_) {
        if (remainingBound() > limit)
            throw tooLarge();
        return readUpTo(limit);
    }
    // No size is known up front: grow with the data instead of reserving the worst case.
    std::vector<std::uint8_t> out = readChunked(limit, 0);
    if (out.size() == limit && skipRest() > 0)
        throw tooLarge();
    return out;
}

std::uint64_t ByteSource::skipRest()
{
    std::uint64_t skipped = 0;
    if (!gz_) {
        skipped = remainingBound();
        std::fseek(file_, 0, SEEK_END);
        position_ = fileSize_;
        return skipped;
    }
    std::vector<std::uint8_t> sink(std::size_t{1} << 16);
    for (;;) {
        const std::size_t got = read(sink.data(), sink.size());
        skipped += got;
        if (got < sink.size())
            return skipped;
    }
}

} // namespace sq
