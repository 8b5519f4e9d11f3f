#!/usr/bin/env bash
# Fuzzes every loader: builds the libFuzzer targets of tests/fuzz/ in
# build-fuzz/ (clang, AddressSanitizer + UndefinedBehaviorSanitizer), then
# runs each for SECONDS_EACH seconds (default 60) on a work corpus
# (tests/fuzz/corpus-work/, git-ignored) merged from the committed seeds
# and the project's own model files. Fails on any crash, leak, timeout or
# out-of-memory, leaving the input under build-fuzz/artifacts/; prints
# executions, coverage and corpus size per fuzzer.
#
#   tools/fuzz.sh [SECONDS_EACH] [FUZZER...]
#
# FUZZ_PARALLEL=N runs N fuzzers at once (default 1). Needs clang and
# libclang-rt-14-dev (tools/setup.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
secs="${1:-60}"
[ $# -gt 0 ] && shift
all=(fuzz_graph fuzz_model_json fuzz_nam fuzz_model_formats fuzz_csv)
fuzzers=("$@")
[ ${#fuzzers[@]} -gt 0 ] || fuzzers=("${all[@]}")
parallel="${FUZZ_PARALLEL:-1}"
build=build-fuzz
shared="$(cd .. && pwd)/shared/conformance"

if ! command -v clang >/dev/null; then
  echo "fuzz: clang not found (tools/setup.sh installs clang and libclang-rt-14-dev)" >&2
  exit 1
fi

cmake -S . -B "$build" -DCMAKE_C_COMPILER="$(command -v clang)" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DRTG_SANITIZE=address,undefined -DRTG_GENERIC_KERNELS=ON -DRTG_FUZZ=ON -DBUILD_TESTING=OFF \
  >/dev/null
cmake --build "$build" -j"$(nproc)" --target fuzzers

# Seeds each fuzzer starts from: its committed corpus, plus files of the
# tree (and ../shared when present) referenced in place, not copied.
seeds_of() {
  case "$1" in
    fuzz_graph) echo "configs/*.yaml tests/data/graphs/bad/*.yaml tests/data/fuzz/graph/*.yaml" ;;
    fuzz_model_json) echo "models/*.json tests/data/bad_models/*.json tests/data/graphs/w/*.json
      tests/data/fuzz/model/*.json $shared/rtneural/models/*.json $shared/rtneural/models/microtcn/*.json" ;;
    fuzz_nam) echo "tests/data/nam/*.nam tests/data/nam/bad/*.nam tests/data/fuzz/nam/*.nam $shared/nam/*.nam" ;;
    fuzz_model_formats) echo "tests/data/formats/*.aidax tests/data/formats/*.json
      tests/data/formats/bad/* tests/data/fuzz/formats/*" ;;
    fuzz_csv) echo "tests/data/fuzz/csv/*.csv" ;;
  esac
}
dict_of() {
  case "$1" in
    fuzz_graph) echo graph ;; fuzz_model_json) echo model_json ;; fuzz_nam) echo nam ;;
    fuzz_model_formats) echo model_formats ;; fuzz_csv) echo csv ;;
  esac
}

tmp="$root/$build/fuzz-tmp"
rm -rf "$tmp"
mkdir -p "$tmp" "$build/artifacts" "$build/logs"
export TMPDIR="$tmp"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export ASAN_OPTIONS="detect_leaks=1"

run_one() {
  local f="$1" bin="$root/$build/fuzz/$1" work="$root/tests/fuzz/corpus-work/$1"
  local seeds="$root/$build/seeds/$1" log="$root/$build/logs/$1.log"
  local art="$root/$build/artifacts/$1/"
  rm -rf "$seeds"
  mkdir -p "$work" "$seeds" "$art"
  local n=0
  for src in tests/fuzz/corpus/"$f"/* $(seeds_of "$f"); do
    [ -f "$src" ] || continue
    n=$((n + 1))
    cp "$src" "$seeds/$n-$(basename "$src")"
  done
  # Keep only inputs that add coverage; earlier runs' findings stay.
  "$bin" -merge=1 -rss_limit_mb=4096 -timeout=60 "$work" "$seeds" >"$log.merge" 2>&1 || {
    echo "fuzz: $f: merging the seeds failed (see $log.merge)" >&2
    return 1
  }
  local rc=0
  "$bin" "$work" -dict="$root/tests/fuzz/$(dict_of "$f").dict" -max_total_time="$secs" \
    -timeout=30 -rss_limit_mb=4096 -malloc_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$art" >"$log" 2>&1 || rc=$?
  echo "$rc" >"$log.rc"
}

summary() {
  local f="$1" log="$root/$build/logs/$1.log"
  local rc; rc="$(cat "$log.rc" 2>/dev/null || echo 1)"
  local execs rate last cov ft corp
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  last="$(grep -E '^#[0-9]+' "$log" | tail -1 || true)"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")"
  corp="$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")"
  printf '%-20s %-6s %10s execs %7s/s  cov %-6s ft %-7s corpus %s\n' "$f" \
    "$([ "$rc" = 0 ] && echo ok || echo FAIL)" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "${corp:-?}"
  if [ "$rc" != 0 ]; then
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written|ALARM|out-of-memory' "$log" | head -8 | sed 's/^/    /'
    return 1
  fi
}

echo "fuzz: ${#fuzzers[@]} fuzzers, ${secs}s each, $parallel at a time; clang $(clang -dumpversion)"
status=0
running=0
for f in "${fuzzers[@]}"; do
  run_one "$f" &
  running=$((running + 1))
  if [ "$running" -ge "$parallel" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
for f in "${fuzzers[@]}"; do
  summary "$f" || status=1
done
rm -rf "$tmp"
if [ "$status" != 0 ]; then
  echo "fuzz: FAILED — inputs under $build/artifacts/, logs under $build/logs/" >&2
fi
exit "$status"
