#!/bin/sh
# mm-workload.sh: make bench-mm's guest side, the payload of the research
# kernel's initramfs (busybox sh). For each multicall batch size of
# pvkit.mm_batches it sets the runtime knob /sys/module/xen_mc/parameters/batch
# (guest-linux-patches/0002), then runs each workload once:
#   fork_exec    FORKS times fork+exec of /bin/true (busybox sh forks and execs a path)
#   mmap_churn   pvstress churn CHURN (mmap/munmap/mprotect/mremap, COW across fork)
#   page_faults  pvstress faults MIB ROUNDS (every page of fresh anonymous memory written once)
# reading pvkit's statistics (/sys/hypervisor/pvkit, 0001) and the guest's
# batch timing (/sys/kernel/xen_mc/flush_timing, 0004) before and after, and
# prints what changed as
#   MM <batch> <workload> us <microseconds>
#   MM <batch> <workload> <key> <delta>
# keys: hc.N (calls of hypercall N), hc.total, emul.NAME, exc.bounced,
# mm.validations, mm.pte_updates, ft.CLASS.{batches,ptes,cycles}. The PTE
# write strategy (xen_pt.write, 0003) is a boot parameter: one boot per value,
# the host runs two. Each batch size starts with a run of nothing (`:`, a
# shell builtin): what the measurement itself costs (the snapshots' awk
# processes and statistics reads, two `pvstress now`), which the host
# subtracts from the workloads' counts. The first line is "MM-CONFIG pt_write=... tsc_khz=...
# forks=..." and the last "MM-DONE <failures>". Tunables on the kernel command
# line: pvkit.mm_batches=1,4,16,32 pvkit.mm_forks=200 pvkit.mm_churn=500
# pvkit.mm_mib=8 pvkit.mm_rounds=4.
export PATH=/sbin:/usr/sbin:/bin:/usr/bin

BATCHES=1,4,16,32 FORKS=200 CHURN=500 MIB=8 ROUNDS=4
for w in $(cat /proc/cmdline); do
    case "$w" in
    pvkit.mm_batches=*) BATCHES=${w#*=} ;;
    pvkit.mm_forks=*) FORKS=${w#*=} ;;
    pvkit.mm_churn=*) CHURN=${w#*=} ;;
    pvkit.mm_mib=*) MIB=${w#*=} ;;
    pvkit.mm_rounds=*) ROUNDS=${w#*=} ;;
    esac
done
ps=/sys/hypervisor/pvkit ft=/sys/kernel/xen_mc/flush_timing
knob=/sys/module/xen_mc/parameters/batch ptw=/sys/module/xen_pt/parameters/write
failures=0

# snap FILE: pvkit's counters and the guest's batch timing as "key value" lines.
snap() {
    {
        awk '$1 ~ /^[0-9]+$/ { print "hc." $1, $2; t += $2 } END { print "hc.total", t + 0 }' $ps/hypercalls
        awk '{ print "emul." $1, $2 }' $ps/emulated
        awk '{ print "exc." $1, $2 }' $ps/exceptions
        awk '{ print "mm." $1, $2 }' $ps/mm
        awk '{ print "ft." $1 ".batches", $2; print "ft." $1 ".ptes", $3; print "ft." $1 ".cycles", $4 }' $ft
    } >"$1"
}

# run BATCH NAME COMMAND...: one measured run; prints its MM lines.
run() {
    b=$1 name=$2
    shift 2
    snap /tmp/mm.before
    t0=$(pvstress now)
    "$@" >/tmp/mm.out 2>&1; rc=$?
    t1=$(pvstress now)
    snap /tmp/mm.after
    if [ "$rc" != 0 ]; then
        echo "MM-FAIL $b $name status $rc: $(tail -n 3 /tmp/mm.out | tr '\n' ' ')"
        failures=$((failures + 1))
    fi
    echo "MM $b $name us $((t1 - t0))"
    awk -v p="MM $b $name" 'NR == FNR { a[$1] = $2; next } $2 - a[$1] != 0 { print p, $1, $2 - a[$1] }' \
        /tmp/mm.before /tmp/mm.after
}

# fork_exec: FORKS times /bin/true.
fork_exec() {
    i=0
    while [ $i -lt "$FORKS" ]; do
        /bin/true || return 1
        i=$((i + 1))
    done
}

if [ ! -d $ps ] || [ ! -r $ft ] || [ ! -w $knob ]; then
    echo "MM-FAIL setup: not the research kernel on pvkit (no $ps, $ft or $knob)"
    echo "MM-DONE 1"
    exit 0
fi
tsc=$(dmesg | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | sed -n 1p)
echo "MM-CONFIG pt_write=$(cat $ptw) tsc_mhz=${tsc:-unknown} forks=$FORKS churn=$CHURN mib=$MIB rounds=$ROUNDS batches=$BATCHES kernel=$(uname -r)"
for b in $(echo "$BATCHES" | tr ',' ' '); do
    if ! echo "$b" >$knob || [ "$(cat $knob)" != "$b" ]; then
        echo "MM-FAIL $b knob: the batch knob did not take $b"
        failures=$((failures + 1))
        continue
    fi
    run "$b" none :
    run "$b" fork_exec fork_exec
    run "$b" mmap_churn pvstress churn "$CHURN"
    run "$b" page_faults pvstress faults "$MIB" "$ROUNDS"
done
echo "MM-DONE $failures"
