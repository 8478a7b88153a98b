// Bounded sequential reading of a plain or gzip-compressed file, with errors that name the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

struct gzFile_s; // zlib's handle type, declared here so zlib.h stays out of every includer

namespace sq {

// Opens a file and hands out its content bytes, transparently inflating it when it starts with
// the gzip magic (the name is not trusted: mirrors serve .gz files under plain names and back).
// Every failure, including zlib's, is thrown as sq::Error prefixed with the path.
class ByteSource {
public:
    explicit ByteSource(std::string path);
    ~ByteSource();
    ByteSource(const ByteSource&) = delete;
    ByteSource& operator=(const ByteSource&) = delete;

    const std::string& path() const { return path_; }
    bool gzipped() const { return gz_ != nullptr; }
    // Bytes on disk (the compressed size for gzip files).
    std::uint64_t fileSize() const { return fileSize_; }
    // Content bytes handed out so far.
    std::uint64_t position() const { return position_; }
    // An upper bound on the content bytes still to come, known without reading them: exact for
    // plain files, deflate's worst-case 1032:1 ratio applied to the compressed size for gzip.
    std::uint64_t remainingBound() const;

    // Reads up to n bytes into dst; returns fewer only at the end of the content.
    std::size_t read(std::uint8_t* dst, std::size_t n);
    // Reads up to n bytes, fewer only if the content ends first. Memory grows with the bytes
    // actually delivered (never with n alone), so a lying header cannot force a huge allocation.
    std::vector<std::uint8_t> readUpTo(std::size_t n);
    // Reads the whole rest of the content, which must not exceed limit bytes (sq::Error otherwise).
    // For gzip files memory grows with the data, as nothing tells its size in advance.
    std::vector<std::uint8_t> readAll(std::size_t limit);
    // Reads and discards the rest of the content, returning how many bytes there were.
    std::uint64_t skipRest();

private:
    [[noreturn]] void throwGzipError();
    std::vector<std::uint8_t> readChunked(std::size_t n, std::size_t reserve);

    std::string path_;
    std::FILE* file_ = nullptr;
    gzFile_s* gz_ = nullptr;
    std::uint64_t fileSize_ = 0;
    std::uint64_t position_ = 0;
};

} // namespace sq
