#!/usr/bin/env bash
# CI hardening stage (docs/hardening.md): the unit tests (including the golden diagnostics) built with clang,
# AddressSanitizer and UndefinedBehaviorSanitizer, then a short run of every libFuzzer target.
#   scripts/ci_hardening.sh [FUZZ_SECONDS_PER_TARGET=20] [BUILD_DIR=build-hardening]
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZ_SECONDS=${1:-20}
BUILD=${2:-build-hardening}
t0=$(date +%s)
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++-14}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHW_SANITIZE=ON -DHW_FUZZ=ON >/dev/null
ninja -C "$BUILD" hardwire hw_unit_tests fuzzers
t1=$(date +%s)
echo "== hardening build: $((t1 - t0)) s"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
unit=0
ctest --test-dir "$BUILD" -L unit --output-on-failure -j "$(nproc)" || unit=1
t2=$(date +%s)
echo "== ASan+UBSan unit tests: $((t2 - t1)) s ($([ $unit = 0 ] && echo passed || echo FAILED))"
fuzz=0
scripts/fuzz.sh "$FUZZ_SECONDS" "$BUILD" || fuzz=1
t3=$(date +%s)
echo "== fuzzing: $((t3 - t2)) s ($([ $fuzz = 0 ] && echo passed || echo FAILED)); hardening stage total $((t3 - t0)) s"
exit $((unit | fuzz))
