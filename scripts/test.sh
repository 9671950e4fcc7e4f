#!/usr/bin/env bash
# The test suite (what CI runs): installs what is missing, builds, runs the `unit`, `cosim` and `onnx` ctest labels,
# then the hardening stage (ASan+UBSan unit tests and a short libFuzzer run, docs/hardening.md).
# The long labels run on demand: `ctest --test-dir build -L sweep` (>= 200 random models) and
# `ctest --test-dir build -L fashion_full` (scripts/fashion_job.sh: all 10,000 Fashion-MNIST test images).
#   bash scripts/test.sh [extra ctest args]      HW_SKIP_HARDENING=1 skips the hardening stage
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
t0=$(date +%s)
ctest --test-dir build --output-on-failure -j 2 -LE '^(sweep|fashion_full)$' "$@"
echo "== unit + cosim tests: $(( $(date +%s) - t0 )) s"
if [ -z "${HW_SKIP_HARDENING:-}" ]; then
  bash scripts/ci_hardening.sh "${HW_FUZZ_SECONDS:-20}"
fi
