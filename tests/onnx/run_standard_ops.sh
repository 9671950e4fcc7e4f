#!/usr/bin/env bash
# ctest label onnx (seconds): standard quantized ONNX MLPs (16-64-32-32-5, 8-bit) written by
# examples/qonnx/make_qonnx_mlp.py as onnxruntime's static quantization does — QDQ pairs with int32 biases, and a
# QuantizeLinear -> QLinearMatMul chain — imported and checked by check_import.py against qonnx's executor
# (onnxruntime runs these standard ops): every quantized activation as codes, the logits, argmax, and
# --float-inputs against the graph's input quantizer, on 2,000 vectors each. Skipped (exit 77) without .venv.
#   run_standard_ops.sh HARDWIRE SOURCE_DIR OUT_DIR
set -euo pipefail
hw=$1 src=$2 out=$3
py=$src/.venv/bin/python
if [ ! -x "$py" ] || ! "$py" -c "import qonnx, onnxruntime" 2>/dev/null; then
  echo "SKIPPED: $py with qonnx and onnxruntime not found (bash scripts/setup.sh makes it)"
  exit 77
fi
mkdir -p "$out"
for ops in qdq qlinear; do
  echo "== $ops"
  "$py" "$src/examples/qonnx/make_qonnx_mlp.py" --sizes 16,64,32,32,5 --ops $ops --out "$out/jet_$ops.onnx"
  "$hw" import "$out/jet_$ops.onnx" -o "$out/jet_$ops"
  "$py" "$src/tests/onnx/check_import.py" --hardwire "$hw" --onnx "$out/jet_$ops.onnx" --imported "$out/jet_$ops" --vectors 2000
done
