// Fuzz target: the session file decoder. As for the model file, the CRC-32 trailer is recomputed
// over the mutated bytes so that inputs reach the body's parser.
#include "core/io/binary_io.h"
#include "core/io/session_file.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::string bytes(reinterpret_cast<const char*>(data), size);
    if (bytes.size() >= 28) {
        const std::size_t body = bytes.size() - 4;
        const std::uint32_t crc = sq::crc32Of(bytes.data(), body);
        for (int i = 0; i < 4; ++i)
            bytes[body + static_cast<std::size_t>(i)] = static_cast<char>((crc >> (8 * i)) & 0xFF);
    }
    return sq::fuzz::expectOnlySqErrors([&] { sq::decodeSessionFile(bytes, "fuzz.sqs"); });
}
