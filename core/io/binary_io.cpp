#include "core/io/binary_io.h"

#include "core/error.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace sq {

namespace {

std::uint32_t readU32At(const std::string& bytes, std::size_t at)
{
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
    return v;
}

std::string hex(std::uint32_t v)
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", v);
    return buf;
}

std::string sizeLimit(std::uint64_t bytes)
{
    return bytes >= (1ull << 30) ? std::to_string(bytes >> 30) + " GiB" : std::to_string(bytes >> 20) + " MiB";
}

} // namespace

std::uint32_t crc32Of(const char* data, std::size_t size)
{
    // zlib takes uInt lengths; feed it in slices so that any size works.
    uLong crc = ::crc32(0L, Z_NULL, 0);
    while (size > 0) {
        const auto n = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
        crc = ::crc32(crc, reinterpret_cast<const Bytef*>(data), n);
        data += n;
        size -= n;
    }
    return static_cast<std::uint32_t>(crc);
}

// --- BinaryWriter ---

void BinaryWriter::u32(std::uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        out_.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}

void BinaryWriter::u64(std::uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        out_.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
}

void BinaryWriter::f32(float v)
{
    std::uint32_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    u32(bits);
}

void BinaryWriter::f64(double v)
{
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    u64(bits);
}

void BinaryWriter::floats(const float* data, std::size_t count)
{
    out_.reserve(out_.size() + 4 * count);
    for (std::size_t i = 0; i < count; ++i)
        f32(data[i]);
}

void BinaryWriter::floatList(const std::vector<float>& v)
{
    u64(v.size());
    floats(v);
}

void BinaryWriter::doubleList(const std::vector<double>& v)
{
    u64(v.size());
    for (double x : v)
        f64(x);
}

void BinaryWriter::str(const std::string& s, std::uint32_t max, const char* what)
{
    if (s.size() > max)
        throw Error(label_ + ": " + what + " '" + s.substr(0, 40) + "...' is longer than " + std::to_string(max)
                    + " bytes");
    u32(static_cast<std::uint32_t>(s.size()));
    out_ += s;
}

void BinaryWriter::bytes(const std::vector<std::uint8_t>& b)
{
    out_.append(reinterpret_cast<const char*>(b.data()), b.size());
}

// --- BinaryReader ---

BinaryReader::BinaryReader(const std::string& bytes, std::size_t begin, std::size_t end, std::string context)
    : data_(bytes.data()), pos_(begin), end_(end), context_(std::move(context))
{
}

void BinaryReader::fail(const std::string& problem) const
{
    throw Error(context_ + ": " + problem + " (at byte " + std::to_string(pos_) + ")");
}

void BinaryReader::need(std::uint64_t n, const char* what) const
{
    if (n > left())
        fail(std::string(what) + " needs " + std::to_string(n) + " bytes, " + std::to_string(left()) + " are left");
}

std::uint8_t BinaryReader::u8(const char* what)
{
    need(1, what);
    return static_cast<std::uint8_t>(data_[pos_++]);
}

std::uint32_t BinaryReader::u32(const char* what)
{
    need(4, what);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i)
        v |= static_cast<std::uint32_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return v;
}

std::uint64_t BinaryReader::u64(const char* what)
{
    need(8, what);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
        v |= static_cast<std::uint64_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return v;
}

