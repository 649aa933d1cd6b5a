#!/bin/bash
# run-bench.sh: the Linux benchmark of issues 5 and 16. Boots one workload
# initramfs (tools/mkinitramfs + tests/integration/linux/workload.sh) with one
# kernel (--kernel: Debian's generic linux-image-amd64 or its cloud-amd64
# bzImage, tools/linux-kernels) three ways under the same QEMU, one after the
# other, in one run:
#   native  qemu-system-x86_64 -kernel <bzImage> -initrd <cpio>, console ttyS0
#   pvkit   build/bin/pvkit-run, the kernel as the unprivileged initial domain
#           (--hv-args initial_domain=domU), console hvc0; with --type pvh a
#           PVH domain (pvkit-run --type pvh: AMD SVM with nested paging,
#           which wants an AMD --cpu model with SVM), whose /init reboots
#           instead of powering off (a PVH domain cannot power off yet)
#   xen     build/bin/pvkit-run --xen build/xen/xen (Debian's Xen 4.17), the
#           kernel as dom0, console hvc0
# All three get the same QEMU CPU model (--cpu, default Haswell-noTSX) and
# --vcpus N guest CPUs
# (default 1; native: QEMU -smp N; pvkit and Xen: pvkit-run --vcpus N, i.e.
# dom0_max_vcpus=N, on the max(2, N)-CPU machine pvkit-run starts), and --mem
# MiB for the guest (native: the machine's RAM; pvkit-run gives the machine
# 128 MiB more for the hypervisor). All three kernel command lines carry
# pvkit.cpus=N, so the workload's cpuinfo phase checks the guest saw N CPUs.
# Xen is not booted where it cannot run the configuration, and the report
# says why instead of giving numbers: the cloud kernel has no dom0 support
# (CONFIG_XEN_DOM0 unset; Xen 4.17 here boots the kernel as dom0), and with
# -cpu max the generic kernel as dom0 dies early on Xen 4.17 ("d0v0
# Unhandled: vec 14, #PF" in create_bounce_frame).
#
# Per phase: "boot" is QEMU start (host clock, taken just before the
# launcher runs) to the first line the initramfs prints ("pvkit-init: /init
# running ..."), with the guest's own uptime at /init beside it; the other
# phases are the guest's "PHASE <name> <ms>" lines (fork_exec, pipeline,
# processes, tmpfs = memory written and checksummed, mmap_churn = memory
# mapping churn, plus balloon and hostile, reported but not targets).
#
# Writes OUT/linux-KERNEL-CPU.md (date, QEMU version, CPU model, kernel, the table with
# native/pvkit/Xen ms, ratios to native and whether pvkit meets the target:
# pvkit/native <= Xen/native for every phase, boot no slower than Xen's) and
# OUT/linux.png (gnuplot), keeps the console logs and a results.tsv in
# build/bench/linux/KERNEL-CPU/. With --vcpus N > 1 the files are
# OUT/linux-smpN.md and OUT/linux-smpN.png and the logs go to
# build/bench/linux/KERNEL-CPU/smpN/. Exits 0 when every run that was booted
# produced every phase (the target verdict is reported, not turned into an
# exit status). tests/bench/linux/summarize gathers the KERNEL-CPU runs into
# OUT/linux.md (make bench-linux).
#
# With --profile, pvkit's boot is sampled (tools/qemu-sample, 500 Hz, every
# CPU's RIP through QEMU's monitor) and OUT/BASE.md gets a flat profile of
# the fork+exec phase (tools/profile-report: hypervisor, guest kernel, user,
# by function; the samples are in build/bench/linux/pvkit.samples).
#
# Options: --out DIR (docs/bench), --kernel generic|cloud|PATH (generic; a
#   path: that bzImage, its file name in the report), --type pv|pvh (pv; pvh
#   names the files BASE-pvh), --cpu MODEL (Haswell-noTSX), --mem MiB
#   (512), --params "WORDS" (workload sizes on the kernel command line;
#   default "pvkit.forks=500 pvkit.procs=64 pvkit.mib=128 pvkit.churn=3000"),
#   --vcpus N guest CPUs (1), --timeout SEC per boot (600), --no-build (use
#   build/ as it is), --no-run (no build, no boot: only the report, from the
#   logs of the last run with the same --vcpus), --ways "W..." (the boots to
#   run, of native pvkit xen; default all three; the others' phases are NA),
#   --profile (see above), --qemu-args "ARGS" (more QEMU options for all the
#   boots, e.g. "-icount shift=0": time counted in guest instructions, which
#   the host's load does not change), --hypervisor ELF (pvkit's image,
#   default build/pvkit.elf).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${BUILD:-$root/build}
prog=run-bench
wl=$root/tests/integration/linux
. "$root/tests/bench/lib/report.sh"

