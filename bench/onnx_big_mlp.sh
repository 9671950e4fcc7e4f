#!/usr/bin/env bash
# On-demand (not in CI): the 490-256-256-256-12 MLP with 3-bit weights and activations (259,584 weights, QONNX op
# set: Quant on input, weights, biases and activations, MatMul, Add, Relu, Softmax; examples/qonnx/make_qonnx_mlp.py)
# through import, the float-oracle check, generate and Verilator co-simulation, with the time of each step.
#   bash bench/onnx_big_mlp.sh [BUILD_DIR=build] [OUT=out/onnx_big] [ROUNDING=ROUND] [JOBS=1]
# ROUND (half to even, as QKeras writes) gives threshold layers; HALF_UP gives requantization layers.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build} out=${2:-out/onnx_big} rounding=${3:-ROUND} jobs=${4:-1}
hw=$build/hardwire py=.venv/bin/python
mkdir -p "$out"
t() { local s=$EPOCHREALTIME; "$@"; awk -v a="$s" -v b="$EPOCHREALTIME" -v c="$*" 'BEGIN { printf "time: %.1f s: %s\n", b - a, substr(c, 1, 140) }'; }
t "$py" examples/qonnx/make_qonnx_mlp.py --sizes 490,256,256,256,12 --wbits 3 --abits 3 --inbits 3 --rounding "$rounding" \
  --out "$out/big.onnx"
t "$hw" import "$out/big.onnx" -o "$out/big"
grep -o '"activation": "[a-z]*"' "$out/big/import.json" | sort | uniq -c
t "$py" tests/onnx/check_import.py --hardwire "$hw" --onnx "$out/big.onnx" --imported "$out/big" --vectors 2000 \
  --save-float-inputs "$out/float_inputs.txt"
t "$hw" generate "$out/big/model.json" -o "$out/rtl"
t "$hw" sim "$out/big/model.json" --rtl "$out/rtl" --float-inputs "$out/float_inputs.txt" -j "$jobs"
