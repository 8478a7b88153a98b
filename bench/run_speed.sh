#!/usr/bin/env bash
# One command for the speed comparison with PyTorch: installs the bench's packages, builds
# sq-speed-bench (Release, this repo's default options) and runs both sides interleaved.
# Usage: bench/run_speed.sh [run_speed.py options, e.g. --reps 9 --models mlp]
# Environment: SQ_BENCH_BUILD (build folder, default build/bench), SQ_BENCH_CMAKE_ARGS (extra
# configure options, e.g. "-DSQ_NATIVE=ON" or "-DSQ_BLAS=OFF").
set -euo pipefail
cd "$(dirname "$0")/.."

# The bench's own packages (not the project's: scripts/install-deps.sh has those). PyTorch from
# Debian, and OpenBLAS's OpenMP build, which PyTorch is given instead of the reference BLAS.
packages=(python3-torch libopenblas0-openmp)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "run_speed: installing ${missing[*]}"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
scripts/install-deps.sh

build="${SQ_BENCH_BUILD:-build/bench}"
# shellcheck disable=SC2086 # extra options are meant to split
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSQ_BUILD_TESTS=OFF ${SQ_BENCH_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" --target sq-speed-bench -j "$(nproc)"

# PyTorch's best configuration here (bench/README.md), applied to both sides alike:
# - OpenBLAS with OpenMP instead of Debian's default reference BLAS, found by its package;
# - its AVX-512 kernels (the machines here set OPENBLAS_CORETYPE=Haswell, which halves them);
# - 2 threads; glibc told never to return memory to the system (no page faults from re-touching).
blasdir="$(dirname "$(dpkg -L libopenblas0-openmp | grep '/libopenblas\.so\.0$' | head -n1)")"
export LD_LIBRARY_PATH="$blasdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if grep -q avx512f /proc/cpuinfo; then
    export OPENBLAS_CORETYPE=SkylakeX
else
    unset OPENBLAS_CORETYPE # let OpenBLAS pick for a CPU without AVX-512
fi
export OMP_NUM_THREADS=2
export MALLOC_MMAP_MAX_=0
export MALLOC_TRIM_THRESHOLD_=68719476736

# Debian's interpreter explicitly: another python3 (pyenv) may come first on PATH.
exec /usr/bin/python3 bench/run_speed.py --ours "$build/bench/sq-speed-bench" "$@"
