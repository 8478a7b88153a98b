// Fuzz target: the IDX reader (plain and gzip) on arbitrary bytes.
#include "core/data/idx_reader.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const sq::fuzz::MemoryFile file(data, size);
    return sq::fuzz::expectOnlySqErrors([&] {
        const sq::IdxArray array = sq::readIdx(file.path());
        std::size_t elements = 1;
        for (int d : array.dims)
            elements *= static_cast<std::size_t>(d);
        if (elements != array.data.size())
            __builtin_trap(); // the reader promised product(dims) bytes
    });
}
