#!/bin/sh
# jack_fixture.sh start|stop STATE_DIR — the JACK server (dummy driver, no
# sound card needed) that the live tests play through, as a CTest fixture.
#
# start: runs `jackd -n $JACK_DEFAULT_SERVER -d dummy -r 48000 -p 1024` in
# the background (-p $RTG_JACK_PERIOD when set: tests/soak.sh runs at 128) (again with --no-realtime if real-time is refused) and
# waits up to 5 s for `jack_wait -c` to say "running". If it never does,
# it writes the reason to STATE_DIR/skip and still succeeds: the live tests
# then skip (exit 77) with that message instead of failing or passing.
# stop: SIGTERM to the server it started, and waits for it to go.
set -u
cmd=${1:?usage: jack_fixture.sh start|stop STATE_DIR}
state=${2:?usage: jack_fixture.sh start|stop STATE_DIR}
server=${JACK_DEFAULT_SERVER:-rtgraph-test}
period=${RTG_JACK_PERIOD:-1024}
mkdir -p "$state"

skip() {
    echo "$1" > "$state/skip"
    echo "live tests will be skipped: $1"
    exit 0
}

# Starts jackd with extra server options "$@"; 0 once it runs.
try_start() {
    jackd -n "$server" "$@" -d dummy -r 48000 -p "$period" > "$state/jackd.log" 2>&1 &
    pid=$!
    echo "$pid" > "$state/jackd.pid"
    i=0
    while [ $i -lt 50 ]; do
        if jack_wait -s "$server" -c 2>/dev/null | grep -q '^running'; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
        i=$((i + 1))
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 1
}

case "$cmd" in
start)
    rm -f "$state/skip" "$state/jackd.pid"
    command -v jackd > /dev/null || skip "jackd is not installed (Debian: jackd2)"
    command -v jack_wait > /dev/null || skip "jack_wait is not installed (Debian: jackd2)"
    if jack_wait -s "$server" -c 2>/dev/null | grep -q '^running'; then
        skip "a JACK server named '$server' is already running; not touching it"
    fi
    if try_start; then
        echo "JACK dummy server '$server' running (pid $(cat "$state/jackd.pid"), real-time)"
    elif try_start --no-realtime; then
        echo "JACK dummy server '$server' running (pid $(cat "$state/jackd.pid"), not real-time)"
    else
        rm -f "$state/jackd.pid"
        skip "the JACK dummy server did not start within 5 s (see $state/jackd.log)"
    fi
    ;;
stop)
    [ -f "$state/jackd.pid" ] || exit 0
    pid=$(cat "$state/jackd.pid")
    kill -TERM "$pid" 2>/dev/null
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    rm -f "$state/jackd.pid"
    echo "JACK dummy server '$server' stopped"
    ;;
*)
    echo "usage: jack_fixture.sh start|stop STATE_DIR" >&2
    exit 2
    ;;
esac
