// Fuzz target: the history.csv reader.
#include "core/io/history_csv_reader.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    return sq::fuzz::expectOnlySqErrors([&] { sq::parseHistoryCsv(text, "history.csv"); });
}
