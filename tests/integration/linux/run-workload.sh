#!/bin/bash
# run-workload.sh: issue-5 integration test. Fetches Debian's kernel
# (tools/linux-kernels), builds pvstress (gcc -static) and an initramfs
# (tools/mkinitramfs), boots Linux as a PV domU on pvkit under QEMU with
# build/bin/pvkit-run (the bzImage is passed as it is: pvkit-run extracts
# the ELF) and checks what the guest printed and how the run ended.
#
# Variants (--variant):
#   workload  (default) /init runs workload.sh: every RESULT line it must
#             print is checked, "WORKLOAD DONE 0 failed", pvkit-run status 0
#             (the guest powered off) and a hypervisor log free of panics,
#             assertion failures and fatal exceptions
#   panic     rdinit=/nonexistent: the kernel panics; pvkit-run must report
#             status 11 (crashed) and the hypervisor must still print after
#             the guest's panic (it stayed up to report the crash)
#   reboot    a payload that only prints, then /init runs `reboot -f`;
#             pvkit-run must report status 10 (rebooted)
#   interactive  the busybox shell of `make run-linux`, typed at: once /init
#             says the shell is up, "echo MAGIC-$((6*7))" and "exit" are
#             written to the console; MAGIC-42 must come back and the exit
#             must power off (status 0)
#   shell     no check: boots the interactive busybox shell (make run-linux)
#
# Options: --kernel cloud|generic|PATH (default cloud), --vcpus N (default 1),
#   --mem MiB (default 512), --timeout SEC (default 3600), --log FILE (keep the
#   console log; default build/linux/<variant>-<kernel>-<N>vcpu-<MiB>M.log),
#   --cmdline-extra "WORDS" (appended to the kernel command line; also
#   $LINUX_CMDLINE_EXTRA), --hv-args ARGS (default initial_domain=domU),
#   --qemu-cpus N (QEMU CPUs; pvkit-run's default is max(2, vCPUs)),
#   --type pv|pvh (default pv: how the domain runs; pvh boots the same kernel
#   as a PVH domain, on QEMU's $PVH_CPU, default EPYC,-monitor,-rdtscp,-smap,-smep,
#   which has SVM with nested paging; the workload variant then skips what
#   a PVH domU does not have yet: the balloon phase is skipped
#   (pvkit.balloon=0), /init reboots instead of powering off (status 10),
#   and dmesg_clean/dmesg_final are not required: the "unchecked MSR access"
#   call trace of AMD's NB_CFG, which is #GP for a PVH guest),
#   --require-phase NAME (workload: NAME's RESULT line must say ok too, e.g.
#   pvkit_stats for the research kernel; repeatable),
#   --no-build (use build/pvkit.elf and build/bin as they are),
#   --recheck LOG (no build, no boot: apply the checks of --variant to the
#   console log of an earlier run, e.g. to test the checks themselves).
# Prints one "PASS/FAIL <check>" line per check, then "N passed, N failed";
# exits 0 only if nothing failed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${BUILD:-$root/build}
prog=run-workload

required=() qemu_cpus="" recheck="" build_hv=1 variant=workload kernel=cloud vcpus=1 mem=512 timeout=3600 log=""
dtype=pv pvh_cpu=${PVH_CPU:-EPYC,-monitor,-rdtscp,-smap,-smep}
extra=${LINUX_CMDLINE_EXTRA:-} hv_args="initial_domain=domU"
while [ $# -gt 0 ]; do
    case "$1" in
    --variant|--kernel|--vcpus|--mem|--timeout|--log|--cmdline-extra|--hv-args|--recheck|--qemu-cpus|--require-phase|--type)
        [ $# -ge 2 ] || { echo "$prog: $1 needs a value" >&2; exit 2; }
        case "$1" in
        --variant) variant=$2 ;;
        --kernel) kernel=$2 ;;
        --vcpus) vcpus=$2 ;;
        --mem) mem=$2 ;;
        --timeout) timeout=$2 ;;
        --log) log=$2 ;;
        --cmdline-extra) extra="$extra $2" ;;
        --hv-args) hv_args=$2 ;;
        --recheck) recheck=$2 ;;
        --qemu-cpus) qemu_cpus=$2 ;;
        --require-phase) required+=("$2") ;;
        --type) dtype=$2 ;;
        esac
        shift 2 ;;
    --no-build) build_hv=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "$prog: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
case "$dtype" in pv|pvh) ;; *) echo "$prog: --type wants pv or pvh" >&2; exit 2 ;; esac
case "$variant" in workload|panic|reboot|interactive|shell) ;; *)
    echo "$prog: unknown variant '$variant'" >&2; exit 2 ;;
esac

. "$here/check.sh"

# Interactive variant: holds the console FIFO open, waits (up to the timeout)
# for /init to announce the shell, then types two commands into it.
type_at_shell() {
    local waited=0
    exec 4>"$stem.fifo"
    while ! grep -aq 'pvkit-init: busybox shell' "$log" 2>/dev/null; do
        sleep 1
        waited=$((waited + 1))
        [ "$timeout" = 0 ] || [ "$waited" -lt "$timeout" ] || return 0
    done
    sleep 2
    printf 'echo MAGIC-$((6*7))\n' >&4
    sleep 3
    printf 'exit\n' >&4
    while kill -0 "$$" 2>/dev/null; do sleep 1; done   # until killed
}

