// Bit-packing of small unsigned codes (1 to 8 bits each) into bytes, least significant bit first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sq {

// Bytes that `count` codes of `bits` bits occupy: ceil(count * bits / 8).
std::size_t packedBytes(std::size_t count, int bits);

// Code i occupies bits [i * bits, (i + 1) * bits) of the stream, bit k of the stream being bit
// k % 8 of byte k / 8 (little-endian bit order, so a code may straddle two bytes). Unused high
// bits of the last byte are zero. Every code must fit in `bits` bits (1..8); throws sq::Error if not.
std::vector<std::uint8_t> packCodes(const std::vector<std::uint8_t>& codes, int bits);

// The inverse: reads `count` codes from `bytes` (which must hold packedBytes(count, bits) bytes).
std::vector<std::uint8_t> unpackCodes(const std::uint8_t* bytes, std::size_t count, int bits);

} // namespace sq
