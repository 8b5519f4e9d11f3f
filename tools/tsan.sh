#!/usr/bin/env bash
# tools/tsan.sh [BUILD_DIR] — ThreadSanitizer over the threaded parts: a
# build with -fsanitize=thread (RTG_SANITIZE=thread, default folder
# build-tsan), then the real-time runtime's tests (test_rt_*: the engine's
# command and retire rings, swaps, reloads and events from several
# threads; the console; the CLI's run) and the live JACK tests
# (live_jack_start, live_run_amp, live_jack_stop: rtgraph under 10,000
# params, 200 swaps and 20 reloads on a JACK server's audio thread).
#
# Fails when any test fails or when any process, test or a rtgraph they
# started, wrote a ThreadSanitizer report (halt_on_error=1: the first race
# ends that process; every report is kept in BUILD_DIR/tsan/ and printed).
# Needs the packages tools/setup.sh installs (jackd2 for the live tests;
# without it they skip).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-tsan}
case "$build" in /*) ;; *) build="$PWD/$build" ;; esac
jobs="$(nproc)"
start=$(date +%s)

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRTG_WERROR=ON \
  -DRTG_SANITIZE=thread >/dev/null
cmake --build "$build" -j"$jobs" --target all

reports="$build/tsan"
rm -rf "$reports"
mkdir -p "$reports"
# log_path: each process writes its reports to tsan/report.PID, so reports
# of the rtgraph processes the live tests start are caught too.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$reports/report"
# The live tests check what ran and that nothing raced, not timing: TSan
# makes the amp model ~20x slower, so xruns there are only noted.
export RTG_LIVE_SLOW_BUILD=1
status=0
ctest --test-dir "$build" --output-on-failure -j"$jobs" \
  -R '^(test_rt_.*|live_jack_start|live_run_amp|live_jack_stop)$' || status=1

if compgen -G "$reports/report*" > /dev/null; then
  echo "ThreadSanitizer reports:"
  cat "$reports"/report*
  status=1
else
  echo "tsan.sh: no ThreadSanitizer report"
fi
echo "tsan.sh: $(( $(date +%s) - start )) s"
exit $status
