// Fuzz target: the snapshots.jsonl reader (the log the explorer replays into its views).
#include "core/io/snapshot_log.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    return sq::fuzz::expectOnlySqErrors([&] { sq::parseSnapshotLog(text, "snapshots.jsonl"); });
}
