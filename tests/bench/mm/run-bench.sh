#!/bin/bash
# run-bench.sh: make bench-mm, the memory-management benchmark of the
# research kernel (issue 16 item 3). Boots build/research-kernel/vmlinux on
# pvkit twice, once per page-table write strategy (xen_pt.write=hypercall,
# then =emulate: a boot parameter, guest-linux-patches/0003), each boot
# sweeping the multicall batch size at run time (xen_mc.batch, 0002) over
# fork+exec, mmap/mprotect churn and page faults with pvkit's statistics
# (0001) and the guest's batch timing (0004) read around every run
# (tests/bench/mm/mm-workload.sh). Then tests/bench/mm/summarize writes
# OUT/mm.md and its plots.
#
# Each boot takes /tmp/qemu.lock itself (do not wrap make bench-mm in flock:
# the inner flock would wait for the outer one forever). Logs and the
# initramfs: build/bench/mm/ (hypercall.log, emulate.log).
#
# Options: --out DIR (docs/bench), --cpu MODEL (QEMU -cpu, default max),
#   --mem MiB (512), --params "WORDS" (kernel command-line words for the
#   workload, default "pvkit.mm_batches=1,4,16,32 pvkit.mm_forks=200
#   pvkit.mm_churn=500 pvkit.mm_mib=8 pvkit.mm_rounds=4"), --hypervisor ELF
#   (default build/pvkit.elf), --timeout SEC per boot (900), --no-run (no
#   boot: the report from the logs there are).
# Exits 0 when both boots ended with MM-DONE 0 and the report was written.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${BUILD:-$root/build}
prog=run-bench-mm
dir=$build/bench/mm

out=$root/docs/bench cpu=max mem=512 timeout=900 do_run=1 hv=$build/pvkit.elf
params="pvkit.mm_batches=1,4,16,32 pvkit.mm_forks=200 pvkit.mm_churn=500 pvkit.mm_mib=8 pvkit.mm_rounds=4"
while [ $# -gt 0 ]; do
    case "$1" in
    --no-run) do_run=0; shift; continue ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    esac
    [ $# -ge 2 ] || { echo "$prog: $1: unknown, or missing its value" >&2; exit 2; }
    case "$1" in
    --out) out=$2 ;; --cpu) cpu=$2 ;; --mem) mem=$2 ;; --params) params=$2 ;;
    --hypervisor) hv=$2 ;; --timeout) timeout=$2 ;;
    *) echo "$prog: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift 2
done
kernel=$build/research-kernel/vmlinux
mkdir -p "$dir" "$out"

if [ "$do_run" = 1 ]; then
    [ -r "$kernel" ] || { echo "$prog: no $kernel (make research-kernel)" >&2; exit 2; }
    gcc -std=c11 -O2 -Wall -Wextra -Werror -static -o "$dir/pvstress" \
        "$root/tests/integration/linux/pvstress.c"
    "$root/tools/mkinitramfs" -o "$dir/mm.cpio.gz" --script "$here/mm-workload.sh" \
        --add "$dir/pvstress:/bin/pvstress"
    for ptw in hypercall emulate; do
        echo "$prog: boot with xen_pt.write=$ptw" >&2
        start=$(date +%s)
        set +e
        flock /tmp/qemu.lock "$build/bin/pvkit-run" --hypervisor "$hv" --kernel "$kernel" \
            --initrd "$dir/mm.cpio.gz" --mem "$mem" --hv-args initial_domain=domU \
            --cmdline "console=hvc0 loglevel=4 xen_pt.write=$ptw $params" \
            --timeout "$timeout" -- -net none -cpu "$cpu" </dev/null >"$dir/$ptw.log" 2>&1
        rc=$?
        set -e
        echo "$prog: xen_pt.write=$ptw: pvkit-run status $rc after $(( $(date +%s) - start )) s" >&2
        printf 'MM-HOST status=%s cpu=%s mem=%s hypervisor=%s qemu=%s host_cpu=%s\n' "$rc" "$cpu" "$mem" \
            "$(git -C "$root" log -1 --format=%h 2>/dev/null || echo unknown)" \
            "$(qemu-system-x86_64 --version | sed -n '1s/ /_/gp')" \
            "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sed -n '1s/ /_/gp')" >>"$dir/$ptw.log"
    done
fi
"$here/summarize" --out "$out" --command "make bench-mm${BENCH_MM_ARGS:+ BENCH_MM_ARGS=\"$BENCH_MM_ARGS\"}" \
    "$dir/hypercall.log" "$dir/emulate.log"
for ptw in hypercall emulate; do
    tr -d '\r' <"$dir/$ptw.log" | grep -aq '^\(([a-z0-9]*) \)\{0,1\}MM-DONE 0$' ||
        { echo "$prog: the xen_pt.write=$ptw boot did not end with MM-DONE 0" >&2; exit 1; }
done
