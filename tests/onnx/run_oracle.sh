#!/usr/bin/env bash
# ctest label onnx: imports the public QONNX TFC models (tests/data/onnx) and a QKeras-style 16-64-32-32-5
# MLP with round-half-even quantizers (made by examples/qonnx/make_qonnx_mlp.py; its layers use the threshold
# op), checks every quantized activation against qonnx's float executor on 2,000 vectors (check_import.py), then
# co-simulates the imported model's RTL in Verilator on the same vectors. Needs .venv (scripts/setup.sh); without it
# the test is reported as skipped (exit 77) with the reason, never as passed.
#   run_oracle.sh HARDWIRE SOURCE_DIR OUT_DIR      (HW_SIM_JOBS: Verilator compile jobs, default 2)
set -euo pipefail
hw=$1 src=$2 out=$3
jobs=${HW_SIM_JOBS:-2}
py=$src/.venv/bin/python
if [ ! -x "$py" ] || ! "$py" -c "import qonnx, onnxruntime" 2>/dev/null; then
  echo "SKIPPED: $py with qonnx and onnxruntime not found (bash scripts/setup.sh makes it)"
  exit 77
fi
models=$src/tests/data/onnx  # copies of the public TFC models, with their licence
mkdir -p "$out"
"$py" "$src/examples/qonnx/make_qonnx_mlp.py" --sizes 16,64,32,32,5 --wbits 6 --abits 6 --out "$out/jet_round.onnx"
for m in TFC_2W2A TFC_1W1A jet_round; do
  f=$models/$m.onnx
  [ "$m" = jet_round ] && f=$out/jet_round.onnx
  if [ ! -f "$f" ]; then echo "SKIPPED: $f not found"; exit 77; fi
  echo "== $m"
  "$hw" import "$f" -o "$out/$m"
  "$py" "$src/tests/onnx/check_import.py" --hardwire "$hw" --onnx "$f" --imported "$out/$m" --vectors 2000 \
    --save-inputs "$out/$m.inputs.txt" --save-float-inputs "$out/$m.float_inputs.txt"
  "$hw" generate "$out/$m/model.json" -o "$out/${m}_rtl" > /dev/null
  if [ "$m" = TFC_2W2A ]; then  # real-valued pixels, quantized by hardwire's copy of the graph's input quantizer
    "$hw" sim "$out/$m/model.json" --rtl "$out/${m}_rtl" --float-inputs "$out/$m.float_inputs.txt" -j "$jobs"
  else
    "$hw" sim "$out/$m/model.json" --rtl "$out/${m}_rtl" --inputs "$out/$m.inputs.txt" -j "$jobs"
  fi
done