float BinaryReader::f32(const char* what)
{
    const std::uint32_t bits = u32(what);
    float v = 0.0f;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

double BinaryReader::f64(const char* what)
{
    const std::uint64_t bits = u64(what);
    double v = 0.0;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

bool BinaryReader::boolean(const char* what)
{
    const std::uint8_t v = u8(what);
    if (v > 1)
        fail(std::string(what) + ": " + std::to_string(v) + " is not a boolean (0 or 1)");
    return v == 1;
}

std::uint32_t BinaryReader::count(std::uint32_t max, std::size_t minBytesEach, const char* what)
{
    const std::uint32_t n = u32(what);
    if (n > max)
        fail(std::string(what) + " " + std::to_string(n) + " (at most " + std::to_string(max) + ")");
    if (minBytesEach > 0 && n > left() / minBytesEach)
        fail(std::string(what) + " " + std::to_string(n) + ": that many entries do not fit in the "
             + std::to_string(left()) + " bytes left");
    return n;
}

std::vector<float> BinaryReader::floats(std::uint64_t count, const std::string& what, bool finite)
{
    if (count > left() / 4)
        fail(what + ": " + std::to_string(count) + " floats do not fit in the " + std::to_string(left())
             + " bytes left");
    std::vector<float> v(static_cast<std::size_t>(count));
    for (auto& x : v) {
        x = f32("float");
        if (finite && !std::isfinite(x))
            fail(what + ": a value is not finite");
    }
    return v;
}

void BinaryReader::floatsInto(float* out, std::size_t count, const std::string& what)
{
    if (count > left() / 4)
        fail(what + ": " + std::to_string(count) + " floats do not fit in the " + std::to_string(left())
             + " bytes left");
    for (std::size_t i = 0; i < count; ++i)
        out[i] = f32("float");
}

std::vector<float> BinaryReader::floatList(const std::string& what)
{
    const std::uint64_t n = u64("float count");
    return floats(n, what, false);
}

std::vector<double> BinaryReader::doubleList(const std::string& what)
{
    const std::uint64_t n = u64("double count");
    if (n > left() / 8)
        fail(what + ": " + std::to_string(n) + " doubles do not fit in the " + std::to_string(left())
             + " bytes left");
    std::vector<double> v(static_cast<std::size_t>(n));
    for (auto& x : v)
        x = f64("double");
    return v;
}

std::string BinaryReader::str(std::uint32_t max, const char* what)
{
    const std::uint32_t n = u32(what);
    if (n > max)
        fail(std::string(what) + " of " + std::to_string(n) + " bytes (at most " + std::to_string(max) + ")");
    need(n, what);
    std::string s(data_ + pos_, n);
    pos_ += n;
    return s;
}

const std::uint8_t* BinaryReader::bytes(std::uint64_t n, const char* what)
{
    need(n, what);
    const auto* p = reinterpret_cast<const std::uint8_t*>(data_ + pos_);
    pos_ += static_cast<std::size_t>(n);
    return p;
}

// --- Framing ---

std::string frameFile(const FileFormat& format, std::string_view body)
{
    BinaryWriter w(format.description);
    w.out().reserve(kFileHeaderBytes + body.size() + kFileTrailerBytes);
    w.out().append(format.magic, 8);
    w.u32(format.version);
    w.u32(0); // flags
    w.u64(body.size());
    w.bytes(body);
    const std::uint32_t crc = crc32Of(w.out().data(), w.out().size());
    w.u32(crc);
    return std::move(w.out());
}

std::uint32_t frameVersion(const std::string& bytes) { return readU32At(bytes, 8); }

std::size_t checkFrame(const FileFormat& format, const std::string& bytes, const std::string& name)
{
    const std::string what = format.description;
    const std::size_t size = bytes.size();
    const std::size_t magicPart = std::min<std::size_t>(size, 8);
    if (std::memcmp(bytes.data(), format.magic, magicPart) != 0)
        throw Error(name + ": not an SQ Explorer " + what + " (wrong magic bytes)");
    if (size < kFileHeaderBytes)
        throw Error(name + ": truncated " + what + " (" + std::to_string(size) + " bytes, shorter than its "
                    + std::to_string(kFileHeaderBytes) + "-byte header)");
    const std::uint32_t version = readU32At(bytes, 8);
    if (version > format.version)
        throw Error(name + ": " + what + " format version " + std::to_string(version)
                    + " is newer than this program supports (version " + std::to_string(format.version)
                    + "); update SQ Explorer to read it");
    if (version == 0)
        throw Error(name + ": malformed " + what + ": format version 0");
    const std::uint32_t flags = readU32At(bytes, 12);
    if (flags != 0)
        throw Error(name + ": " + what + " uses flags " + hex(flags) + " that this program does not know");
    const std::uint64_t body = static_cast<std::uint64_t>(readU32At(bytes, 16))
                               | (static_cast<std::uint64_t>(readU32At(bytes, 20)) << 32);
    if (body > format.maxBytes)
        throw Error(name + ": malformed " + what + ": a body of " + std::to_string(body) + " bytes (over "
                    + sizeLimit(format.maxBytes) + ")");
    const std::uint64_t expected = kFileHeaderBytes + body + kFileTrailerBytes;
    if (size < expected)
        throw Error(name + ": truncated " + what + " (" + std::to_string(size) + " of " + std::to_string(expected)
                    + " bytes)");
    if (size > expected)
        throw Error(name + ": " + std::to_string(size - expected) + " unexpected bytes after the end of the "
                    + what);
    const std::uint32_t stored = readU32At(bytes, size - kFileTrailerBytes);
    const std::uint32_t computed = crc32Of(bytes.data(), size - kFileTrailerBytes);
    if (stored != computed)
        throw Error(name + ": CRC-32 mismatch (stored " + hex(stored) + ", computed " + hex(computed)
                    + "): the file is corrupt");
    return kFileHeaderBytes;
}

std::string readBinaryFile(const std::string& path, const FileFormat& format)
{
    const std::string what = format.description;
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found)
        throw Error(path + ": " + what + " does not exist");
    if (!std::filesystem::is_regular_file(status))
        throw Error(path + ": not a file");
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec)
        throw Error(path + ": cannot read the " + what + " (" + ec.message() + ")");
    if (size > format.maxBytes + kFileHeaderBytes + kFileTrailerBytes)
        throw Error(path + ": " + std::to_string(size) + " bytes is too large for a " + what + " (over "
                    + sizeLimit(format.maxBytes) + ")");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(path + ": cannot open the " + what);
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (in.gcount() != static_cast<std::streamsize>(size))
        throw Error(path + ": cannot read the " + what + " (it changed while being read?)");
    return bytes;
}

} // namespace sq
