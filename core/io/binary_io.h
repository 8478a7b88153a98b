// Little-endian binary encoding shared by the native file formats (model file, session file):
// a writer, a bounds-checked reader, and the framing every such file uses (magic, version, flags,
// body length, body, CRC-32), validated before any of the body is parsed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sq {

std::uint32_t crc32Of(const char* data, std::size_t size);

// Appends little-endian values to a byte string. `label` starts the messages of the (rare) values
// that cannot be stored, e.g. "model file: layer name '...' is longer than 255 bytes".
class BinaryWriter {
public:
    explicit BinaryWriter(std::string label) : label_(std::move(label)) {}

    void u8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
    void u32(std::uint32_t v);
    void u64(std::uint64_t v);
    void i32(std::int32_t v) { u32(static_cast<std::uint32_t>(v)); }
    void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
    void f32(float v);
    void f64(double v);
    void boolean(bool v) { u8(v ? 1 : 0); }
    void floats(const float* data, std::size_t count);
    void floats(const std::vector<float>& v) { floats(v.data(), v.size()); }
    // A u64 count, then the values.
    void floatList(const std::vector<float>& v);
    void doubleList(const std::vector<double>& v);
    // A u32 byte length, then the bytes; sq::Error when longer than `max`.
    void str(const std::string& s, std::uint32_t max, const char* what);
    void bytes(const std::vector<std::uint8_t>& b);
    void bytes(std::string_view b) { out_.append(b.data(), b.size()); }

    std::string& out() { return out_; }
    const std::string& label() const { return label_; }

private:
    std::string label_;
    std::string out_;
};

// A bounds-checked cursor over [begin, end) of a byte string: a read past the end, or a count that
// cannot fit in the bytes left, is a malformed file, reported before anything is allocated.
// Every message starts with `context`, e.g. "runs/a/model.sqm: malformed model file".
class BinaryReader {
public:
    BinaryReader(const std::string& bytes, std::size_t begin, std::size_t end, std::string context);

    [[noreturn]] void fail(const std::string& problem) const;

    std::size_t left() const { return end_ - pos_; }
    bool atEnd() const { return pos_ == end_; }
    void need(std::uint64_t n, const char* what) const;

    std::uint8_t u8(const char* what);
    std::uint32_t u32(const char* what);
    std::uint64_t u64(const char* what);
    std::int32_t i32(const char* what) { return static_cast<std::int32_t>(u32(what)); }
    std::int64_t i64(const char* what) { return static_cast<std::int64_t>(u64(what)); }
    float f32(const char* what);
    double f64(const char* what);
    bool boolean(const char* what);
    // A u32 count of at most `max` (checked before any allocation).
    std::uint32_t count(std::uint32_t max, std::size_t minBytesEach, const char* what);
    // `count` floats; the size is checked against the bytes left before allocating. With
    // finite = true a NaN or infinity is a malformed file.
    std::vector<float> floats(std::uint64_t count, const std::string& what, bool finite = true);
    void floatsInto(float* out, std::size_t count, const std::string& what);
    // A u64 count, then the values (bit-exact: any value, NaN included).
    std::vector<float> floatList(const std::string& what);
    std::vector<double> doubleList(const std::string& what);
    std::string str(std::uint32_t max, const char* what);
    const std::uint8_t* bytes(std::uint64_t n, const char* what);

private:
    const char* data_;
    std::size_t pos_;
    std::size_t end_;
    std::string context_;
};

// The framing of a native file: 8 magic bytes, u32 version, u32 flags (0), u64 body length,
// the body, and a u32 CRC-32 of everything before it. `description` names the format in
// messages ("model file", "session file").
struct FileFormat {
    const char* magic; // 8 bytes
    std::uint32_t version;
    const char* description;
    std::uint64_t maxBytes; // larger files are refused before reading
};

inline constexpr std::size_t kFileHeaderBytes = 24;
inline constexpr std::size_t kFileTrailerBytes = 4;

// Header + body + CRC-32.
std::string frameFile(const FileFormat& format, std::string_view body);
// Checks, in this order, the magic, the version (a newer one is refused as such), the flags, the
// length (truncated / trailing bytes) and the CRC-32; returns the offset of the body, which ends
// kFileTrailerBytes before the end. Every sq::Error starts with `name`.
std::size_t checkFrame(const FileFormat& format, const std::string& bytes, const std::string& name);
// The format version of a file checkFrame() accepted: readers of a file written by an older
// version take what that version wrote.
std::uint32_t frameVersion(const std::string& bytes);
// The whole file, refused before reading when it is not a regular file or larger than maxBytes.
std::string readBinaryFile(const std::string& path, const FileFormat& format);

} // namespace sq
