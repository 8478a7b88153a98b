#!/usr/bin/env bash
# Fuzzes every reader of outside bytes with libFuzzer (clang, ASan+UBSan), then merges the inputs
# that found new coverage into tests/fuzz/corpus/, which ctest replays as regression tests.
# Usage: scripts/fuzz.sh [seconds per target, default 600] [target ...]
# Findings (crash-*, leak-*, timeout-*, oom-*) are written to build/fuzz/findings/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(fuzz_idx fuzz_cifar10 fuzz_architecture fuzz_model_file fuzz_json fuzz_history_csv fuzz_snapshot_log fuzz_session_file)
fi

scripts/install-deps.sh
if ! dpkg-query -W -f='${Status}' clang libclang-rt-14-dev 2>/dev/null | grep -q "install ok installed"; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev
fi

cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j "$(nproc)"

status=0
for target in "${targets[@]}"; do
    binary="build/fuzz/tests/fuzz/$target"
    if [ ! -x "$binary" ]; then
        echo "fuzz.sh: no target $target" >&2
        status=2
        continue
    fi
    corpus="tests/fuzz/corpus/$target"
    work="build/fuzz/work/$target"
    findings="build/fuzz/findings/$target"
    mkdir -p "$corpus" "$work" "$findings"
    echo "fuzz.sh: $target for $seconds s"
    # Bounded memory and time per input: a reader that allocates from a lying header, or loops,
    # is a finding (oom-*/timeout-*), not a hung run. 60 s, not less: a legitimate 20-million-weight
    # model text takes seconds to allocate under ASan on a loaded machine.
    if ! "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=60 -print_final_stats=1 \
        -artifact_prefix="$findings/" "$work" "$corpus" 2>"build/fuzz/$target.log"; then
        echo "fuzz.sh: $target FOUND A PROBLEM; see build/fuzz/$target.log and $findings/" >&2
        status=1
    fi
    grep -E "^stat::number_of_executed_units|^stat::new_units_added|^stat::peak_rss_mb" "build/fuzz/$target.log" || true
    # Keep only the inputs that add coverage to what is committed.
    "$binary" -merge=1 "$corpus" "$work" 2>>"build/fuzz/$target.log" >/dev/null
    echo "fuzz.sh: $target corpus now $(find "$corpus" -type f | wc -l) inputs"
done
exit $status
