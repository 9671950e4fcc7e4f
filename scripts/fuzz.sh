#!/usr/bin/env bash
# Runs every libFuzzer target for a bounded time (docs/hardening.md).
#   scripts/fuzz.sh [SECONDS_PER_TARGET=60] [BUILD_DIR=build-fuzz] [TARGET...]
# Builds BUILD_DIR with clang-14, ASan+UBSan and -DHW_FUZZ=ON if needed. New interesting inputs go to
# BUILD_DIR/fuzz/corpus/<target> (the seed corpus in fuzz/corpus/<target> is only read); crashes are written to
# BUILD_DIR/fuzz/artifacts/. Exits non-zero if any target finds a crash, leak, timeout or out-of-memory.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
BUILD=${2:-build-fuzz}
shift $(( $# > 2 ? 2 : $# ))
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(safetensors manifest vectors lm_manifest onnx)

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_CXX_COMPILER="${CXX_FUZZ:-clang++-14}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHW_SANITIZE=ON -DHW_FUZZ=ON >/dev/null
fi
ninja -C "$BUILD" fuzzers >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${TARGETS[@]}"; do
  work="$BUILD/fuzz/corpus/$t"
  art="$BUILD/fuzz/artifacts/$t"
  mkdir -p "$work" "$art"
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  echo "== fuzz_$t: ${SECONDS_PER_TARGET}s"
  log="$BUILD/fuzz/$t.log"
  if "$BUILD/fuzz/fuzz_$t" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$art/" "${dict[@]}" "$work" "fuzz/corpus/$t" >"$log" 2>&1; then
    grep -E "^stat::number_of_executed_units|^stat::new_units_added|^stat::peak_rss_mb" "$log" | tr '\n' ' '
    echo "-> OK (corpus $(ls "$work" | wc -l) + $(ls "fuzz/corpus/$t" | wc -l) seeds)"
  else
    status=1
    echo "-> FAILED; last lines of $log:"
    tail -40 "$log"
    ls -l "$art"
  fi
done
exit $status