# Builds and fetches everything, boots the guest; sets log, stem, status and
# wall_ms (a shell variant does not return).
build_and_boot() {
    # ---- build and fetch everything ------------------------------------------
    dir=$build/linux
    mkdir -p "$dir"
    if [ "$build_hv" = 1 ]; then
        make -C "$root" --no-print-directory -s "$build/pvkit.elf" tools >&2
    fi
    pvkit_run=$build/bin/pvkit-run
    case "$kernel" in
    cloud) "$root/tools/linux-kernels" --build "$build" cloud-amd64
           kimage=$dir/vmlinuz-cloud-amd64 ;;
    generic) "$root/tools/linux-kernels" --build "$build" amd64
           kimage=$dir/vmlinuz-amd64 ;;
    *) kimage=$kernel ;;
    esac
    kimage=$(readlink -f "$kimage")
    [ -r "$kimage" ] || { echo "$prog: no kernel image $kimage" >&2; exit 2; }
    kname=$(basename "$kimage")

    # Per-run names, so that runs in parallel (make -j) do not share files.
    stem=$dir/$variant-$ktag-${vcpus}vcpu-${mem}M
    [ "$dtype" = pv ] || stem+=-$dtype
    [ -n "$log" ] || log=$stem.log
    pvstress=$dir/pvstress
    if [ ! -x "$pvstress" ] || [ "$here/pvstress.c" -nt "$pvstress" ]; then
        gcc -std=c11 -O2 -Wall -Wextra -Werror -static -o "$stem.pvstress" "$here/pvstress.c"
        mv "$stem.pvstress" "$pvstress"
    fi
    "$here/expected.sh" "$pvstress" >"$stem.expected"

    cmdline="console=hvc0 loglevel=7"
    case "$variant" in
    workload)
        initrd=$stem.cpio.gz
        "$root/tools/mkinitramfs" -o "$initrd" --script "$here/workload.sh" \
            --add "$pvstress:/bin/pvstress" --add "$stem.expected:/etc/pvkit/expected"
        cmdline+=" pvkit.cpus=$vcpus"
        [ "$dtype" = pv ] || cmdline+=" pvkit.balloon=0 pvkit.after=reboot" ;;
    reboot)
        initrd=$stem.cpio.gz
        printf '#!/bin/sh\n# payload of the reboot variant\necho "REBOOT PAYLOAD ran"\n' >"$stem.payload"
        "$root/tools/mkinitramfs" -o "$initrd" --script "$stem.payload"
        cmdline+=" pvkit.after=reboot" ;;
    panic|shell|interactive)
        initrd=$stem.cpio.gz
        "$root/tools/mkinitramfs" -o "$initrd"
        [ "$variant" = panic ] && cmdline+=" rdinit=/nonexistent" ;;
    esac
    cmdline+=" $extra"
    cmdline=$(echo "$cmdline" | tr -s ' ')

    run_args=(--kernel "$kimage" --initrd "$initrd" --mem "$mem" --hv-args "$hv_args"
              --cmdline "$cmdline")
    [ "$vcpus" = 1 ] || run_args+=(--vcpus "$vcpus")
    [ "$dtype" = pv ] || run_args+=(--type "$dtype" --cpu "$pvh_cpu")
    qemu_extra=(-net none)
    [ -z "$qemu_cpus" ] || qemu_extra+=(-smp "$qemu_cpus")   # the last -smp wins

    if [ "$variant" = shell ]; then
        exec "$pvkit_run" "${run_args[@]}" --timeout 0 -- "${qemu_extra[@]}"
    fi

    # ---- boot ------------------------------------------------------------------
    echo "$prog: booting $kname ($dtype, $variant, $vcpus vCPU${qemu_cpus:+ on $qemu_cpus QEMU CPUs}, $mem MiB): $cmdline" >&2
    start=$(date +%s%N)
    set +e
    if [ "$variant" = interactive ]; then
        rm -f "$stem.fifo" "$log"
        mkfifo "$stem.fifo"
        type_at_shell &
        feeder=$!
        "$pvkit_run" "${run_args[@]}" --timeout "$timeout" -- "${qemu_extra[@]}" <"$stem.fifo" >"$log" 2>&1
        status=$?
        kill "$feeder" 2>/dev/null
        wait "$feeder" 2>/dev/null
        rm -f "$stem.fifo"
    else
        "$pvkit_run" "${run_args[@]}" --timeout "$timeout" -- "${qemu_extra[@]}" </dev/null >"$log" 2>&1
        status=$?
    fi
    set -e
    wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))
    echo "$prog: pvkit-run ended with status $status after $wall_ms ms; console log $log" >&2
}

# Takes log, stem and status from an earlier run's console log $1.
from_log() {
    log=$1
    stem=${log%.log}
    status=$(sed -n 's/^pvkit-run: .*(status \([0-9]*\),.*/\1/p' "$log" | tail -n 1)
    status=${status:-none} wall_ms=unknown
}

