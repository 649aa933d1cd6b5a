#!/bin/bash
# cli.sh - the backend daemons' command lines and start-up errors (no root,
# no network, a few seconds): pvkit-blkback, pvkit-netback and
# pvkit-consoled (ASan/UBSan builds) must answer -h/--help with the usage on
# stdout and status 0; refuse an unknown option, a stray argument, an
# unknown transport, every number outside its range, a missing directory
# and a missing or non-socket store socket with status 2 and one stderr line
# naming the option/path, value and allowed range; and name the device or
# socket a transport or store failed on (status 1).  Each check is one
# PASS/FAIL line; the last line is "N passed, N failed".
# Environment: BUILD (build dir), OUT (the component's object dir).
set -u
. "$(dirname "$0")/env.sh"
tmp=$(mktemp -d /tmp/pvk-cli.XXXXXX)
xsd_pid=""
cleanup() {
    [ -n "$xsd_pid" ] && kill -KILL "$xsd_pid" 2>/dev/null && wait "$xsd_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
unset PVKIT_HOSTED_DIR XENSTORED_PATH XENSTORED_RUNDIR
pass=0 fail=0

# expect NAME STATUS STDERR-REGEX COMMAND...: COMMAND (at most 10 s) exits
# with STATUS and its stderr is exactly one line matching STDERR-REGEX.
expect() {
    local name=$1 want=$2 re=$3 rc n
    shift 3
    timeout 10 "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    n=$(wc -l <"$tmp/err")
    if [ "$rc" = "$want" ] && [ "$n" = 1 ] && grep -Eq -- "$re" "$tmp/err"; then
        pass=$((pass + 1)); echo "PASS $name"
    else
        fail=$((fail + 1)); echo "FAIL $name: status $rc (want $want), stderr:"
        sed 's/^/    /' "$tmp/err" | head -n 5
    fi
}
# expect_help NAME COMMAND...: status 0, usage on stdout, nothing on stderr.
expect_help() {
    local name=$1 rc
    shift
    timeout 10 "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" = 0 ] && head -n 1 "$tmp/out" | grep -q '^usage: pvkit-' && [ ! -s "$tmp/err" ]; then
        pass=$((pass + 1)); echo "PASS $name"
    else
        fail=$((fail + 1)); echo "FAIL $name: status $rc, stdout '$(head -n 1 "$tmp/out")'"
        sed 's/^/    /' "$tmp/err" | head -n 5
    fi
}

for b in pvkit-blkback pvkit-netback pvkit-consoled; do
    if [ ! -x "$SAN/$b" ]; then
        echo "FAIL setup: $SAN/$b missing"; echo "0 passed, 1 failed"; exit 1
    fi
done
BB=$SAN/pvkit-blkback NB=$SAN/pvkit-netback CD=$SAN/pvkit-consoled
mkdir -p "$tmp/hosted" "$tmp/logs"
: >"$tmp/file"

# Options common to the three daemons.
for d in "$BB" "$NB" "$CD"; do
    n=$(basename "$d")
    expect_help "$n --help" "$d" --help
    expect_help "$n -h" "$d" -h
    expect "$n unknown option" 2 "^$n: unknown option '--frobnicate'" "$d" --frobnicate
    expect "$n missing value" 2 "^$n: option '--transport' needs a value" "$d" --transport
    expect "$n stray argument" 2 "^$n: unexpected argument 'stray'" "$d" stray
    expect "$n unknown transport" 2 "^$n: --transport foo: unknown transport \(xen or hosted\)$" \
        "$d" --transport foo
done

# Numbers out of range: option, value and allowed range in one line.
range() { echo "^$1: $2 $3: (out of range|not a number) \(allowed $4\)$"; }
expect "blkback --max-queues 99999" 2 "$(range pvkit-blkback --max-queues 99999 1..16)" "$BB" --max-queues 99999
expect "blkback --max-queues 0" 2 "$(range pvkit-blkback --max-queues 0 1..16)" "$BB" --max-queues 0
expect "blkback --max-queues -1" 2 "$(range pvkit-blkback --max-queues -1 1..16)" "$BB" --max-queues -1
expect "blkback --max-queues 2x" 2 "$(range pvkit-blkback --max-queues 2x 1..16)" "$BB" --max-queues 2x
expect "blkback --max-ring-order 40" 2 "$(range pvkit-blkback --max-ring-order 40 0..4)" "$BB" --max-ring-order 40
expect "blkback --max-indirect 257" 2 "$(range pvkit-blkback --max-indirect 257 0..256)" "$BB" --max-indirect 257
expect "blkback --max-indirect 5" 2 "$(range pvkit-blkback --max-indirect 5 '0 or 12..256')" "$BB" --max-indirect 5
expect "blkback --max-persistent 2^64" 2 "$(range pvkit-blkback --max-persistent 18446744073709551616 0..32768)" \
    "$BB" --max-persistent 18446744073709551616