out=$root/docs/bench cpu=Haswell-noTSX mem=512 vcpus=1 timeout=600 do_build=1 do_run=1
ways="native pvkit xen" profile=0 qargs="" hv=$build/pvkit.elf kernel=generic dtype=pv
params="pvkit.forks=500 pvkit.procs=64 pvkit.mib=128 pvkit.churn=3000"
while [ $# -gt 0 ]; do
    case "$1" in
    --out|--cpu|--mem|--vcpus|--params|--timeout|--ways|--qemu-args|--hypervisor|--kernel|--type)
        [ $# -ge 2 ] || { echo "$prog: $1 needs a value" >&2; exit 2; }
        case "$1" in
        --ways) ways=$2 ;; --qemu-args) qargs=$2 ;; --hypervisor) hv=$2 ;;
        --out) out=$2 ;; --cpu) cpu=$2 ;; --mem) mem=$2 ;; --vcpus) vcpus=$2 ;;
        --params) params=$2 ;; --timeout) timeout=$2 ;; --kernel) kernel=$2 ;;
        --type) dtype=$2 ;;
        esac
        shift 2 ;;
    --no-build) do_build=0; shift ;;
    --profile) profile=1; shift ;;
    --no-run) do_run=0 do_build=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "$prog: unknown argument '$1'" >&2; exit 2 ;;
    esac
done

kpath=""
case "$kernel" in
generic) kflavour=amd64 ;;
cloud) kflavour=cloud-amd64 ;;
*/*) [ -r "$kernel" ] || { echo "$prog: no kernel at '$kernel'" >&2; exit 2; }
     kpath=$(readlink -f "$kernel") kflavour=$(basename "$kernel") kernel=$(basename "$kernel") ;;
*) echo "$prog: --kernel wants generic, cloud or a path, not '$kernel'" >&2; exit 2 ;;
esac
case "$dtype" in pv|pvh) ;; *) echo "$prog: --type wants pv or pvh" >&2; exit 2 ;; esac
# Why Xen cannot run this configuration (empty: it can).
xen_why=""
if [ -n "$kpath" ]; then
    xen_why="a kernel given by path is only booted by pvkit and natively here"
elif [ "$kernel" = cloud ]; then
    xen_why="Debian's cloud kernel has no dom0 support (CONFIG_XEN_DOM0 unset) and Xen 4.17 boots the kernel as dom0 here"
elif [ "$cpu" = max ]; then
    xen_why="with -cpu max the generic kernel as dom0 dies early on Xen 4.17 (d0v0 Unhandled: vec 14, #PF in create_bounce_frame)"
fi
if [ -n "$xen_why" ] && [[ " $ways " == *" xen "* ]]; then
    echo "$prog: Xen not booted: $xen_why" >&2
    ways=$(echo " $ways " | sed 's/ xen / /; s/^ *//; s/ *$//')
fi
case "$vcpus" in
''|*[!0-9]*|0*) echo "$prog: --vcpus wants a positive number, not '$vcpus'" >&2; exit 2 ;;
esac
# N = 1 keeps the historical names; N > 1 gets its own report and logs.
if [ "$vcpus" = 1 ]; then
    base=linux-$kernel-$cpu dir=$build/bench/linux/$kernel-$cpu
else
    base=linux-smp$vcpus dir=$build/bench/linux/$kernel-$cpu/smp$vcpus
