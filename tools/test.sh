#!/usr/bin/env bash
# The whole test suite: a Release build with warnings as errors, then the
# same tests again under AddressSanitizer + UndefinedBehaviorSanitizer, the
# runtime and live tests under ThreadSanitizer (tools/tsan.sh), then every
# loader fuzzed for a minute (tools/fuzz.sh), one per core.
# Needs the packages tools/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="$(nproc)"

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRTG_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRTG_WERROR=ON \
  -DRTG_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

# Data races between the control and audio threads (tools/tsan.sh).
tools/tsan.sh

# Then every loader fuzzed for 60 s (clang, libFuzzer; tools/fuzz.sh).
FUZZ_PARALLEL="$jobs" tools/fuzz.sh 60
