#!/bin/sh
# workload.sh: the issue-5 workload, run by the initramfs /init as its payload
# on a Linux guest of pvkit (busybox sh). It checks that the guest looks like
# a Xen PV domU and then runs real user space, one phase at a time. Every
# phase (identity, fork_exec, pipeline, processes, tmpfs, mmap_churn,
# balloon, hostile; pvkit_stats where the kernel has /sys/hypervisor/pvkit,
# the research kernel's, else a "RESULT pvkit_stats skip" line) prints
#   RESULT <phase> ok|fail <detail>
#   PHASE <phase> <milliseconds>
# and the script ends with "WORKLOAD DONE <failed phases>"; /init then
# powers off. tests/integration/linux/run-workload.sh checks the lines.
#
# Expected values computed on the host (by run-workload.sh / linux.mk) are
# read from /etc/pvkit/expected (shell assignments):
#   PIPE_MD5     md5 of: seq 1 100000 | sort -r | gzip | gunzip
#   TMPFS_SHA256 sha256 of: pvstress pattern 1 256
# Tunables, from the kernel command line (pvkit.NAME=VALUE):
#   pvkit.forks (500) pvkit.procs (64) pvkit.mib (256) pvkit.churn (3000)
#   pvkit.cpus (expected number of CPUs in /proc/cpuinfo; unchecked if unset)
#   pvkit.ddmib (unset: no tmpfs_dd phase; N: the tmpfs_dd phase, N MiB of
#   zeros dd'd into a tmpfs, md5summed and removed: the measure of
#   ../shared/xen-io-reference's domU, for make bench-pv-vs-hvm)
#   pvkit.balloon (1; 0: the balloon phase prints "RESULT balloon skip" and
#   no PHASE line: for a guest without a balloon, as a PVH domU still is)
export PATH=/sbin:/usr/sbin:/bin:/usr/bin