fi
[ "$dtype" = pv ] || base+=-$dtype dir+=/$dtype
mkdir -p "$dir" "$out"
phases="boot fork_exec pipeline processes tmpfs mmap_churn balloon hostile"
targets="boot fork_exec pipeline processes tmpfs mmap_churn"
# The workload's optional phases follow its knobs (tests/integration/linux/workload.sh).
case " $params " in *" pvkit.ddmib="*)
    phases=${phases/mmap_churn/tmpfs_dd mmap_churn} targets+=" tmpfs_dd" ;;
esac
case " $params " in *" pvkit.balloon=0 "*) phases=${phases/ balloon/} ;; esac

# ---- build and fetch everything ---------------------------------------------
if [ "$do_build" = 1 ]; then
    make -C "$root" --no-print-directory -s "$build/pvkit.elf" tools >&2
fi
if [ "$do_run" = 1 ]; then
    "$root/tools/linux-kernels" --build "$build" amd64 cloud-amd64 >&2
    "$root/tools/fetch-xen" "$build" >&2
fi
kimage=${kpath:-$(readlink -f "$build/linux/vmlinuz-$kflavour")}
xen=$build/xen/xen
pvstress=$build/linux/pvstress
if [ ! -x "$pvstress" ] || [ "$wl/pvstress.c" -nt "$pvstress" ]; then
    gcc -std=c11 -O2 -Wall -Wextra -Werror -static -o "$dir/pvstress" "$wl/pvstress.c"
    pvstress=$dir/pvstress
fi
"$wl/expected.sh" "$pvstress" >"$dir/expected"
initrd=$dir/workload.cpio.gz
if [ "$do_run" = 1 ]; then
    "$root/tools/mkinitramfs" -o "$initrd" --script "$wl/workload.sh" \
    --add "$pvstress:/bin/pvstress" --add "$dir/expected:/etc/pvkit/expected"
fi

# ---- boot ---------------------------------------------------------------------
# stamp: prefixes every line of stdin with the host time in microseconds.
stamp() {
    local line
    while IFS= read -r line; do
        printf '%s %s\n' "${EPOCHREALTIME/./}" "${line//$'\r'/}"
    done
}

# boot WAY COMMAND...: runs COMMAND (stdin /dev/null), time-stamping its
# output into $dir/WAY.log; writes $dir/WAY.start (host µs before the start)
# and $dir/WAY.status.
boot() {
    local way=$1 rc
    shift
    echo "$prog: $way: $*" >&2
    echo "${EPOCHREALTIME/./}" >"$dir/$way.start"
    set +e
    "$@" </dev/null 2>&1 | stamp >"$dir/$way.log"
    rc=${PIPESTATUS[0]}
    set -e
    echo "$rc" >"$dir/$way.status"
    echo "$prog: $way: ended with status $rc after $(( ($(tail -n 1 "$dir/$way.log" | cut -d' ' -f1) - $(cat "$dir/$way.start")) / 1000 )) ms" >&2
}

cmdline="loglevel=4 $params pvkit.cpus=$vcpus"
pvh_args=()
[ "$dtype" = pv ] || pvh_args=(--type "$dtype")
# pvkit's own command line: a PVH domain reboots at the end (it cannot power off yet).
pvkit_cmdline=$cmdline
[ "$dtype" = pv ] || pvkit_cmdline+=" pvkit.after=reboot"
# wanted WAY: true if WAY is one of --ways; a way left out keeps no old log.
wanted() {
    case " $ways " in *" $1 "*) return 0 ;; esac
    : >"$dir/$1.log"; echo "${EPOCHREALTIME/./}" >"$dir/$1.start"; echo "not run" >"$dir/$1.status"
    return 1
}
# pvkit's boot, sampled by tools/qemu-sample through a monitor socket with --profile.
boot_pvkit() {
    local mon=() sampler=""
    if [ "$profile" = 1 ]; then
        rm -f "$dir/monitor.sock"
        mon=(-monitor "unix:$dir/monitor.sock,server=on,wait=off" -d nochain)
        "$build/bin/qemu-sample" --socket "$dir/monitor.sock" >"$dir/pvkit.samples" &
        sampler=$!
    fi
    # shellcheck disable=SC2086 # --qemu-args is split into words on purpose
    boot pvkit "$build/bin/pvkit-run" --hypervisor "$hv" --kernel "$kimage" --initrd "$initrd" \
        --mem "$mem" --vcpus "$vcpus" --hv-args initial_domain=domU "${pvh_args[@]}" \
        --cmdline "console=hvc0 $pvkit_cmdline" \
        --timeout "$timeout" -- -net none -cpu "$cpu" "${mon[@]}" $qargs
    [ -z "$sampler" ] || wait "$sampler" || echo "$prog: qemu-sample took no sample" >&2
}
if [ "$do_run" = 1 ]; then
    ! wanted native || boot native timeout --foreground "$timeout" qemu-system-x86_64 -accel tcg -cpu "$cpu" \
        -nographic -no-reboot -m "$mem" -smp "$vcpus" -net none $qargs \
        -kernel "$kimage" -initrd "$initrd" -append "console=ttyS0 $cmdline"
    ! wanted pvkit || boot_pvkit
    ! wanted xen || boot xen "$build/bin/pvkit-run" --xen "$xen" --kernel "$kimage" --initrd "$initrd" \
        --vcpus "$vcpus" --mem "$mem" --cmdline "console=hvc0 $cmdline" \
        --timeout "$timeout" -- -net none -cpu "$cpu" $qargs
