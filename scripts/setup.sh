#!/usr/bin/env bash
# Installs everything hardwire needs on a fresh Debian 12 machine (idempotent), then configures and builds.
#   bash scripts/setup.sh            # install + build into build/
#   HW_SKIP_APT=1 bash scripts/setup.sh   # build only
#   HW_SKIP_VENV=1 bash scripts/setup.sh  # no .venv (the Python environment of the comparison benches)
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache
  verilator yosys graphviz
  libeigen3-dev libgtest-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev zlib1g-dev
  dataset-fashion-mnist python3 python3-numpy python3-venv
  fortunes python3-torch libopenblas0-pthread
  clang-14 libclang-rt-14-dev
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

# .venv: pinned Python packages of the comparison benches (bench/cmvm_vs_da4ml.py runs da4ml as a black-box
# peer). Optional: the build and the C++ tests never use it, so a failure here (e.g. no package index) only warns.
if [ -z "${HW_SKIP_VENV:-}" ]; then
  if [ ! -x .venv/bin/python ] || ! cmp -s scripts/requirements-bench.txt .venv/requirements-bench.txt; then
    if python3 -m venv .venv && .venv/bin/pip install -q -r scripts/requirements-bench.txt; then
      cp scripts/requirements-bench.txt .venv/requirements-bench.txt
    else
      echo "warning: could not set up .venv (bench/cmvm_vs_da4ml.py needs it; nothing else does)" >&2
    fi
  fi
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build
