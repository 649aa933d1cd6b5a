#!/bin/sh
# measure.sh: the dom0 side of the toolstack benchmark (tests/bench/toolstack/README.md), the
# same script for every toolstack. Runs in dom0 under busybox sh once the toolstack's daemons
# are up, and prints "BENCH key value" lines (times in seconds, memory in KiB) on stdout:
#   1. create bench1 (nothing else running): the create command's return time, create to
#      the domU's first console line, create to its /init marker ("bench-domu: init");
#      then the resident memory of the daemons and per-domain processes; then destroy it.
#   2. create bench1..benchN one after the other, each once the previous one printed its
#      marker; the figures of the Nth; the resident memory with N domUs; destroy benchN
#      (timed), then the others.
# Keys end in _1 (phase 1) and _N (phase 2); the other creates and destroys of phase 2 are
# "BENCH-INFO" lines. A failure prints "BENCH error WHY" and exits 1.
# Every time comes from `tswatch now` (CLOCK_BOOTTIME in dom0); console lines are stamped by
# `tswatch` following the daemon's log file of the domain.
#
# Usage: measure.sh --create CMD --destroy CMD --conlog PATTERN --daemons "COMM..."
#                   --kernel FILE --ramdisk FILE [--monitors "COMM..."] [--list CMD]
#                   [--count N] [--mem MiB] [--vcpus N] [--timeout S] [--settle S]
#   CMD is run as "CMD CONFIG" (create) and "CMD NAME" (destroy), e.g. "xl create";
#   PATTERN names a domain's console log with %s for its name;
#   --daemons / --monitors: process names (/proc/PID/comm) whose VmRSS is summed per name;
#   daemons are expected once each, monitors are per-domain processes (xl's);
#   defaults: --count 8 --mem 128 --vcpus 1 --timeout 300 --settle 3.
set -eu
set -o pipefail

create="" destroy="" conlog="" daemons="" monitors="" list="" kernel="" ramdisk=""
count=8 mem=128 vcpus=1 timeout=300 settle=3
work=/tmp/bench-toolstack
marker="bench-domu: init"

