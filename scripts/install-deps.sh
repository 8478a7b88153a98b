#!/usr/bin/env bash
# Installs what SQ Explorer needs to build, test and run, from Debian's packages.
set -euo pipefail

packages=(
    build-essential cmake ninja-build
    libeigen3-dev zlib1g-dev libopenblas-openmp-dev
    qt6-base-dev qt6-qpa-plugins qt6-svg-dev libqcustomplot-dev
    dataset-fashion-mnist
    libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx python3-opencv python3-numpy
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