ktag=$kernel
case "$kernel" in cloud|generic) ;; *) ktag=$(basename "$kernel") ;; esac
if [ -n "$recheck" ]; then
    from_log "$recheck"
else
    build_and_boot
fi

# ---- report ----------------------------------------------------------------
# The guest's console lines, without the "(dN) " prefix pvkit (and Xen with
# guest_loglvl) puts in front of them; the checks read this copy.
glog=$stem.guest
sed -E 's/^\(d[0-9]+\) //' "$log" >"$glog"
echo "--- last guest console lines ---"
grep -a '^(d[0-9]*)\|^RESULT\|^PHASE\|^WORKLOAD\|^pvkit-init\|^pvstress' "$log" | tail -n 15 || true
echo "--- results ---"
grep -a '^RESULT \|^WORKLOAD ' "$glog" || true
echo "--- hypervisor lines after the guest started ---"
grep -a '^(pvkit)' "$log" | tail -n 12 || true
grep -a '^pvkit-run:' "$log" || true
init_s=$(grep -a -o 'pvkit-init: /init running on [^,]*, [0-9.]* s after boot' "$glog" |
         grep -o '[0-9.]* s after' | cut -d' ' -f1 || true)
echo "TIMING wall ${wall_ms} ms (QEMU start to end), guest uptime at /init: ${init_s:-never} s"
grep -a '^PHASE ' "$glog" | sed 's/^/TIMING /' || true

# Prints the line number of the first line matching $1 (0 if none).
first_line() { grep -a -n -m1 -E "$1" "$glog" | cut -d: -f1 || true; }

# ---- checks ----------------------------------------------------------------
hv_alarm=$(grep -a '^(pvkit)' "$log" | grep -E 'panic|PANIC|assert|BUG|WARNING|fatal:[1-9]' || true)
# Kernel complaints on the guest console (before any expected panic).
kwarn=$(grep -a -E '^\[ *[0-9.]+\] .*(WARNING: CPU|WARNING: at|BUG:|kernel BUG|Oops)' "$glog" | awk '!seen[$0]++' | head -n 3 | tr -s ' ' | cut -c1-160 | tr '\n' '|' || true)
# Helpers for check: succeed if the log has a line matching $1 / if $1 = $2.
has() { grep -aqE "$1" "$glog"; }
is() { [ "$1" = "$2" ]; }
check "guest console free of kernel WARNING/BUG/Oops${kwarn:+: $kwarn}" is "$kwarn" ""
case "$variant" in
workload)
    check "/init ran" has 'pvkit-init: /init running'
    phases="uname sys_hypervisor cpuinfo dmesg_xen dmesg_clean fork_exec pipeline processes
            tmpfs mmap_churn balloon hostile dmesg_final"
    # A PVH domU's gaps (see --type): no balloon, the NB_CFG call trace, no power-off.
    [ "$dtype" = pv ] || phases=$(echo $phases | sed 's/ dmesg_clean / /; s/ balloon / /; s/ dmesg_final$//')
    for phase in $phases ${required[@]+"${required[@]}"}; do
        line=$(grep -a -m1 "^RESULT $phase " "$glog" || true)
        check "result $phase: ${line:-missing}" is "${line:0:$((11 + ${#phase}))}" "RESULT $phase ok "
    done
    if [ "$dtype" = pv ]; then
        check "workload finished with 0 failed phases" has '^WORKLOAD DONE 0 failed'
        check "pvkit-run status 0 (guest powered off), got $status" is "$status" 0
    else
        check "workload finished" has '^WORKLOAD DONE'
        check "pvkit-run status 10 (/init rebooted: no PVH power-off yet), got $status" is "$status" 10
    fi
    check "hypervisor log free of panic/assert/BUG/fatal${hv_alarm:+: $hv_alarm}" is "$hv_alarm" ""
    ;;
panic)
    p=$(first_line 'Kernel panic - not syncing')
    check "guest kernel panicked" has 'Kernel panic - not syncing'
    check "pvkit-run status 11 (crashed), got $status" is "$status" 11
    after=0
    [ -z "$p" ] || after=$(tail -n +"$p" "$log" | grep -a -c '^(pvkit)' || true)
    check "hypervisor still reporting after the panic ($after lines)" is "$(( after > 0 ))" 1
    ;;
interactive)
    check "shell started" has 'pvkit-init: busybox shell'
    check "typed command ran (MAGIC-42 echoed back)" has '^MAGIC-42'
    check "pvkit-run status 0 (exit powered off), got $status" is "$status" 0
    check "hypervisor log free of panic/assert/BUG/fatal${hv_alarm:+: $hv_alarm}" is "$hv_alarm" ""
    ;;
reboot)
    check "payload ran" has '^REBOOT PAYLOAD ran'
    check "pvkit-run status 10 (rebooted), got $status" is "$status" 10
    check "hypervisor log free of panic/assert/BUG/fatal${hv_alarm:+: $hv_alarm}" is "$hv_alarm" ""
    ;;
esac
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
