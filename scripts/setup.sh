#!/usr/bin/env bash
# Installs everything hardwire needs on a fresh Debian 12 machine (idempotent), then configures and builds.
#   bash scripts/setup.sh            # install + build into build/
#   HW_SKIP_APT=1 bash scripts/setup.sh   # build only
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache
  verilator yosys graphviz
  libeigen3-dev libgtest-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev zlib1g-dev
  dataset-fashion-mnist python3 python3-numpy
  fortunes python3-torch libopenblas0-pthread
  clang-14 libclang-rt-14-dev
  libonnx-dev libprotobuf-dev python3-venv libonnx-testdata
  liblemon-dev python3-matplotlib
)

if [ -z "${HW_SKIP_APT:-}" ]; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "installing: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

# Python tools in a venv at .venv with the pinned versions of scripts/requirements.txt: the ONNX import's float
# oracles (tests/onnx, ctest label onnx) and da4ml, the CMVM peer of bench/cmvm_vs_da4ml.py. Best effort: without
# it the onnx tests skip (and say why) and the da4ml bench cannot run; nothing else uses it.
if [ -z "${HW_SKIP_VENV:-}" ]; then
  if [ ! -x .venv/bin/python ] || ! cmp -s scripts/requirements.txt .venv/requirements.txt; then
    { /usr/bin/python3 -m venv .venv && .venv/bin/pip install -q -r scripts/requirements.txt &&
      cp scripts/requirements.txt .venv/requirements.txt; } || echo "warning: could not set up .venv (ONNX float-oracle tests will skip; bench/cmvm_vs_da4ml.py needs it)"
  fi
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build
