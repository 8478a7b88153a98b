#include "core/io/run_loader.h"

#include "core/error.h"
#include "core/io/history_csv_reader.h"

#include <filesystem>

namespace sq {

bool isRunFolder(const std::string& dir)
{
    std::error_code ec;
    return std::filesystem::is_regular_file(std::filesystem::path(dir) / "summary.json", ec);
}

LoadedRun loadRun(const std::string& dir)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw Error(dir + ": not a folder");
    const fs::path base(dir);
    if (!fs::exists(base / "summary.json", ec))
        throw Error(dir + ": not a run folder (it has no summary.json)");
    LoadedRun run;
    run.dir = dir;
    run.name = fs::path(dir).lexically_normal().filename().string();
    if (run.name.empty()) // "runs/a/" normalises to "runs/a/": take the parent's last part
        run.name = fs::path(dir).lexically_normal().parent_path().filename().string();
    run.summary = readRunSummary((base / "summary.json").string());
    run.history = readHistoryCsv((base / "history.csv").string());
    if (fs::exists(base / "snapshots.jsonl", ec))
        run.snapshots = readSnapshotLog((base / "snapshots.jsonl").string());
    return run;
}

} // namespace sq
