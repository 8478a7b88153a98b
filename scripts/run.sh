#!/usr/bin/env bash
# Installs the dependencies, builds Release and trains the default model (mlp, SQ) on the
# default dataset (Fashion-MNIST). Extra arguments go to sq-train, e.g. scripts/run.sh --epochs 3
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh release
exec build/release/app/sq-train "$@"
