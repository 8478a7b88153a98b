// Fuzz target: the CIFAR-10 binary batch reader on arbitrary bytes.
#include "core/data/cifar10_reader.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const sq::fuzz::MemoryFile file(data, size);
    return sq::fuzz::expectOnlySqErrors([&] {
        const sq::Dataset set = sq::readCifar10Batches({file.path()});
        if (set.count <= 0 || set.channels != 3)
            __builtin_trap(); // a successful read holds at least one 3-channel image
    });
}