B() { echo "BENCH $*"; }
fail() { B error "$*"; exit 1; }
need() { [ $# -ge 2 ] || fail "measure.sh: $1 needs a value"; }
while [ $# -gt 0 ]; do
    case "$1" in
    --create | --destroy | --conlog | --daemons | --monitors | --list | --kernel | --ramdisk | \
    --count | --mem | --vcpus | --timeout | --settle)
        need "$@"; eval "${1#--}=\$2" ;;   # --NAME VALUE sets $NAME
    *) fail "measure.sh: unknown argument '$1'" ;;
    esac
    shift 2
done
[ -n "$create" ] && [ -n "$destroy" ] && [ -n "$conlog" ] && [ -n "$daemons" ] ||
    fail "measure.sh: --create, --destroy, --conlog and --daemons are required"
[ -r "$kernel" ] || fail "measure.sh: $kernel: cannot read the domU kernel"
[ -r "$ramdisk" ] || fail "measure.sh: $ramdisk: cannot read the domU initramfs"
command -v tswatch >/dev/null || fail "measure.sh: tswatch is not on PATH"
mkdir -p "$work"

now() { tswatch now; }
# sub A B: B - A with 3 decimals
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# log_of NAME: the console log of domain NAME
log_of() { printf "$conlog" "$1"; }

# write_cfg NAME: the domU's xl.cfg (no disk, no vif)
write_cfg() {
    cat >"$work/$1.cfg" <<EOF
# toolstack benchmark domU (tests/bench/toolstack/measure.sh)
name = "$1"
type = "pv"
memory = $mem
vcpus = $vcpus
kernel = "$kernel"
ramdisk = "$ramdisk"
extra = "console=hvc0"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
EOF
}

# create_timed NAME TAG KIND: creates NAME and waits for its marker; prints the figures as
# "KIND key_TAG value" (KIND is BENCH or BENCH-INFO).
create_timed() {
    local name=$1 tag=$2 kind=$3 log t0 t1 rc first init
    log=$(log_of "$name")
    write_cfg "$name"
    rm -f "$log"
    tswatch "$log" "$timeout" init="$marker" >"$work/$name.watch" 2>&1 &
    local wpid=$!
    # the watcher is armed (inotify watch in place) once it printed its start line
    local n=0
    until grep -q '^TSWATCH start' "$work/$name.watch" 2>/dev/null; do
        n=$((n + 1)); [ $n -lt 200 ] || fail "tswatch did not start"
        sleep 0.05
    done
    t0=$(now)
    rc=0
    $create "$work/$name.cfg" >"$work/$name.create" 2>&1 || rc=$?
    t1=$(now)
    if [ $rc -ne 0 ]; then
        sed "s/^/BENCH-LOG create $name: /" "$work/$name.create"
        kill $wpid 2>/dev/null || true
        fail "create $name: status $rc"
    fi
    echo "$kind create_s_$tag $(sub "$t0" "$t1")"
    rc=0
    wait $wpid || rc=$?
    first=$(awk '$1 == "TSWATCH" && $2 == "first_line" { print $3 }' "$work/$name.watch")
    init=$(awk '$1 == "TSWATCH" && $2 == "init" { print $3 }' "$work/$name.watch")
    [ -n "$first" ] && echo "$kind create_to_first_line_s_$tag $(sub "$t0" "$first")"
    [ -n "$init" ] && echo "$kind create_to_init_s_$tag $(sub "$t0" "$init")"
    if [ $rc -ne 0 ] || [ -z "$init" ]; then
        tail -n 20 "$log" 2>/dev/null | sed "s/^/BENCH-LOG console $name: /"
        fail "$name: no '$marker' on its console within $timeout s"
    fi
}

# destroy_timed NAME TAG KIND
destroy_timed() {
    local name=$1 tag=$2 kind=$3 t0 t1 rc=0
    t0=$(now)
    $destroy "$name" >"$work/$name.destroy" 2>&1 || rc=$?
    t1=$(now)
    [ $rc -eq 0 ] || { sed "s/^/BENCH-LOG destroy $name: /" "$work/$name.destroy"; fail "destroy $name: status $rc"; }
    echo "$kind destroy_s_$tag $(sub "$t0" "$t1")"
}

# rss_of COMM: "KIB COUNT", the VmRSS summed over the processes named COMM
rss_of() {
    local d c k v sum=0 n=0
    for d in /proc/[0-9]*; do
        c=""
        read -r c <"$d/comm" 2>/dev/null || continue
        [ "$c" = "$1" ] || continue
        while read -r k v _; do
            [ "$k" = VmRSS: ] && { sum=$((sum + v)); n=$((n + 1)); break; }
        done <"$d/status" 2>/dev/null || true
    done
    echo "$sum $n"
}

# rss_report TAG: per process name (and their total), after the system settled
rss_report() {
    local tag=$1 c r total=0
    sleep "$settle"
    for c in $daemons $monitors; do
        set -- $(rss_of "$c")
        echo "BENCH rss_kib_${tag}_$c $1"
        echo "BENCH procs_${tag}_$c $2"
        total=$((total + $1))
    done
    echo "BENCH rss_kib_${tag}_total $total"
}

# ---- configuration
B domu_mem_mib "$mem"
B domu_vcpus "$vcpus"
B domu_count "$count"
B dom0_kernel "$(uname -r)"
for c in $daemons; do
    set -- $(rss_of "$c")
    [ "$2" -ge 1 ] || fail "daemon $c is not running"
done

# ---- phase 1: one domU
create_timed bench1 1 BENCH
log1=$(log_of bench1)
B domu_kernel "$(grep -a -o -m 1 'Linux version [^ ]*' "$log1" | cut -d' ' -f3)"
# how much console output came before the marker (the same kernel prints about the same)
B domu_console_lines_to_init "$(awk -v m="$marker" 'index($0, m) { print NR; exit }' "$log1")"
head -n 2 "$log1" | sed 's/^/BENCH-LOG console-head bench1: /'
rss_report 1
[ -z "$list" ] || $list 2>&1 | sed 's/^/BENCH-LOG list-1: /'
destroy_timed bench1 1 BENCH

# ---- phase 2: COUNT domUs
i=1
while [ $i -le "$count" ]; do
    if [ $i -eq "$count" ]; then create_timed "bench$i" "$count" BENCH
    else create_timed "bench$i" "at$i" BENCH-INFO
    fi
    i=$((i + 1))
done
rss_report "$count"
[ -z "$list" ] || $list 2>&1 | sed "s/^/BENCH-LOG list-$count: /"
destroy_timed "bench$count" "$count" BENCH
i=1
while [ $i -lt "$count" ]; do
    destroy_timed "bench$i" "at$i" BENCH-INFO
    i=$((i + 1))
done
[ -z "$list" ] || $list 2>&1 | sed 's/^/BENCH-LOG list-end: /'
B done 1
