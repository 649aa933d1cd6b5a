#!/bin/sh
# xenstore-lite benchmark: ops/s for read, write, directory, watch fire and
# transaction read-modify-write with 1 and 64 clients over the socket, the
# daemon's capacity with pipelined requests, and daemon memory per node for
# 100,000 nodes (RSS growth minus path and value bytes). Starts its own
# daemon in a temporary directory and always kills it. Needs BUILD and OBJ.
# BENCH_SECS (default 3) sets each run's length. If REF_DAEMON is set (a
# command that serves $XENSTORED_PATH, e.g. "xenstored -N -D" on a Xen
# host), the same workload runs against it afterwards.
set -eu
: "${BUILD:?}" "${OBJ:?}"
secs=${BENCH_SECS:-3}
tmp=$(mktemp -d /tmp/xenstore-lite-bench.XXXXXX)
pid=""
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# start CMD...: run a daemon serving $XENSTORED_PATH, wait for its socket.
start() {
	rm -f "$XENSTORED_PATH"
	"$@" > "$tmp/log" 2>&1 &
	pid=$!
	i=0
	while [ ! -S "$XENSTORED_PATH" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ -S "$XENSTORED_PATH" ] || { echo "bench: daemon did not start"; cat "$tmp/log"; exit 1; }
}
stop() { kill "$pid"; wait "$pid" || true; pid=""; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# suite NAME CMD...: the whole workload against the daemon CMD starts.
suite() {
	name=$1
	shift
	echo "== $name ($(nproc) CPUs, ${secs}s per run)"
	start "$@"
	# One client is a ping-pong between two processes: its rate depends
	# mostly on whether the scheduler puts both on one CPU (no cross-CPU
	# wake-up), so both placements are measured.
	for op in read write directory watch txrmw; do
		taskset -p -c 0 "$pid" >/dev/null
		printf 'same CPU: '
		taskset -c 0 "$OBJ/bench" "$op" 1 "$secs"
		taskset -p -c 0-$(($(nproc) - 1)) "$pid" >/dev/null
		printf 'any CPU:  '
		"$OBJ/bench" "$op" 1 "$secs"
		printf 'any CPU:  '
		"$OBJ/bench" "$op" 64 "$secs"
	done
	# Daemon capacity without process wake-ups: 32 requests in flight.
	for n in 1 8; do
		printf 'any CPU:  '
		"$OBJ/bench" pipelined "$n" "$secs"
	done
	stop

	start "$@"
	before=$(rss_kb "$pid")
	bytes=$("$OBJ/bench" fill 100000)
	after=$(rss_kb "$pid")
	echo "memory: RSS $before kB -> $after kB for 100000 nodes ($bytes bytes of path+value)"
	awk -v b="$before" -v a="$after" -v d="$bytes" 'BEGIN {
		printf "memory per node beyond path and value: %.0f bytes\n", ((a - b) * 1024 - d) / 100000 }'
	stop
}

export XENSTORED_PATH="$tmp/socket"
suite xenstore-lite "$BUILD/bin/xenstore-lite" --socket "$XENSTORED_PATH" \
	-Q watches=1000 -Q transactions=100
if [ -n "${REF_DAEMON:-}" ]; then
	export XENSTORED_RUNDIR="$tmp"
	# shellcheck disable=SC2086
	suite "reference: $REF_DAEMON" $REF_DAEMON
fi
