// Fuzz target: the native model file (.sqm) decoder and the model it instantiates. The CRC-32 is
// recomputed over the mutated bytes first, or nearly every input would stop at the checksum.
#include "core/io/model_file.h"
#include "fuzz_input.h"

#include <zlib.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string bytes(reinterpret_cast<const char*>(data), size);
    if (bytes.size() >= sq::kModelFileHeaderBytes + sq::kModelFileTrailerBytes) {
        const std::size_t body = bytes.size() - sq::kModelFileTrailerBytes;
        const auto crc = static_cast<std::uint32_t>(
            ::crc32(::crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(body)));
        for (int i = 0; i < 4; ++i)
            bytes[body + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xFF);
    }
    return sq::fuzz::expectOnlySqErrors([&] {
        const sq::StoredModel stored = sq::decodeModelFile(bytes, "fuzz.sqm");
        const sq::Model model = sq::instantiateModel(stored);
        if (model.weightCount() == 0 && !stored.weights.empty())
            __builtin_trap();
    });
}
