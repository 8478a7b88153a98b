#include "core/io/model_file.h"

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/bit_pack.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace sq {

namespace {

// PNG-style: a non-ASCII first byte, and CR LF / ^Z / LF that a text-mode transfer would mangle.
constexpr char kMagic[8] = {'\x89', 'S', 'Q', 'M', '\r', '\n', '\x1a', '\n'};
constexpr std::uint64_t kMaxFileBytes = 1ull << 30;
constexpr std::uint32_t kMaxName = 255;        // layer names, decisions, method
constexpr std::uint32_t kMaxArchitecture = 1u << 16;
constexpr std::uint32_t kMaxRank = 4;
constexpr std::uint32_t kMaxDim = 1u << 16;
constexpr std::uint32_t kMaxLayers = 4096;

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

class Writer {
public:
    void u32(std::uint32_t v)
    {
        for (int i = 0; i < 4; ++i)
            out_.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
    }
    void u64(std::uint64_t v)
    {
        for (int i = 0; i < 8; ++i)
            out_.push_back(static_cast<char>((v >> (8 * i)) & 0xffu));
    }
    void f32(float v)
    {
        std::uint32_t bits = 0;
        std::memcpy(&bits, &v, sizeof bits);
        u32(bits);
    }
    void floats(const std::vector<float>& v)
    {
        out_.reserve(out_.size() + 4 * v.size());
        for (float x : v)
            f32(x);
    }
    void str(const std::string& s, std::uint32_t max, const char* what)
    {
        if (s.size() > max)
            throw Error("model file: " + std::string(what) + " '" + s.substr(0, 40) + "...' is longer than "
                        + std::to_string(max) + " bytes");
        u32(static_cast<std::uint32_t>(s.size()));
        out_ += s;
    }
    void bytes(const std::vector<std::uint8_t>& b) { out_.append(reinterpret_cast<const char*>(b.data()), b.size()); }
    std::string& out() { return out_; }

private:
    std::string out_;
};

// A bounds-checked cursor over the body: every read that would pass the end is a malformed file.
class Reader {
public:
    Reader(const std::string& bytes, std::size_t begin, std::size_t end, const std::string& name)
        : data_(bytes.data()), pos_(begin), end_(end), name_(name)
    {
    }

    [[noreturn]] void fail(const std::string& problem) const
    {
        throw Error(name_ + ": malformed model file: " + problem + " (at byte " + std::to_string(pos_) + ")");
    }

    std::size_t left() const { return end_ - pos_; }
    bool atEnd() const { return pos_ == end_; }

    void need(std::uint64_t n, const char* what) const
    {
        if (n > left())
            fail(std::string(what) + " needs " + std::to_string(n) + " bytes, " + std::to_string(left())
                 + " are left");
    }
    std::uint32_t u32(const char* what)
    {
        need(4, what);
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
            v |= static_cast<std::uint32_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
        pos_ += 4;
        return v;
    }
    std::uint64_t u64(const char* what)
    {
        need(8, what);
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v |= static_cast<std::uint64_t>(static_cast<unsigned char>(data_[pos_ + i])) << (8 * i);
        pos_ += 8;
        return v;
    }
    float f32(const char* what)
    {
        const std::uint32_t bits = u32(what);
        float v = 0.0f;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    // `count` finite floats; the size is checked against the bytes left before allocating.
    std::vector<float> floats(std::uint64_t count, const std::string& what)
    {
        if (count > left() / 4)
            fail(what + ": " + std::to_string(count) + " floats do not fit in the " + std::to_string(left())
                 + " bytes left");
        std::vector<float> v(static_cast<std::size_t>(count));
        for (auto& x : v) {
            x = f32("float");
            if (!std::isfinite(x))
                fail(what + ": a value is not finite");
        }
        return v;
    }
    std::string str(std::uint32_t max, const char* what)
    {
        const std::uint32_t n = u32(what);
        if (n > max)
            fail(std::string(what) + " of " + std::to_string(n) + " bytes (at most " + std::to_string(max) + ")");
        need(n, what);
        std::string s(data_ + pos_, n);
        pos_ += n;
        return s;
    }
    const std::uint8_t* bytes(std::uint64_t n, const char* what)
    {
        need(n, what);
        const auto* p = reinterpret_cast<const std::uint8_t*>(data_ + pos_);
        pos_ += static_cast<std::size_t>(n);
        return p;
    }

private:
    const char* data_;
    std::size_t pos_;
    std::size_t end_;
    const std::string& name_;
};

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

StoredWeight readWeight(Reader& r)
{
    StoredWeight w;
    w.name = r.str(kMaxName, "layer name");
    w.decision = r.str(kMaxName, "decision");
    const std::uint32_t bits = r.u32("bits");
    if (!(bits >= 1 && bits <= 8) && bits != 32)
        r.fail(w.name + ": " + std::to_string(bits) + " bits per weight (1 to 8, or 32 for float)");
    w.bits = static_cast<int>(bits);
    w.alpha = r.f32("alpha");
    w.beta = r.f32("beta");
    w.delta = r.f32("delta");
    const std::uint64_t n = r.u64("weight count");
    if (n == 0)
        r.fail(w.name + ": no weights");
    if (!w.quantized()) {
        w.values = r.floats(n, w.name + " weights");
        return w;
    }
    const std::uint32_t levels = r.u32("level count");
    if (levels == 0 || levels > (1u << bits))
        r.fail(w.name + ": " + std::to_string(levels) + " levels for " + std::to_string(bits) + "-bit codes (1 to "
               + std::to_string(1u << bits) + ")");
    w.levels = r.floats(levels, w.name + " levels");
    for (std::size_t k = 1; k < w.levels.size(); ++k)
        if (!(w.levels[k - 1] < w.levels[k]))
            r.fail(w.name + ": the levels are not strictly ascending");
    // n * bits / 8 bytes must be left: checked in bytes before the codes are allocated.
    if (n > static_cast<std::uint64_t>(r.left()) * 8 / bits)
        r.fail(w.name + ": " + std::to_string(n) + " codes of " + std::to_string(bits) + " bits do not fit in the "
               + std::to_string(r.left()) + " bytes left");
    const std::size_t packed = packedBytes(static_cast<std::size_t>(n), w.bits);
    const std::uint8_t* p = r.bytes(packed, "codes");
    w.codes = unpackCodes(p, static_cast<std::size_t>(n), w.bits);
    for (std::size_t i = 0; i < w.codes.size(); ++i)
        if (w.codes[i] >= levels)
            r.fail(w.name + ": weight " + std::to_string(i) + " has code " + std::to_string(w.codes[i])
                   + ", outside its table of " + std::to_string(levels) + " levels");
    return w;
}

} // namespace

std::string encodeModelFile(const StoredModel& m)
{
    Writer w;
    w.out().append(kMagic, sizeof kMagic);
    w.u32(kModelFileVersion);
    w.u32(0); // flags
    w.u64(0); // body length, patched below

    w.str(m.method, kMaxName, "method");
    w.str(m.architecture, kMaxArchitecture, "architecture");
    if (m.inputSample.empty() || m.inputSample.size() > kMaxRank)
        throw Error("model file: input shape " + shapeString(m.inputSample) + " has an unsupported rank");
    w.u32(static_cast<std::uint32_t>(m.inputSample.size()));
    for (int d : m.inputSample)
        w.u32(static_cast<std::uint32_t>(d));
    w.u32(static_cast<std::uint32_t>(m.classes));
    const auto channels = static_cast<std::size_t>(m.inputSample.front());
    if (m.inputMean.size() != channels || m.inputStddev.size() != channels)
        throw Error("model file: the input normalisation does not have one mean and stddev per channel");
    w.floats(m.inputMean);
    w.floats(m.inputStddev);

    w.u32(static_cast<std::uint32_t>(m.weights.size()));
    for (const StoredWeight& s : m.weights) {
        w.str(s.name, kMaxName, "layer name");
        w.str(s.decision, kMaxName, "decision");
        w.u32(static_cast<std::uint32_t>(s.bits));
        w.f32(s.alpha);
        w.f32(s.beta);
        w.f32(s.delta);
        w.u64(s.count());
        if (!s.quantized()) {
            w.floats(s.values);
            continue;
        }
        if (s.levels.empty() || s.levels.size() > (std::size_t{1} << s.bits))
            throw Error("model file: " + s.name + " has " + std::to_string(s.levels.size()) + " levels for "
                        + std::to_string(s.bits) + "-bit codes");
        for (std::uint8_t c : s.codes)
            if (c >= s.levels.size())
                throw Error("model file: " + s.name + " has a code outside its level table");
        w.u32(static_cast<std::uint32_t>(s.levels.size()));
        w.floats(s.levels);
        w.bytes(packCodes(s.codes, s.bits));
    }
    w.u32(static_cast<std::uint32_t>(m.floats.size()));
    for (const auto& f : m.floats) {
        w.u64(f.size());
        w.floats(f);
    }

    std::string& out = w.out();
    const std::uint64_t body = out.size() - kModelFileHeaderBytes;
    for (int i = 0; i < 8; ++i)
        out[16 + i] = static_cast<char>((body >> (8 * i)) & 0xffu);
    const std::uint32_t crc = crc32Of(out.data(), out.size());
    w.u32(crc);
    return std::move(out);
}

StoredModel decodeModelFile(const std::string& bytes, const std::string& name)
{
    const std::size_t size = bytes.size();
    const std::size_t magicPart = std::min(size, sizeof kMagic);
    if (std::memcmp(bytes.data(), kMagic, magicPart) != 0)
        throw Error(name + ": not an SQ Explorer model file (wrong magic bytes)");
    if (size < kModelFileHeaderBytes)
        throw Error(name + ": truncated model file (" + std::to_string(size) + " bytes, shorter than its "
                    + std::to_string(kModelFileHeaderBytes) + "-byte header)");
    const std::uint32_t version = readU32At(bytes, 8);
    if (version > kModelFileVersion)
        throw Error(name + ": model file format version " + std::to_string(version)
                    + " is newer than this program supports (version " + std::to_string(kModelFileVersion)
                    + "); update SQ Explorer to read it");
    if (version == 0)
        throw Error(name + ": malformed model file: format version 0");
    const std::uint32_t flags = readU32At(bytes, 12);
    if (flags != 0)
        throw Error(name + ": model file uses flags " + hex(flags) + " that this program does not know");
    const std::uint64_t body = static_cast<std::uint64_t>(readU32At(bytes, 16))
                               | (static_cast<std::uint64_t>(readU32At(bytes, 20)) << 32);
    if (body > kMaxFileBytes)
        throw Error(name + ": malformed model file: a body of " + std::to_string(body) + " bytes (over 1 GiB)");
    const std::uint64_t expected = kModelFileHeaderBytes + body + kModelFileTrailerBytes;
    if (size < expected)
        throw Error(name + ": truncated model file (" + std::to_string(size) + " of " + std::to_string(expected)
                    + " bytes)");
    if (size > expected)
        throw Error(name + ": " + std::to_string(size - expected) + " unexpected bytes after the end of the model");
    const std::uint32_t stored = readU32At(bytes, size - kModelFileTrailerBytes);
    const std::uint32_t computed = crc32Of(bytes.data(), size - kModelFileTrailerBytes);
    if (stored != computed)
        throw Error(name + ": CRC-32 mismatch (stored " + hex(stored) + ", computed " + hex(computed)
                    + "): the file is corrupt");

    Reader r(bytes, kModelFileHeaderBytes, size - kModelFileTrailerBytes, name);
    StoredModel m;
    m.method = r.str(kMaxName, "method");
    m.architecture = r.str(kMaxArchitecture, "architecture");
    const std::uint32_t rank = r.u32("input rank");
    if (rank == 0 || rank > kMaxRank)
        r.fail("input rank " + std::to_string(rank));
    for (std::uint32_t i = 0; i < rank; ++i) {
        const std::uint32_t d = r.u32("input dimension");
        if (d == 0 || d > kMaxDim)
            r.fail("input dimension " + std::to_string(d));
        m.inputSample.push_back(static_cast<int>(d));
    }
    const std::uint32_t classes = r.u32("classes");
    if (classes == 0 || classes > kMaxDim)
        r.fail(std::to_string(classes) + " classes");
    m.classes = static_cast<int>(classes);
    m.inputMean = r.floats(static_cast<std::uint64_t>(m.inputSample.front()), "input mean");
    m.inputStddev = r.floats(static_cast<std::uint64_t>(m.inputSample.front()), "input stddev");
    for (float s : m.inputStddev)
        if (!(s > 0.0f))
            r.fail("an input stddev is not positive");
    const std::uint32_t weights = r.u32("weight count");
    if (weights > kMaxLayers)
        r.fail(std::to_string(weights) + " quantizable layers");
    for (std::uint32_t i = 0; i < weights; ++i)
        m.weights.push_back(readWeight(r));
    const std::uint32_t tensors = r.u32("float tensor count");
    if (tensors > 4 * kMaxLayers)
        r.fail(std::to_string(tensors) + " float tensors");
    for (std::uint32_t i = 0; i < tensors; ++i) {
        const std::uint64_t n = r.u64("float tensor size");
        m.floats.push_back(r.floats(n, "float tensor " + std::to_string(i + 1)));
    }
    if (!r.atEnd())
        r.fail(std::to_string(r.left()) + " bytes left over after the last tensor");

    try {
        (void)instantiateModel(m);
    } catch (const Error& e) {
        throw Error(name + ": the stored model does not match its architecture: " + e.what());
    }
    return m;
}

void writeModelFile(const std::string& path, const StoredModel& model)
{
    writeFileAtomically(path, encodeModelFile(model));
}

StoredModel readModelFile(const std::string& path)
{
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (status.type() == std::filesystem::file_type::not_found)
        throw Error(path + ": model file does not exist");
    if (!std::filesystem::is_regular_file(status))
        throw Error(path + ": not a file");
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec)
        throw Error(path + ": cannot read the model file (" + ec.message() + ")");
    if (size > kMaxFileBytes)
        throw Error(path + ": " + std::to_string(size) + " bytes is too large for a model file (over 1 GiB)");
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(path + ": cannot open the model file");
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (in.gcount() != static_cast<std::streamsize>(size))
        throw Error(path + ": cannot read the model file (it changed while being read?)");
    return decodeModelFile(bytes, path);
}

} // namespace sq
