#!/bin/bash
# run.sh - end-to-end tests of the split-driver toolkit over the hosted
# transport: xenstore-lite, pvkit-blkback (ASan/UBSan build) and frontend
# processes on this host.  Every test prints PASS/FAIL; the last line is
# "N passed, N failed"; the exit status is non-zero if anything failed or
# if a needed facility (the store daemon) is missing.  All processes and
# temporary files are removed on exit, whatever happens.
# Environment: BUILD (build dir), OUT (the component's object dir).
set -u
. "$(dirname "$0")/env.sh"

tmp=$(mktemp -d /tmp/pvk-e2e.XXXXXX)
pids=()
pass=0
fail=0

netns=""
loopdev=""
cleanup() {
    [ -n "$loopdev" ] && losetup -d "$loopdev" 2>/dev/null
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "$netns" ] && ip netns del "$netns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

export XENSTORED_PATH=$tmp/xs.sock
export PVKIT_HOSTED_DIR=$tmp/hosted

ok()  { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -f "$tmp/$1.log" ] && sed 's/^/    /' "$tmp/$1.log"; }

# Runs "$@" as test $1 (output kept in $tmp/$1.log).
t() {
    local name=$1
    shift
    if timeout 120 "$@" >"$tmp/$name.log" 2>&1; then ok "$name"; else bad "$name"; fi
}

finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}

if [ ! -x "$XSD" ]; then
    fail=$((fail + 1))
    echo "FAIL setup: $XSD not built; the hosted tests need the store daemon"
    finish
fi
for b in pvkit-blkback blkfront-test hostile-blk mkvbd pvkit-consoled console-test \
         pvkit-netback net-test; do
    if [ ! -x "$SAN/$b" ]; then
        fail=$((fail + 1))
        echo "FAIL setup: $SAN/$b missing"
        finish
    fi
done

mkdir -p "$PVKIT_HOSTED_DIR"
"$XSD" --socket "$XENSTORED_PATH" >"$tmp/xenstored.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$XENSTORED_PATH" ] && break; sleep 0.05; done
if [ ! -S "$XENSTORED_PATH" ]; then
    fail=$((fail + 1))
    echo "FAIL setup: xenstore-lite did not start"
    cat "$tmp/xenstored.log"
    finish
fi

"$SAN/pvkit-blkback" --transport hosted >"$tmp/blkback.log" 2>&1 &
bbpid=$!
pids+=($bbpid)

mkvbd() { "$SAN/mkvbd" "$@"; }
disk() { truncate -s "$2" "$tmp/$1"; }

# 1. Random I/O, one queue, one-page ring; image compared with a direct copy.
disk d5.img 64M; disk r5.img 64M
mkvbd add 5 51712 "$tmp/d5.img" w
t verify-1q "$SAN/blkfront-test" verify 5 51712 "$tmp/r5.img" 30
t image-cmp-1q cmp "$tmp/d5.img" "$tmp/r5.img"

# 2. Two queues, four-page rings.
disk d6.img 32M; disk r6.img 32M
mkvbd add 6 51728 "$tmp/d6.img" w
t verify-mq "$SAN/blkfront-test" verify 6 51728 "$tmp/r6.img" 20 2 2
t image-cmp-mq cmp "$tmp/d6.img" "$tmp/r6.img"
t backend-keys "$SAN/mkvbd" wait /local/domain/0/backend/vbd/6/51728/feature-persistent 1 1000

# 3. Flush ordering, discard, read-only, reconnect.
disk d7.img 16M
mkvbd add 7 51712 "$tmp/d7.img" w
t flush "$SAN/blkfront-test" flush 7 51712 "$tmp/d7.img"
disk d8.img 16M
mkvbd add 8 51712 "$tmp/d8.img" w
t discard "$SAN/blkfront-test" discard 8 51712 "$tmp/d8.img"
disk d9.img 16M
mkvbd add 9 51712 "$tmp/d9.img" r
t readonly "$SAN/blkfront-test" readonly 9 51712
disk d15.img 16M
mkvbd add 15 51712 "$tmp/d15.img" w cdrom
t cdrom-readonly "$SAN/blkfront-test" readonly 15 51712
t cdrom-info "$SAN/mkvbd" wait /local/domain/0/backend/vbd/15/51712/info 5 1000
disk d10.img 16M
mkvbd add 10 51712 "$tmp/d10.img" w
t reconnect "$SAN/blkfront-test" reconnect 10 51712
disk r10.img 16M
cp "$tmp/d10.img" "$tmp/r10.img"
t restarted-frontend "$SAN/blkfront-test" verify 10 51712 "$tmp/r10.img" 5
t restarted-image-cmp cmp "$tmp/d10.img" "$tmp/r10.img"

