#!/usr/bin/env bash
# The main job: install + build, print the shipped tiny language model (weights/tiny_lm) into RTL, build it in
# Verilator and run it as the chip would: S interleaved streams (one per pipeline slot, S = the feedback loop's
# length), each prompted with the first 16 characters of a held-out fortune and generating until its context is
# full. Every token is compared with the C++ reference run stream by stream; the texts and a summary are printed.
#   bash scripts/main_job.sh                 # sampled (xorshift32, seed 1)
#   bash scripts/main_job.sh --greedy        # or: --seed S, --stall-seed S (random clock-enable stalls)
# The Fashion-MNIST classifier: bash scripts/fashion_job.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

MODEL=weights/tiny_lm/model.json
OUT=out/tiny_lm_rtl
K=4  # adder levels per pipeline stage
mkdir -p out

echo "== generate"
build/hardwire generate "$MODEL" -o "$OUT" --adders-per-stage "$K" | tee out/lm_generate.log
S=$(python3 -c "import json; print(json.load(open('$OUT/interface.json'))['streams'])")
echo "== prompts: the first 16 characters of $S held-out fortunes (examples/tiny_lm/corpus.py)"
python3 examples/tiny_lm/corpus.py --heldout |
  awk -v n="$S" 'BEGIN { RS = "" } NR <= n { split($0, line, "\n"); print substr(line[1], 1, 16) }' > out/lm_prompts.txt
echo "== co-simulate: $S streams, every token against the C++ reference"
args=(--seed 1)
for a in "$@"; do case "$a" in --greedy | --seed) args=() ;; esac; done
set +e
build/hardwire sim "$MODEL" --rtl "$OUT" --prompts-file out/lm_prompts.txt "${args[@]}" "$@" | tee out/lm_sim.log
status=${PIPESTATUS[0]}
set -e

echo
echo "================ summary ================"
echo "model:                  $MODEL ($(grep -Eo '^adders [0-9]+, multipliers [0-9]+' out/lm_generate.log))"
echo "streams, latency:       $(grep -Eo 'latency [0-9]+ clocks, [0-9]+ streams' out/lm_sim.log)"
echo "tokens RTL vs C++ ref:  $(grep -Eo '^[0-9]+ passed, [0-9]+ failed' out/lm_sim.log)"
echo "steady state:           $(grep -Eo '[0-9.]+ tokens per clock' out/lm_sim.log)"
echo "simulated:              $(grep -Eo '= [0-9]+ tokens/s' out/lm_sim.log | sed 's/= //')"
echo "verilator build:        $(grep -Eo 'verilator build: [0-9.]+ s' out/lm_sim.log | sed 's/verilator build: //')"
exit "$status"
