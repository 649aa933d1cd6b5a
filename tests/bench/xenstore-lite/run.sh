#!/bin/sh
# xenstore-lite benchmark: ops/s for read, write, directory, watch fire and
# transaction read-modify-write with 1 and 64 clients over the socket, and
# daemon memory per node for 100,000 nodes (RSS growth minus path and value
# bytes). Starts its own daemon in a temporary directory and always kills
# it. Needs BUILD and OBJ. BENCH_SECS (default 3) sets each run's length.
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

start() {
	"$BUILD/bin/xenstore-lite" --socket "$tmp/socket" -Q watches=1000 -Q transactions=100 \
		--log "$tmp/log" &
	pid=$!
	i=0
	while [ ! -S "$tmp/socket" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}
stop() { kill "$pid"; wait "$pid" || true; pid=""; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

export XENSTORED_PATH="$tmp/socket"
echo "xenstore-lite benchmark ($(nproc) CPUs, ${secs}s per run)"
start
# One client is a ping-pong between two processes: its rate depends mostly
# on whether the scheduler puts both on one CPU (no cross-CPU wake-up) or
# not, so both placements are measured.
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
# Daemon capacity without process wake-ups: 32 requests in flight per client.
for n in 1 8; do
	printf 'any CPU:  '
	"$OBJ/bench" pipelined "$n" "$secs"
done
stop

start
before=$(rss_kb "$pid")
bytes=$("$OBJ/bench" fill 100000)
after=$(rss_kb "$pid")
nodes=100000
echo "memory: RSS $before kB -> $after kB for $nodes nodes ($bytes bytes of path+value)"
awk -v b="$before" -v a="$after" -v d="$bytes" -v n="$nodes" 'BEGIN {
	printf "memory per node beyond path and value: %.0f bytes\n", ((a - b) * 1024 - d) / n }'
stop
