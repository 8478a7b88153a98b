#!/usr/bin/env bash
# Installs the dependencies, builds Release and opens the explorer window on the default dataset
# (Fashion-MNIST), ready to start. Extra arguments go to sq-explorer, e.g. scripts/run.sh --autostart
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    echo "run.sh: no display found. Run it from a desktop session, under 'xvfb-run -a scripts/run.sh'," >&2
    echo "        or train headless with build/release/app/sq-train (see sq-train --help)." >&2
    exit 1
fi
exec build/release/app/sq-explorer "$@"
