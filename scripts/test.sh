#!/usr/bin/env bash
# Installs the dependencies, builds and runs every test suite: Release, then all suites under
# AddressSanitizer+UndefinedBehaviorSanitizer, then the threading and GUI-session suites under
# ThreadSanitizer. Usage: scripts/test.sh [--release-only]
set -euo pipefail
cd "$(dirname "$0")/.."

presets=(release asan tsan)
if [ "${1:-}" = "--release-only" ]; then
    presets=(release)
elif [ $# -gt 0 ]; then
    echo "usage: scripts/test.sh [--release-only]" >&2
    exit 2
fi

scripts/install-deps.sh
for preset in "${presets[@]}"; do
    start=$(date +%s)
    scripts/build.sh "$preset"
    ctest --preset "$preset"
    echo "test.sh: $preset built and passed in $(( $(date +%s) - start )) s"
done
