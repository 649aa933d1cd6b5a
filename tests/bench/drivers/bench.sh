#!/bin/bash
# bench.sh - benchmarks of the split-driver toolkit over the hosted
# transport (optimised builds): block against the same file accessed
# directly, network against a tap device used directly, each pair measured
# back to back in one run.  Prints "blk ..." and "net ..." lines.  Needs
# root (network namespace, tap).  Cleans up processes, namespace and files.
set -u
BUILD=${BUILD:?BUILD must be set}
OUT=${OUT:-$BUILD/drivers}
REL=$OUT/rel/bin
SECS=${BENCH_SECONDS:-2}
tmp=$(mktemp -d /var/tmp/pvk-bench.XXXXXX)
pids=()
netns=""
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "$netns" ] && ip netns del "$netns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
export XENSTORED_PATH=$tmp/xs.sock PVKIT_HOSTED_DIR=$tmp/hosted
mkdir -p "$PVKIT_HOSTED_DIR"

"$BUILD/bin/xenstore-lite" --socket "$XENSTORED_PATH" >"$tmp/xs.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$XENSTORED_PATH" ] && break; sleep 0.05; done
[ -S "$XENSTORED_PATH" ] || { echo "bench: xenstore-lite did not start" >&2; exit 1; }

"$BUILD/bin/pvkit-blkback" --transport hosted >"$tmp/blkback.log" 2>&1 &
pids+=($!)
truncate -s 1G "$tmp/disk.img"
dd if=/dev/zero of="$tmp/disk.img" bs=1M count=1024 conv=notrunc status=none
"$REL/mkvbd" add 5 51712 "$tmp/disk.img" w
"$REL/blk-bench" 5 51712 "$tmp/disk.img" "$SECS" || exit 1

netns=pvk-bench-$$
ip netns add "$netns" || exit 1
ip netns exec "$netns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1
ip netns exec "$netns" "$BUILD/bin/pvkit-netback" --transport hosted \
    >"$tmp/netback.log" 2>&1 &
pids+=($!)
"$REL/mkvbd" addvif 30 0 00:16:3e:00:00:1e
ip netns exec "$netns" "$REL/net-bench" 30 "$SECS" || exit 1