FORKS=500 PROCS=64 MIB=256 CHURN=3000 CPUS="" DDMIB="" BALLOON=1
for w in $(cat /proc/cmdline); do
    case "$w" in
    pvkit.forks=*) FORKS=${w#*=} ;;
    pvkit.procs=*) PROCS=${w#*=} ;;
    pvkit.mib=*) MIB=${w#*=} ;;
    pvkit.churn=*) CHURN=${w#*=} ;;
    pvkit.cpus=*) CPUS=${w#*=} ;;
    pvkit.ddmib=*) DDMIB=${w#*=} ;;
    pvkit.balloon=*) BALLOON=${w#*=} ;;
    esac
done
PIPE_MD5=unknown TMPFS_SHA256=unknown
[ -r /etc/pvkit/expected ] && . /etc/pvkit/expected

failed=0

# Milliseconds since boot, from /proc/uptime (10 ms resolution).
now_ms() {
    read -r up _ </proc/uptime
    echo $(( ${up%.*} * 1000 + 10#${up#*.} * 10 ))
}

# phase_done PHASE: prints its PHASE line (the time since t0) and starts
# the next phase's clock.
phase_done() {
    echo "PHASE $1 $(( $(now_ms) - t0 ))"
    t0=$(now_ms)
}

# result PHASE STATUS DETAIL...: prints the RESULT line, counts failures.
result() {
    phase=$1 status=$2
    shift 2
    echo "RESULT $phase $status $*"
    [ "$status" = ok ] || failed=$((failed + 1))
}

# verdict PHASE RC OK_DETAIL FAIL_DETAIL: the RESULT line of a check that
# exited RC: ok with OK_DETAIL when RC is 0, else fail with FAIL_DETAIL.
verdict() {
    if [ "$2" = 0 ]; then
        result "$1" ok "$3"
    else
        result "$1" fail "$4"
    fi
}

# Matches dmesg lines that mean the kernel complained (warnings, bugs,
# oopses, panics, lockups); prints them.
kernel_complaints() {
    dmesg | grep -E 'WARNING: CPU|WARNING: at|BUG:|kernel BUG|Oops|general protection fault, probably|Call Trace|soft lockup|hard LOCKUP|self-detected stall|rcu: INFO'
}

# no_complaints PHASE: ok if dmesg holds no complaint so far, else fail
# after printing the first 20.
no_complaints() {
    bad=$(kernel_complaints)
    [ -z "$bad" ] || echo "$bad" | head -20
    [ -z "$bad" ]
    verdict "$1" $? "no kernel complaints" "$(echo "$bad" | wc -l) complaint line(s)"
}

echo "WORKLOAD START $(now_ms) ms after boot"

# ---- identity: uname, /sys/hypervisor, cpuinfo, dmesg ---------------------
t0=$(now_ms)
uname -a
[ "$(uname -s)" = Linux ] && [ "$(uname -m)" = x86_64 ]
verdict uname $? "$(uname -r)" "$(uname -s) $(uname -m)"
if [ -r /sys/hypervisor/type ]; then
    ht=$(cat /sys/hypervisor/type)
    hv=""
    [ -r /sys/hypervisor/version/major ] &&
        hv="$(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)$(cat /sys/hypervisor/version/extra 2>/dev/null)"
    if [ "$ht" = xen ]; then
        result sys_hypervisor ok "type=$ht version=$hv"
    else
        result sys_hypervisor fail "type=$ht"
    fi
else
    result sys_hypervisor fail "no /sys/hypervisor/type"
fi
ncpu=$(grep -c '^processor' /proc/cpuinfo)
online=$(cat /sys/devices/system/cpu/online 2>/dev/null)
if ! grep -q '^flags.* hypervisor' /proc/cpuinfo; then
    result cpuinfo fail "no hypervisor flag in /proc/cpuinfo"
elif [ -n "$CPUS" ] && [ "$ncpu" != "$CPUS" ]; then
    result cpuinfo fail "$ncpu cpu(s) in /proc/cpuinfo, expected $CPUS (online: $online)"
else
    result cpuinfo ok "hypervisor flag, $ncpu cpu(s), online $online"
fi
grep -m1 '^model name' /proc/cpuinfo
dmesg | grep -q 'Booting kernel on Xen\|paravirtualized kernel on Xen'
verdict dmesg_xen $? "$(dmesg | grep -m1 -o 'Xen version: .*')" \
    "dmesg does not say the kernel booted on Xen PV"
no_complaints dmesg_clean
phase_done identity

# ---- pvkit's statistics, if the kernel shows them ----------------------------
# The research kernel (guest-linux-patches/0001) shows pvkit's statistics of
# this domain under /sys/hypervisor/pvkit; read before and after fork_exec.
ps=/sys/hypervisor/pvkit
# Prints the hypercalls counted so far (every number; the reads included).
hypercalls_total() { awk '$1 ~ /^[0-9]+$/ {n += $2} END {print n + 0}' $ps/hypercalls; }
# Prints the batches of every histogram file (mmu_update, mmuext, multicall).
batches_total() { cat $ps/*_batches | awk '{n += $2} END {print n + 0}'; }
mcb=/sys/module/xen_mc/parameters/batch ptw=/sys/module/xen_pt/parameters/write
ft=/sys/kernel/xen_mc/flush_timing
# Prints the emulated page-table writes so far.
pt_writes() { awk '$1 == "pt-write" {print $2}' $ps/emulated; }
if [ -d $ps ]; then
    hc0=$(hypercalls_total) b0=$(batches_total) pw0=$(pt_writes)
    cp $ps/mmu_update_batches /tmp/mub0
    cp $ps/multicall_batches /tmp/mcb0
    [ -r $ft ] && cp $ft /tmp/ft0
fi

# ---- fork+exec -------------------------------------------------------------
i=0 okc=0
while [ $i -lt "$FORKS" ]; do
    # a path, so busybox sh forks and execs instead of running the applet
    /bin/true && okc=$((okc + 1))
    i=$((i + 1))
done
# a non-busybox static binary too, and a failing exec status must be seen
/bin/pvstress >/dev/null 2>&1; usage_rc=$?
/bin/false; false_rc=$?
[ "$okc" = "$FORKS" ] && [ "$usage_rc" = 2 ] && [ "$false_rc" = 1 ]
verdict fork_exec $? "$okc" "$okc of $FORKS, pvstress usage rc $usage_rc, false rc $false_rc"
phase_done fork_exec

# ---- pvkit_stats: the counts grew over fork_exec, every histogram complete ---
if [ -d $ps ]; then
    hc=$(( $(hypercalls_total) - hc0 )) b=$(( $(batches_total) - b0 ))
    buckets=$(for f in mmu_update_batches mmuext_batches multicall_batches; do
                  wc -l <$ps/$f; done | tr '\n' ' ')
    raw=$(wc -c <$ps/raw)
    pw=$(( $(pt_writes) - pw0 ))
    detail="$hc hypercalls, $b batches, $pw emulated PTE writes over $FORKS fork+exec, buckets $buckets, raw $raw bytes"
    if [ "$hc" -ge "$FORKS" ] && [ "$b" -ge "$FORKS" ] && [ "$buckets" = "13 13 13 " ] &&
       [ "$raw" -gt 0 ]; then
        result pvkit_stats ok "$detail"
    else
        result pvkit_stats fail "$detail"
    fi
    cat $ps/hypercalls $ps/mmu_update_batches $ps/multicall_batches | tr '\n' ' '; echo
    # the research kernel's knobs (guest-linux-patches/0002, 0003), when set
    if [ -r $mcb ]; then
        lim=$(cat $mcb)
        # Prints the buckets of histogram $1 (saved before: $2) that changed
        # and start above the knob's limit.
        over_limit() {
            paste "$2" "$ps/$1" | awk -v lim="$lim" '{ split($1, r, "-"); if (r[1] + 0 > lim + 0 && $2 != $4) print $1 }' | tr '\n' ' '
        }
        over="$(over_limit mmu_update_batches /tmp/mub0)$(over_limit multicall_batches /tmp/mcb0)"
        echo 8 >$mcb; set8=$(cat $mcb)
        echo 0 >$mcb 2>/dev/null && bad0=taken || bad0=refused
        echo 513 >$mcb 2>/dev/null && bad513=taken || bad513=refused
        echo "$lim" >$mcb
        if [ -z "$over" ] && [ "$set8" = 8 ] && [ "$bad0$bad513" = refusedrefused ] &&
           [ "$(cat $mcb)" = "$lim" ]; then
            result mc_batch_knob ok "batch $lim: no larger batch counted; 8 set, 0 $bad0, 513 $bad513"
        else
            result mc_batch_knob fail "batch $lim: buckets over it grew: '$over'; 8 read back '$set8', 0 $bad0, 513 $bad513"
        fi
    fi
    if [ -r $ft ]; then
        cat $ft | tr '\n' ' '; echo
        # batches and cycles timed over fork_exec; classes above the limit unchanged
        grew=$(paste /tmp/ft0 $ft | awk '{b += $6 - $2; c += $8 - $4} END {print b + 0, c + 0}')
        over=$(paste /tmp/ft0 $ft | awk -v lim="${lim:-512}" '{ split($1, r, "-"); if (r[1] + 0 > lim + 0 && $2 != $6) print $1 }' | tr '\n' ' ')
        fb=${grew% *} fc=${grew#* }
        if [ "$fb" -ge "$FORKS" ] && [ "$fc" -gt 0 ] && [ -z "$over" ]; then
            result flush_timing ok "$fb batches timed, $fc cycles over $FORKS fork+exec"
        else
            result flush_timing fail "$fb batches, $fc cycles over $FORKS fork+exec; classes above ${lim:-512} grew: '$over'"
        fi
    fi
    if [ -r $ptw ] && [ "$(cat $ptw)" = emulate ]; then
        if [ "$pw" -ge "$FORKS" ]; then
            result pt_write_emulate ok "$pw emulated PTE writes over $FORKS fork+exec"
        else
            result pt_write_emulate fail "only $pw emulated PTE writes over $FORKS fork+exec"
        fi
    fi
else
    echo "RESULT pvkit_stats skip: no $ps (a stock kernel, or not on pvkit)"
fi

# ---- pipeline --------------------------------------------------------------
sum=$(seq 1 100000 | sort -r | gzip -1 -c | gunzip -c | md5sum | cut -d' ' -f1)
[ "$sum" = "$PIPE_MD5" ]
verdict pipeline $? "$sum" "md5 $sum, expected $PIPE_MD5"
phase_done pipeline

# ---- many concurrent processes ----------------------------------------------
mkdir -p /tmp/procs
# worker_sum N: worker N's answer, 300 rounds of arithmetic from N.
worker_sum() {
    j=0 acc=$1
    while [ $j -lt 300 ]; do
        acc=$(( (acc * 31 + j) % 1000003 ))
        j=$((j + 1))
    done
    echo "$acc"
}
n=0
while [ $n -lt "$PROCS" ]; do
    (
        acc=$(worker_sum $n)
        sleep 1
        echo "$acc" >/tmp/procs/$n
    ) &
    n=$((n + 1))
done
running=$(ls /proc 2>/dev/null | grep -c '^[0-9]')
wait
n=0 good=0
while [ $n -lt "$PROCS" ]; do
    [ "$(cat /tmp/procs/$n 2>/dev/null)" = "$(worker_sum $n)" ] && good=$((good + 1))
    n=$((n + 1))
done
rm -rf /tmp/procs
[ "$good" = "$PROCS" ]
verdict processes $? "$good (up to $running pids seen at once)" \
    "$good of $PROCS workers gave the right answer"
phase_done processes

# ---- tmpfs: MIB MiB written and checksummed ---------------------------------
mkdir -p /mnt/big
if mount -t tmpfs -o size=$((MIB + 16))m tmpfs /mnt/big; then
    pvstress pattern 1 "$MIB" >/mnt/big/data; wrc=$?
    size=$(stat -c %s /mnt/big/data 2>/dev/null)
    s1=$(sha256sum /mnt/big/data | cut -d' ' -f1)
    s2=$(pvstress pattern 1 "$MIB" | sha256sum | cut -d' ' -f1)
    rm -f /mnt/big/data
    umount /mnt/big
    if [ "$wrc" = 0 ] && [ "$size" = $((MIB * 1048576)) ] && [ "$s1" = "$s2" ] &&
       { [ "$MIB" != 256 ] || [ "$s1" = "$TMPFS_SHA256" ]; }; then
        result tmpfs ok "$MIB MiB sha256 $s1"
    else
        result tmpfs fail "write rc $wrc, size $size, file $s1, stream $s2, expected $TMPFS_SHA256"
    fi
else
    result tmpfs fail "cannot mount a $((MIB + 16)) MiB tmpfs"
fi
phase_done tmpfs

# ---- tmpfs_dd (pvkit.ddmib): zeros through a tmpfs, as the Xen reference ----
if [ -n "$DDMIB" ]; then
    mkdir -p /mnt/dd
    want=$(head -c $((DDMIB * 1048576)) /dev/zero | md5sum | cut -d' ' -f1)
    if mount -t tmpfs -o size=$((DDMIB + 16))m tmpfs /mnt/dd; then
        t0=$(now_ms)    # timed as the reference times it: dd, md5sum, rm
        dd if=/dev/zero of=/mnt/dd/big bs=1M count="$DDMIB" 2>/dev/null; drc=$?
        sum=$(md5sum /mnt/dd/big | cut -d' ' -f1)
        rm -f /mnt/dd/big
        if [ "$drc" = 0 ] && [ "$sum" = "$want" ]; then
            result tmpfs_dd ok "$DDMIB MiB md5 $sum"
        else
            result tmpfs_dd fail "dd rc $drc, md5 $sum, expected $want"
        fi
        phase_done tmpfs_dd
        umount /mnt/dd
    else
        result tmpfs_dd fail "cannot mount a $((DDMIB + 16)) MiB tmpfs"
    fi
fi

# ---- mmap/munmap/mprotect churn ---------------------------------------------
out=$(pvstress churn "$CHURN" 2>&1); rc=$?
echo "$out"
verdict mmap_churn "$rc" "$CHURN" "pvstress churn exit $rc"
phase_done mmap_churn

# ---- balloon: give 64 MiB back to the hypervisor, then take it again -------
bd=/sys/devices/system/xen_memory/xen_memory0
# memtotal_kb: prints MemTotal from /proc/meminfo in KiB.
memtotal_kb() { awk '/^MemTotal:/ {print $2}' /proc/meminfo; }
# wait_current KB: waits up to 60 s until the balloon's current_kb is KB.
wait_current() {
    k=0
    while [ "$(cat $bd/info/current_kb)" != "$1" ] && [ $k -lt 600 ]; do
        sleep 0.1
        k=$((k + 1))
    done
    [ "$(cat $bd/info/current_kb)" = "$1" ]
}
if [ "$BALLOON" = 0 ]; then
    echo "RESULT balloon skip: pvkit.balloon=0"
elif [ -w $bd/target_kb ] && [ -r $bd/info/current_kb ]; then
    cur0=$(cat $bd/info/current_kb) tgt0=$(cat $bd/target_kb) mt0=$(memtotal_kb)
    low=$((cur0 - 65536))
    echo "$low" >$bd/target_kb
    wait_current "$low"; down=$?
    mt1=$(memtotal_kb) t1=$(now_ms)
    echo "$tgt0" >$bd/target_kb
    wait_current "$cur0"; up=$?
    mt2=$(memtotal_kb)
    echo "balloon: current $cur0 -> $(cat $bd/info/current_kb) KiB, MemTotal $mt0 -> $mt1 -> $mt2 KiB"
    if [ "$down" = 0 ] && [ "$up" = 0 ] && [ $((mt0 - mt1)) -ge 60000 ] && [ "$mt2" = "$mt0" ]; then
        result balloon ok "64 MiB out in $((t1 - t0)) ms and back in $(( $(now_ms) - t1 )) ms"
    else
        result balloon fail "shrink reached: $down, grow reached: $up, MemTotal $mt0 -> $mt1 -> $mt2"
    fi
else
    result balloon fail "no $bd/target_kb"
fi
[ "$BALLOON" = 0 ] || phase_done balloon

# ---- hostile user process ---------------------------------------------------
pvstress hostile; rc=$?
after=$(echo alive)
segv=$(dmesg | grep -c 'pvstress.*\(segfault\|general protection\|trap\)')
[ "$rc" = 0 ] && [ "$after" = alive ]
verdict hostile $? "all killed, system alive, $segv kernel trap line(s)" "pvstress hostile exit $rc"
phase_done hostile

# ---- dmesg again, after all that --------------------------------------------
no_complaints dmesg_final

echo "WORKLOAD DONE $failed failed, $(now_ms) ms after boot"
exit 0