# 3b. A block device (loop) as backing store: size, physical-device, discard.
disk loop.img 32M; disk rloop.img 32M
if loopdev=$(losetup -f --show "$tmp/loop.img"); then
    mkvbd add 14 51712 "$loopdev" w
    t blkdev-verify "$SAN/blkfront-test" verify 14 51712 "$tmp/rloop.img" 10
    t blkdev-image-cmp cmp "$loopdev" "$tmp/rloop.img"
    want="$(stat -c %t "$loopdev"):$(stat -c %T "$loopdev")"   # major:minor, hex
    t blkdev-physical-device "$SAN/mkvbd" wait /local/domain/0/backend/vbd/14/51712/physical-device "$want" 1000
else
    loopdev=""
    bad blkdev-losetup
fi

# 4. A hostile frontend on one disk while a well-behaved one uses another.
disk d11.img 16M; disk d12.img 32M; disk r12.img 32M
mkvbd add 11 51712 "$tmp/d11.img" w
mkvbd add 12 51712 "$tmp/d12.img" w
"$SAN/blkfront-test" verify 12 51712 "$tmp/r12.img" 40 >"$tmp/bystander.log" 2>&1 &
bystander=$!
t hostile "$SAN/hostile-blk" 11 51712
sed 's/^/    /' "$tmp/hostile.log"
if wait "$bystander"; then ok bystander; else bad bystander; fi
t bystander-image-cmp cmp "$tmp/d12.img" "$tmp/r12.img"
disk d13.img 16M; disk r13.img 16M
mkvbd add 13 51712 "$tmp/d13.img" w
t served-after-hostile "$SAN/blkfront-test" verify 13 51712 "$tmp/r13.img" 5

# 5. Console daemon: log file, attached client both ways, teardown.
mkdir -p "$tmp/logs"
"$SAN/pvkit-consoled" --transport hosted --log-dir "$tmp/logs" \
    --socket "$tmp/consoled.sock" >"$tmp/consoled.log" 2>&1 &
cdpid=$!
pids+=($cdpid)
t console "$SAN/console-test" 20 "$tmp/consoled.sock" "$tmp/expect20.txt"
t console-log cmp "$tmp/logs/d20.log" "$tmp/expect20.txt"
gone=1
for _ in $(seq 100); do
    grep -q "d20: console released" "$tmp/consoled.log" && { gone=0; break; }; sleep 0.05
done
if [ "$gone" -eq 0 ]; then ok console-teardown; else bad console-teardown; fi
kill -TERM "$cdpid"
if wait "$cdpid" && ! grep -qE "AddressSanitizer|runtime error" "$tmp/consoled.log"; then
    ok consoled-clean-exit
else
    bad consoled-clean-exit; cat "$tmp/consoled.log"
fi

# 6. Network: netback in a fresh network namespace, two vifs.
netns=pvk-e2e-$$
if ! ip netns add "$netns"; then
    netns=""
    bad netns-create
else
    ip netns exec "$netns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1
    ip netns exec "$netns" "$SAN/pvkit-netback" --transport hosted \
        >"$tmp/netback.log" 2>&1 &
    nbpid=$!
    pids+=($nbpid)
    "$SAN/mkvbd" addvif 30 0 00:16:3e:00:00:1e
    "$SAN/mkvbd" addvif 31 0 00:16:3e:00:00:1f
    t net ip netns exec "$netns" "$SAN/net-test"
    sed 's/^/    /' "$tmp/net.log"
    t vif-closed-hotplug-removed sh -c "\"$SAN/mkvbd\" wait /local/domain/0/backend/vif/30/0/state 6 3000 && ! xenstore-read -s /local/domain/0/backend/vif/30/0/hotplug-status"
    kill -TERM "$nbpid"
    if wait "$nbpid" && ! grep -qE "AddressSanitizer|runtime error" "$tmp/netback.log"; then
        ok netback-clean-exit
    else
        bad netback-clean-exit; cat "$tmp/netback.log"
    fi
fi

# 7. Device removal is noticed and the daemon survives everything above.
mkvbd del 5 51712
t backend-alive kill -0 "$bbpid"
kill -TERM "$bbpid"
if wait "$bbpid"; then ok blkback-clean-exit; else bad blkback-clean-exit; cat "$tmp/blkback.log"; fi
if grep -qE "AddressSanitizer|runtime error|LeakSanitizer" "$tmp/blkback.log"; then
    bad blkback-sanitizers; cat "$tmp/blkback.log"
else
    ok blkback-sanitizers
fi
finish
