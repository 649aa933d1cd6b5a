#!/bin/sh
# measure.sh: the dom0 side of `make bench-io`, toolstack-neutral (busybox sh or bash).
# Prints "BENCH key value" lines:
#   1. a 256 MiB raw image (IMG, on a tmpfs of its own at /srv/io) with random contents;
#      iperf3 -s on dom0's bridge address 169.254.0.1 (xenbr0);
#   2. domU io2 (vif only, role sink: iperf3 -s), then io1 (disk = the image as xvdb, vif;
#      role main), both the cloud kernel, 1 vCPU, DOMU_MIB: io1 runs iob-fio on xvdb
#      (direct=1) and iob-net to dom0 and to io2; its IOB lines become BENCH lines;
#   3. both destroyed, dom0 runs the same iob-fio on the image file (direct=0: tmpfs has
#      no O_DIRECT in Linux 6.1) and iob-net to its own xenbr0 address (dom0_self_*).
# Usage: measure.sh --create CMD --destroy CMD --conlog PATTERN(%s = name) --kernel K
#                   --ramdisk R [--stats CMD] [--secs S] [--domu-mib MiB (512)]
#                   [--variants FILE]
# --variants FILE (tests/bench/io/variants): instead of step 2 and 3, one domU per line of
# FILE, "NAME VCPUS BLKBACK JOBS EXTRA...": pvkit-blkback restarted with the options BLKBACK
# (commas for spaces; "-" keeps the running one, "default" restarts it with none: pvkit
# only), VCPUS vCPUs, EXTRA more kernel command-line
# words (e.g. xen_blkfront.max_indirect_segments=256), running the fio jobs JOBS (iob-fio's
# list) on xvdb; JOBS "tcp" makes it io.reps-style TCP measures to io2 instead (EXTRA
# io.reps=N). Keys become domu_NAME_JOB_...; then dom0's own fio once for every job named.
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
create="" destroy="" conlog="" kernel="" ramdisk="" stats="" secs=8 mib=512 variants=""
while [ $# -gt 0 ]; do
    case "$1" in
    --create) create=$2 ;; --destroy) destroy=$2 ;; --conlog) conlog=$2 ;;
    --kernel) kernel=$2 ;; --ramdisk) ramdisk=$2 ;; --stats) stats=$2 ;;
    --secs) secs=$2 ;; --domu-mib) mib=$2 ;; --variants) variants=$2 ;;
    *) echo "BENCH error measure.sh: unknown argument $1"; exit 2 ;;
    esac
    shift 2
done
B() { echo "BENCH $*"; }
clog() { tr -d '\r' <"$(printf "$conlog" "$1")" 2>/dev/null; }
# snap LABEL: dom0's CPU time (/proc/stat ticks: busy = user+nice+system+irq+softirq, idle,
# steal) and that of the backends (processes or kernel threads named *blkback*, vif*,
# *netback*, loop*), the vif interfaces' packet and byte counters (BENCH-NET), then the
# hypervisor's statistics (--stats) when given
snap() {
    awk '$1 == "cpu" { print "BENCH-CPU '"$1"' dom0 busy " $2 + $3 + $4 + $7 + $8 " idle " $5 + $6 " steal " $9 }' /proc/stat
    awk -v l="$1" '{ c = $2; gsub(/[()]/, "", c)
        if (c ~ /^kworker/) c = "kworker"
        if (c ~ /blkback|^vif|netback|^loop|^xenstore|^iperf3|^kworker/) t[c] += $14 + $15 }
        END { for (c in t) if (t[c]) print "BENCH-CPU " l " " c " ticks " t[c] }' /proc/[0-9]*/stat 2>/dev/null
    for v in /sys/class/net/vif*; do
        [ -d "$v/statistics" ] || continue
        echo "BENCH-NET $1 ${v##*/} rx_packets $(cat $v/statistics/rx_packets) rx_bytes $(cat $v/statistics/rx_bytes) tx_packets $(cat $v/statistics/tx_packets) tx_bytes $(cat $v/statistics/tx_bytes)"
    done
    [ -z "$stats" ] || $stats 2>&1 | sed "s/^/BENCH-STATS $1 /"
}
wait_line() {   # NAME PATTERN SECONDS
    i=0
    until clog "$1" | grep -q "$2" || [ $i -ge "$3" ]; do sleep 1; i=$((i + 1)); done
    clog "$1" | grep -q "$2"
}
B dom0_kernel "$(uname -r)"
B dom0_vcpus "$(grep -c ^processor /proc/cpuinfo)"
B dom0_mem_kib "$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)"
B secs_per_measure "$secs"
B fio_version "$(fio --version)"
B iperf3_version "$(iperf3 --version | head -1)"