fi

# ---- results ------------------------------------------------------------------
# guest WAY: the console lines of WAY without time stamps and "(dN) " prefixes.
guest() { cut -d' ' -f2- "$dir/$1.log" | sed -E 's/^\(d[0-9]+\) //'; }

# value WAY PHASE: prints the phase's milliseconds (empty if missing).
value() {
    local way=$1 phase=$2 t0 t1
    if [ "$phase" = boot ]; then
        t0=$(cat "$dir/$way.start")
        t1=$(sed -E 's/ \(d[0-9]+\) / /' "$dir/$way.log" |
             awk '/pvkit-init: \/init running/ && !n++ { print $1 }')
        [ -z "$t1" ] || echo $(( (t1 - t0) / 1000 ))
    else
        guest "$way" | awk -v p="$phase" '$1 == "PHASE" && $2 == p && !n++ { print $3 }'
    fi
}
uptime_at_init() {
    guest "$1" | sed -n -E 's/^.*pvkit-init: \/init running on [^,]*, ([0-9.]+) s after boot.*/\1/p' | sed -n 1p
}

complete=1
{
    printf 'phase\tnative\tpvkit\txen\n'
    for p in $phases; do
        row=$p
        for way in native pvkit xen; do
            v=$(value "$way" "$p")
            if [ -z "$v" ]; then
                v=NA
                case " $ways " in *" $way "*) complete=0 ;; esac
            fi
            row+=$'\t'$v
        done
        printf '%s\n' "$row"
    done
} >"$dir/results.tsv"

# ratio A B: A/B with two decimals (NA if either is missing or B is 0).
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "NA"; else printf "%.2f\n", a / b }'
}

kver=$(guest pvkit | sed -n 's/^RESULT uname ok //p' | sed -n 1p)
if [ -n "$kpath" ]; then
    kdeb=$kernel
elif [ "$kernel" = cloud ]; then
    kdeb=$(basename "$(ls "$build"/linux/debs/linux-image-[0-9]*-cloud-amd64_*.deb 2>/dev/null | sed -n 1p)" 2>/dev/null || true)
else
    kdeb=$(basename "$(ls "$build"/linux/debs/linux-image-[0-9]*-amd64_*.deb 2>/dev/null | grep -v cloud | sed -n 1p)" 2>/dev/null || true)
fi
qver=$(qemu-system-x86_64 --version | sed -n 1p)
host_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sed -n 1p)
xver=$(basename "$(ls "$build"/xen/xen-hypervisor-4.17-amd64_*.deb 2>/dev/null | sed -n 1p)" 2>/dev/null || true)
met=0 missed=0
table=""
while IFS=$'\t' read -r p n v x; do
    [ "$p" = phase ] && continue
    rp=$(ratio "$v" "$n") rx=$(ratio "$x" "$n")
    verdict="—"
    case " $targets " in *" $p "*)
        if [ "$v" = NA ] || [ "$x" = NA ]; then verdict="no data"; missed=$((missed + 1))
        elif [ "$v" -le "$x" ]; then verdict="yes"; met=$((met + 1))
        else verdict="**no** (pvkit $(ratio "$v" "$x")× Xen)"; missed=$((missed + 1))
        fi ;;
    esac
    table+="| $(report_phase_name "$p") | $n | $v | $x | $rp | $rx | $verdict |"$'\n'
