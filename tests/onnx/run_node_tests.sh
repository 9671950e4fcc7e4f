#!/usr/bin/env bash
# ctest label onnx: ONNX's own node tests for QuantizeLinear, DequantizeLinear, MatMulInteger and QLinearMatMul
# (Debian's libonnx-testdata) through hardwire import + ref (tests/onnx/node_tests.py). Seconds. Skipped (exit 77,
# with the reason) without the .venv of scripts/setup.sh or the test data, never reported as passed.
#   run_node_tests.sh HARDWIRE SOURCE_DIR OUT_DIR
set -euo pipefail
hw=$1 src=$2 out=$3
py=$src/.venv/bin/python
if [ ! -x "$py" ] || ! "$py" -c "import onnx, numpy" 2>/dev/null; then
  echo "SKIPPED: $py with onnx and numpy not found (bash scripts/setup.sh makes it)"
  exit 77
fi
rm -rf "$out"
exec "$py" "$src/tests/onnx/node_tests.py" --hardwire "$hw" --out "$out"