# --- 1. the image and dom0's iperf3 server ---------------------------------------------------
mkdir -p /srv/io
mount -t tmpfs -o size=300m iobench /srv/io || { B error "cannot mount tmpfs on /srv/io"; exit 1; }
IMG=/srv/io/disk.img
dd if=/dev/urandom of=/tmp/r bs=1M count=16 2>/dev/null
: >$IMG
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do cat /tmp/r >>$IMG; done
rm -f /tmp/r
B image_bytes "$(stat -c %s $IMG)"
B image_fs "$(awk '$2 == "/srv/io" { print $3 }' /proc/mounts)"
ip addr show dev xenbr0 | grep -q 'inet 169.254.0.1/' || ip addr add 169.254.0.1/16 dev xenbr0
ip link set xenbr0 up; ip link set lo up
iperf3 -s -B 169.254.0.1 >/tmp/iperf-dom0.log 2>&1 &
iperf_pid=$!

# --- 2. the domUs ------------------------------------------------------------------------------
mkdir -p /etc/iobench
# domu_cfg N ROLE VCPUS EXTRA: writes /etc/iobench/ioN.cfg (io1 also gets the disk)
domu_cfg() {
    cat >/etc/iobench/io$1.cfg <<CFG
name = "io$1"
type = "pv"
memory = $mib
vcpus = $3
kernel = "$kernel"
ramdisk = "$ramdisk"
extra = "console=hvc0 io.name=io$1 io.role=$2 io.addr=169.254.1.$1 io.dom0=169.254.0.1 io.peer=169.254.1.2 io.secs=$secs $4"
vif = [ 'mac=00:16:3e:00:00:0$1,bridge=xenbr0' ]
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
CFG
    [ "$1" = 1 ] && echo "disk = [ 'file:$IMG,xvdb,w' ]" >>/etc/iobench/io1.cfg
    return 0
}
# restart_blkback ARGS: pvkit-blkback again with ARGS (commas for spaces), as dom0's init
# starts it (pid in /run/pvkit/blkback.pid for the toolstack)
restart_blkback() {
    pid=$(cat /run/pvkit/blkback.pid 2>/dev/null)
    [ -n "$pid" ] && kill "$pid"
    i=0; while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    : >/var/log/pvkit/blkback.log
    # shellcheck disable=SC2046
    pvkit-blkback --transport xen $(echo "$1" | sed 's/^default$//' | tr , ' ') >>/var/log/pvkit/blkback.log 2>&1 &
    echo $! >/run/pvkit/blkback.pid
    i=0; until grep -q serving /var/log/pvkit/blkback.log || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
}
# run_variant NAME VCPUS BLKBACK JOBS EXTRA...: one domU io1, its IOB lines as domu_NAME_ keys
run_variant() {
    vn=$1 vc=$2 bb=$3 vj=$4; shift 4
    [ "$bb" = - ] || restart_blkback "$bb"
    role=blk; [ "$vj" = tcp ] && role=tcp
    domu_cfg 1 $role "$vc" "io.jobs=$vj $*"
    rm -f "$(printf "$conlog" io1)"
    $create /etc/iobench/io1.cfg >/tmp/create-io1.log 2>&1 || B error "create io1 ($vn): $(tail -3 /tmp/create-io1.log)"
    snap "$vn-start"
    wait_line io1 '^IOB-DONE io1' $((secs * 8 + 240)) || B error "io1 ($vn) did not finish"
    snap "$vn-end"
    clog io1 | grep -a '^IOB ' | while read -r _ k v; do
        case "$k" in domu_*) B "domu_${vn}_${k#domu_}" "$v" ;; *) B "${vn}_$k" "$v" ;; esac
    done
    clog io1 | grep -a '^IOB-' | sed "s/^/BENCH-LOG io1 $vn /"
    $destroy io1
    sleep 2
}
if [ -n "$variants" ]; then
    domu_cfg 2 sink 1 ""
    $create /etc/iobench/io2.cfg >/tmp/create-io2.log 2>&1 || B error "create io2: $(tail -3 /tmp/create-io2.log)"
    wait_line io2 '^IOB-READY io2' 180 || B error "io2 not ready"
    alljobs=""
    while read -r vn vc bb vj extra; do
        case "$vn" in ''|'#'*) continue ;; esac
        run_variant "$vn" "$vc" "$bb" "$vj" $extra </dev/null
        [ "$vj" = tcp ] || alljobs="$alljobs,$vj"
    done <"$variants"
    $destroy io2
    sleep 2
    [ -z "$alljobs" ] || iob-fio $IMG 0 dom0 "$secs" "${alljobs#,}" | while read -r t k v; do
        if [ "$t" = IOB ]; then B "$k" "$v"; else echo "BENCH-LOG $k $v"; fi
    done
    kill $iperf_pid 2>/dev/null
    B done 1
    exit 0
