#!/usr/bin/env bash
# The test suite: installs what is missing, builds, and runs every ctest label that CI runs
# (unit, cosim; the long `sweep` and `fashion_full` labels are run on demand, see docs/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cd build
ctest --output-on-failure -j 2 -LE '^(sweep|fashion_full)$' "$@"
