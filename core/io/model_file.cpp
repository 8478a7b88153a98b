#include "core/io/model_file.h"

#include "core/error.h"
#include "core/io/atomic_file.h"
#include "core/io/binary_io.h"
#include "core/io/bit_pack.h"

namespace sq {

namespace {

// PNG-style: a non-ASCII first byte, and CR LF / ^Z / LF that a text-mode transfer would mangle.
constexpr char kMagic[8] = {'\x89', 'S', 'Q', 'M', '\r', '\n', '\x1a', '\n'};
constexpr FileFormat kFormat{kMagic, kModelFileVersion, "model file", 1ull << 30};
constexpr std::uint32_t kMaxName = 255;        // layer names, decisions, method
constexpr std::uint32_t kMaxArchitecture = 1u << 16;
constexpr std::uint32_t kMaxRank = 4;
constexpr std::uint32_t kMaxDim = 1u << 16;
constexpr std::uint32_t kMaxLayers = 4096;

using Writer = BinaryWriter;
using Reader = BinaryReader;

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
    Writer w("model file");

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

    return frameFile(kFormat, w.out());
}

StoredModel decodeModelFile(const std::string& bytes, const std::string& name)
{
    const std::size_t begin = checkFrame(kFormat, bytes, name);
    Reader r(bytes, begin, bytes.size() - kFileTrailerBytes, name + ": malformed model file");
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
    return decodeModelFile(readBinaryFile(path, kFormat), path);
}

} // namespace sq