fi
for n in 1 2; do
    role=sink; [ $n = 1 ] && role=main
    domu_cfg $n $role 1 ""
done
$create /etc/iobench/io2.cfg >/tmp/create-io2.log 2>&1 || { B error "create io2: $(tail -3 /tmp/create-io2.log)"; }
if ! wait_line io2 '^IOB-READY io2' 180; then
    B error "io2 not ready"; clog io2 | tail -20 | sed 's/^/BENCH-LOG io2 /'
fi
t0=$(cut -d' ' -f1 /proc/uptime)
$create /etc/iobench/io1.cfg >/tmp/create-io1.log 2>&1 || { B error "create io1: $(tail -3 /tmp/create-io1.log)"; }
# io1's progress: a snapshot (snap) at each new IOB line, i.e. at the end of each measure
i=0 seen=0 limit=$((secs * 20 + 300))
snap start
until clog io1 | grep -q '^IOB-DONE io1' || [ $i -ge $limit ]; do
    sleep 1; i=$((i + 1))
    n=$(clog io1 | grep -ac '^IOB ')
    if [ "$n" -gt "$seen" ]; then
        seen=$n; snap "$(clog io1 | grep -a '^IOB ' | tail -1 | cut -d' ' -f2)"
    fi
done
if clog io1 | grep -q '^IOB-DONE io1'; then
    B domu_phase_s "$(awk -v a="$t0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.0f", b - a }')"
else
    B error "io1 did not finish"
fi
clog io1 | grep -a '^IOB ' | while read -r _ k v; do B "$k" "$v"; done
clog io1 | grep -a '^IOB-' | sed 's/^/BENCH-LOG io1 /'
$destroy io1; $destroy io2
sleep 2

# --- 3. dom0 alone: the same fio jobs on the image file, iperf3 to itself --------------------
iob-fio $IMG 0 dom0 "$secs" | while read -r t k v; do
    if [ "$t" = IOB ]; then B "$k" "$v"; else echo "BENCH-LOG $k $v"; fi
done
iob-net 169.254.0.1 dom0_self "$secs" | while read -r t k v; do
    if [ "$t" = IOB ]; then B "$k" "$v"; else echo "BENCH-LOG $k $v"; fi
done
kill $iperf_pid 2>/dev/null
B done 1