done <"$dir/results.tsv"

fails() {   # fails WAY: the RESULT lines that are not ok, one line
    guest "$1" | awk '$1 == "RESULT" && $3 != "ok" { printf "%s%s", s, $2; s = ", " }'
}
done_line() { guest "$1" | awk '/^WORKLOAD DONE/ && !n++'; }

# phase_us WAY PHASE: the host time (µs) of WAY's "PHASE <PHASE>" line.
phase_us() {
    sed -E 's/ \(d[0-9]+\) / /' "$dir/$1.log" | awk -v p="$2" '$2 == "PHASE" && $3 == p && !n++ { print $1 }'
}
# profile_section: the flat profile of pvkit's fork+exec phase (--profile).
profile_section() {
    local from to
    from=$(phase_us pvkit identity) to=$(phase_us pvkit fork_exec)
    echo
    echo "## Profile of pvkit's fork+exec phase"
    echo
    echo "\`tools/qemu-sample\` asked QEMU's monitor for every CPU's RIP at 500 Hz during the pvkit"
    echo "boot; \`tools/profile-report\` counts the samples between the guest's \`PHASE identity\` and"
    echo "\`PHASE fork_exec\` lines (halted CPUs apart), by region and function (the guest kernel is"
    echo "Debian's bzImage, without symbols: its samples are one row)."
    echo
    echo '```'
    if [ -n "$from" ] && [ -n "$to" ]; then
        "$root/tools/profile-report" --samples "$dir/pvkit.samples" --from "$from" --to "$to" \
            --hv-syms "$build/pvkit-syms.elf" --top 30 || echo "(no samples in the phase)"
    else
        echo "(the pvkit log has no fork_exec phase)"
    fi
    echo '```'
}

md=$out/$base.md
msmp=$(( vcpus > 2 ? vcpus : 2 ))
if [ "$vcpus" = 1 ]; then
    title="Linux benchmark, $kernel kernel, -cpu $cpu" cpus="1 guest CPU" vcpu_s="1 vCPU"
    gen="make bench-linux"
    [ "$kernel $cpu" = "generic Haswell-noTSX" ] && gen="tests/bench/linux/run-bench.sh"
else
    title="Linux benchmark, $vcpus vCPUs" cpus="$vcpus guest CPUs" vcpu_s="$vcpus vCPUs"
    gen="tests/bench/linux/run-bench.sh --kernel $kernel --cpu $cpu --vcpus $vcpus"
    [ "$vcpus" = 2 ] && gen="make bench-linux-smp"
