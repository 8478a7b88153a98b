// Fuzz target: the JSON reader (summary.json, snapshots.jsonl lines) and the summary on top of it.
#include "core/io/json_reader.h"
#include "core/io/run_summary.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    sq::fuzz::expectOnlySqErrors([&] { sq::parseJson(text, "fuzz.json"); });
    sq::fuzz::expectOnlySqErrors([&] { sq::parseRunSummary(text, "summary.json"); });
    return 0;
}
