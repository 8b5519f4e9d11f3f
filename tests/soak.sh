#!/bin/sh
# soak.sh SECONDS [BUILD_DIR] — the soak: `rtgraph run configs/amp.yaml` on
# a JACK dummy server at 128 frames per callback for SECONDS while a script
# streams param changes (500/s), model swaps (10/s) and graph reloads (1/s)
# into it, then prints and writes the figures: callbacks, xruns, callback
# time (median, p99, max) against the 2.67 ms budget, commands applied and
# refused, resident memory at the start, after warm-up and at the end, and
# allocations/locks on the audio thread.
#
# It runs the guarded CLI (BUILD_DIR/rtgraph_guarded, which counts
# allocations and locks on the audio thread) through the live tests' own
# pieces: tests/live/jack_fixture.sh starts and stops the server, and
# `rtg_live_run --soak` drives rtgraph and checks it (see there for what
# fails the soak). The server is this run's own (its name carries the pid),
# so a soak never touches a user's or the live tests' server.
#
# Figures: BUILD_DIR/soak/soak.json (and soak.txt, what was printed, with
# the VM's steal time over the run).
# Exit: 0 passed, 1 failed, 77 skipped (no JACK server could start).
# BUILD_DIR defaults to build/. Runs at nice 10 unless RTG_SOAK_NICE is set.
set -u
seconds=${1:?usage: soak.sh SECONDS [BUILD_DIR]}
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${2:-$here/build}" && pwd) || exit 2
state="$build/soak"
mkdir -p "$state"
for f in "$build/rtgraph_guarded" "$build/rtg_live_run"; do
    if [ ! -x "$f" ]; then
        echo "soak.sh: $f is missing: build with tests on (cmake --build $build)" >&2
        exit 2
    fi
done

export JACK_DEFAULT_SERVER="rtgraph-soak-$$"
export RTG_JACK_PERIOD=128
export RTG_SHARED_DIR="${RTG_SHARED_DIR:-$here/../shared}"
fixture="$here/tests/live/jack_fixture.sh"
stop() { sh "$fixture" stop "$state" > /dev/null; }
trap stop EXIT
trap 'exit 130' INT TERM
sh "$fixture" start "$state" || exit 1
[ -f "$state/skip" ] && exit 77

# Steal time: what the hypervisor took from this VM's CPUs (the 8th field
# of each cpuN line of /proc/stat, in clock ticks). On a virtual machine a
# callback can wait on the host however the guest schedules it; this says
# how much of that there was.
steal() { awk '/^cpu[0-9]/ { printf "%s=%s ", $1, $9 }' /proc/stat 2>/dev/null; }

rm -f "$state/status"
{
    steal_start=$(steal)
    nice -n "${RTG_SOAK_NICE:-10}" "$build/rtg_live_run" --soak "$seconds" \
        "$build/rtgraph_guarded" "$here/configs/amp.yaml" "$state" \
        "$here/examples/audio/di_guitar.wav" "$state/soak.json"
    echo $? > "$state/status"
    steal_end=$(steal)
    hz=$(getconf CLK_TCK 2>/dev/null || echo 100)
    echo "$steal_start" "$steal_end" | awk -v hz="$hz" '{
        n = NF / 2; line = "";
        for (i = 1; i <= n; i++) {
            split($i, a, "="); split($(i + n), b, "=");
            line = line sprintf(" %s %.0f ms", a[1], (b[2] - a[2]) * 1000 / hz);
        }
        if (n) print "  VM steal time " line " (time the host ran something else)";
    }'
} 2>&1 | tee "$state/soak.txt"
status=$(cat "$state/status" 2>/dev/null || echo 1)
[ "$status" -eq 0 ] && echo "figures: $state/soak.json"
exit "$status"