fi
{
    echo "# $title: native vs pvkit vs Xen 4.17 (issue 5)"
    echo
    echo "Generated by \`$gen\` (tests/bench/linux/run-bench.sh); one run, the three boots one after the other."
    echo
    echo "- Date: $(date -u -r "$(ls -t "$dir"/{native,pvkit,xen}.log | sed -n 1p)" '+%Y-%m-%d %H:%M UTC') (end of the runs)"
    echo "- QEMU: $qver, TCG, \`-cpu $cpu${qargs:+ $qargs}\`, $cpus in all three runs (QEMU -smp $vcpus native, -smp $msmp under pvkit and Xen, as pvkit-run sets it)"
    echo "- Host CPU: $host_cpu ($(nproc) CPUs)"
    echo "- Kernel: ${kver:-?} (Debian $kernel, \`${kdeb:-linux-image-$kflavour}\`), the same bzImage for all runs"
    if [ -n "$xen_why" ]; then
        echo "- Xen: not run: $xen_why"
    else
        echo "- Xen: ${xver:-xen-hypervisor-4.17-amd64}, the kernel as dom0 (\`dom0_mem=${mem}M\`)"
    fi
    echo "- pvkit: $(git -C "$root" log -1 --format='%h %cd' --date=short 2>/dev/null || echo unknown) (image ${hv#"$root"/}), the kernel as the initial domain with \`initial_domain=domU\`"
    echo "- Guest: $mem MiB, $vcpu_s (dom0_max_vcpus=$vcpus; native: -smp $vcpus, a $mem MiB machine); workload parameters \`$params\`"
    xen_up="$(uptime_at_init xen) s"
    [ -z "$xen_why" ] || xen_up="not run"
    echo "- Guest uptime at /init: native $(uptime_at_init native) s, pvkit $(uptime_at_init pvkit) s, Xen $xen_up"
    echo
    echo "| phase | native ms | pvkit ms | Xen ms | pvkit/native | Xen/native | pvkit meets target |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    printf '%s' "$table"
    echo
    echo "Target: for every phase pvkit/native ≤ Xen/native, and boot to /init no slower than Xen's."
    if [ -n "$xen_why" ]; then
        echo "Not judged here: Xen was not run."
    else
        echo "Met for $met of $((met + missed)) target phases."
    fi
    if [ "$complete" = 0 ]; then
        echo
        echo "Not measured (NA above): the phases a run did not report; see the Runs list and"
        echo "the console logs in ${dir#"$root"/}/. No numbers were made up for them."
    fi
    echo
    echo "Boot is measured on the host from just before QEMU (or pvkit-run) starts to the"
    echo "arrival of the initramfs's first line on the console; the other phases are the"
    echo "guest's own \`PHASE\` lines (10 ms resolution). Single run under TCG: expect"
    echo "±30 % noise between runs."
    echo
    echo "Runs:"
    for way in native pvkit xen; do
        f=$(fails "$way")
        d=$(done_line "$way")
        if [ "$(cat "$dir/$way.status")" = "not run" ]; then
            why=""
            [ "$way" != xen ] || why=${xen_why:+ ($xen_why)}
            echo "- $way: not run$why"
            continue
        fi
        echo "- $way: launcher status $(cat "$dir/$way.status"); ${d:-no WORKLOAD DONE line}; phases not ok: ${f:-none}"
    done
    echo
    echo "(native is expected to fail the Xen identity checks — sys_hypervisor, dmesg_xen — and the balloon phase;"
    echo "Xen powers the machine off through ACPI S5, which QEMU ends with exit 0, so pvkit-run says 21 for it:"
    echo "its WORKLOAD DONE line is what counts.)"
    echo
    echo "![ratio to native per phase]($base.png)"
    [ "$profile" = 0 ] || profile_section
} >"$md"
echo "$prog: wrote $md" >&2

# ---- plot -----------------------------------------------------------------------
awk -F'\t' -v t=" $targets " 'NR > 1 && index(t, " " $1 " ") && $2 != "NA" && $2 > 0 {
        printf "%s\t%s\t%s\n", $1, ($3 == "NA" ? "NaN" : $3 / $2), ($4 == "NA" ? "NaN" : $4 / $2) }' \
    "$dir/results.tsv" >"$dir/ratios.dat"
vcpus_t=""
[ "$vcpus" = 1 ] || vcpus_t=", $vcpus vCPUs"
# The Xen series only where Xen ran (gnuplot refuses a series with no point).
xen_series="'' using 3 title 'Xen 4.17 / native' lc rgb '#c05621', "
[ -z "$xen_why" ] || xen_series=""
if command -v gnuplot >/dev/null; then
    { report_ratio_plot_head "$out/$base.png" "Linux ${kver} ($kernel), QEMU TCG -cpu $cpu${vcpus_t}" 900
      cat <<EOF
plot '$dir/ratios.dat' using 2:xtic(1) title 'pvkit / native' lc rgb '#2b6cb0', \
     $xen_series 1 with lines notitle lc rgb 'black' dt 2
EOF
    } | gnuplot
    echo "$prog: wrote $out/$base.png" >&2
else
    echo "$prog: gnuplot not found (tools/packages/bench.txt: gnuplot-nox); no plot" >&2
fi

cat "$dir/results.tsv"
[ "$complete" = 1 ]
