#include "core/io/bit_pack.h"

#include "core/error.h"

#include <string>

namespace sq {

namespace {

void checkBits(int bits)
{
    if (bits < 1 || bits > 8)
        throw Error("bit packing: codes must be 1 to 8 bits wide, got " + std::to_string(bits));
}

} // namespace

std::size_t packedBytes(std::size_t count, int bits)
{
    checkBits(bits);
    return (count * static_cast<std::size_t>(bits) + 7) / 8;
}

std::vector<std::uint8_t> packCodes(const std::vector<std::uint8_t>& codes, int bits)
{
    std::vector<std::uint8_t> out(packedBytes(codes.size(), bits), 0);
    const unsigned limit = 1u << bits;
    std::size_t bit = 0;
    for (std::size_t i = 0; i < codes.size(); ++i, bit += static_cast<std::size_t>(bits)) {
        const unsigned code = codes[i];
        if (code >= limit)
            throw Error("bit packing: code " + std::to_string(code) + " at index " + std::to_string(i)
                        + " does not fit in " + std::to_string(bits) + " bits");
        // Shifted into a 16-bit window so that a code crossing a byte boundary lands in both.
        const unsigned window = code << (bit % 8);
        out[bit / 8] = static_cast<std::uint8_t>(out[bit / 8] | (window & 0xffu));
        if (window > 0xffu)
            out[bit / 8 + 1] = static_cast<std::uint8_t>(out[bit / 8 + 1] | (window >> 8));
    }
    return out;
}

std::vector<std::uint8_t> unpackCodes(const std::uint8_t* bytes, std::size_t count, int bits)
{
    checkBits(bits);
    std::vector<std::uint8_t> out(count);
    const unsigned mask = (1u << bits) - 1u;
    std::size_t bit = 0;
    for (std::size_t i = 0; i < count; ++i, bit += static_cast<std::size_t>(bits)) {
        const std::size_t byte = bit / 8;
        const unsigned shift = bit % 8;
        unsigned window = bytes[byte];
        if (shift + static_cast<unsigned>(bits) > 8)
            window |= static_cast<unsigned>(bytes[byte + 1]) << 8;
        out[i] = static_cast<std::uint8_t>((window >> shift) & mask);
    }
    return out;
}

} // namespace sq
