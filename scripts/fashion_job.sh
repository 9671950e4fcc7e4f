#!/usr/bin/env bash
# The Fashion-MNIST example (the main job before the language model): install + build, generate the RTL of the
# shipped classifier, build it in Verilator, stream all 10,000 test images through it one per clock, and
# compare with the reference.
#   bash scripts/fashion_job.sh [--adders-per-stage K] [--arith csd|cmvm] ...   (extra flags go to `generate`)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

MODEL=weights/fashion_mlp/model.json
OUT=out/fashion_mlp
DATA=out/fashion_test
mkdir -p out

echo "== generate"
build/hardwire generate "$MODEL" -o "$OUT" "$@" | tee out/generate.log
echo "== test set (preprocessed exactly as for training)"
build/examples/fashion_mnist/fashion_train --export-test "$DATA" --model-dir weights/fashion_mlp
echo "== co-simulate all test images"
set +e
build/hardwire sim "$MODEL" --rtl "$OUT" --inputs "$DATA/test_inputs.txt" --labels "$DATA/test_labels.txt" | tee out/sim.log
status=${PIPESTATUS[0]}
set -e

total=$(grep -E '^total ' out/generate.log)
float_acc=$(python3 -c "import json; print('%.2f %%' % (100 * json.load(open('weights/fashion_mlp/training.json'))['float_test_accuracy']))" 2>/dev/null || echo "n/a")
echo
echo "================ summary ================"
echo "images:                 $(grep -Eo '^[0-9]+ passed' out/sim.log | grep -Eo '[0-9]+') passed of $(wc -l < "$DATA/test_labels.txt")"
echo "mismatches RTL vs ref:  $(grep -Eo '[0-9]+ failed' out/sim.log | grep -Eo '[0-9]+')"
echo "accuracy (RTL):         $(grep -Eo 'accuracy \(RTL\): .*' out/sim.log | sed 's/.*= //')"
echo "accuracy (float model): $float_acc"
echo "latency:                $(grep -Eo 'latency: [0-9]+ clocks' out/generate.log | grep -Eo '[0-9]+') clocks"
echo "adders, registers:      $(echo "$total" | awk '{print $5 " adders (" $6 " full-adder bits), " $7 " registers (" $8 " flip-flops)"}')"
echo "simulated throughput:   $(grep -Eo '\([0-9.]+ vectors/s\)' out/sim.log | tr -d '()' | sed 's/vectors/images/')"
echo "verilator build:        $(grep -Eo 'verilator build: [0-9.]+ s' out/sim.log | sed 's/verilator build: //')"
exit "$status"
