// Fuzz target: the architecture text, parsed and built for Fashion-MNIST and CIFAR-10 inputs.
#include "core/architecture.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    for (const std::vector<int>& input : {std::vector<int>{1, 28, 28}, std::vector<int>{3, 32, 32}}) {
        sq::fuzz::expectOnlySqErrors([&] {
            const sq::Model model = sq::buildModel(text, input, 10);
            if (model.outputs() != 10)
                __builtin_trap();
        });
    }
    return 0;
}