expect "blkback --max-persistent 40000" 2 "$(range pvkit-blkback --max-persistent 40000 0..32768)" "$BB" --max-persistent 40000
expect "netback --max-queues 99999" 2 "$(range pvkit-netback --max-queues 99999 1..8)" "$NB" --max-queues 99999
expect "netback --max-queues 0" 2 "$(range pvkit-netback --max-queues 0 1..8)" "$NB" --max-queues 0

# Directories and files given on the command line or in the environment.
expect "consoled --log-dir missing" 2 "^pvkit-consoled: --log-dir $tmp/nope: No such file or directory$" \
    "$CD" --transport hosted --log-dir "$tmp/nope" --socket "$tmp/c.sock"
expect "consoled --log-dir a file" 2 "^pvkit-consoled: --log-dir $tmp/file: not a directory$" \
    "$CD" --transport hosted --log-dir "$tmp/file" --socket "$tmp/c.sock"
expect "consoled --socket in a missing directory" 1 "^\(pvkit-consoled\) $tmp/nope/c.sock: No such file or directory$" \
    "$CD" --log-dir "$tmp/logs" --socket "$tmp/nope/c.sock"
for d in "$BB" "$NB" "$CD"; do
    n=$(basename "$d")
    dirs=(); [ "$d" = "$CD" ] && dirs=(--log-dir "$tmp/logs" --socket "$tmp/c.sock")
    expect "$n missing PVKIT_HOSTED_DIR" 2 "^$n: PVKIT_HOSTED_DIR $tmp/nohosted: No such file or directory$" \
        env PVKIT_HOSTED_DIR="$tmp/nohosted" XENSTORED_PATH="$tmp/xs.sock" "$d" --transport hosted "${dirs[@]}"
    expect "$n missing store socket" 2 "^$n: store socket $tmp/xs.sock: No such file or directory$" \
        env PVKIT_HOSTED_DIR="$tmp/hosted" XENSTORED_PATH="$tmp/xs.sock" "$d" --transport hosted "${dirs[@]}"
    expect "$n store path not a socket" 2 "^$n: store socket $tmp/file: not a socket$" \
        env PVKIT_HOSTED_DIR="$tmp/hosted" XENSTORED_PATH="$tmp/file" "$d" --transport hosted "${dirs[@]}"
done

# Transport and store failures name what they failed on.
if [ -x "$XSD" ]; then
    # A killed daemon leaves a socket nobody listens on: connect is refused.
    "$XSD" --socket "$tmp/stale.sock" 2>/dev/null &
    xsd_pid=$!
    for _ in $(seq 100); do [ -S "$tmp/stale.sock" ] && break; sleep 0.05; done
    kill -KILL "$xsd_pid"; wait "$xsd_pid" 2>/dev/null; xsd_pid=""
    for d in "$BB" "$NB" "$CD"; do
        n=$(basename "$d")
        dirs=(); [ "$d" = "$CD" ] && dirs=(--log-dir "$tmp/logs" --socket "$tmp/c.sock")
        expect "$n store connect error names the socket" 1 \
            "^\($n\) cannot connect to xenstore at $tmp/stale.sock: Connection refused$" \
            env PVKIT_HOSTED_DIR="$tmp/hosted" XENSTORED_PATH="$tmp/stale.sock" "$d" --transport hosted "${dirs[@]}"
    done
else
    fail=$((fail + 1)); echo "FAIL setup: $XSD not built (needed for the stale-socket checks)"
fi
if [ ! -e /dev/xen/gntdev ]; then
    for d in "$BB" "$NB" "$CD"; do
        n=$(basename "$d")
        dirs=(); [ "$d" = "$CD" ] && dirs=(--log-dir "$tmp/logs" --socket "$tmp/c.sock")
        expect "$n xen transport error names /dev/xen/gntdev" 1 \
            "^\($n\) transport xen: /dev/xen/gntdev: No such file or directory$" "$d" "${dirs[@]}"
    done
else
    echo "SKIP xen transport errors (this host has /dev/xen/gntdev)"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
