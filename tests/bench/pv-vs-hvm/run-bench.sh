#!/bin/bash
# run-bench.sh: `make bench-pv-vs-hvm` (issue 18 item 4). One Debian kernel,
# one QEMU CPU model (AMD, with SVM and nested paging: EPYC without MONITOR,
# RDTSCP, SMAP and SMEP, which TCG or Xen's PV dom0 cannot take), the Linux
# workload of `make bench-linux` (tests/integration/linux/workload.sh), in
# one run, one boot after the other:
#   native    QEMU without a hypervisor            } tests/bench/linux/run-bench.sh
#   pvkit PV  the kernel as a PV domU of pvkit     } --ways "native pvkit"
#   pvkit PVH the kernel as a PVH domU of pvkit    } --type pvh --ways pvkit
#   Xen PV, Xen PVH: the kernel as an xl-created domU of Xen 4.17 under its
#             PV dom0 (../shared/xen-io-reference, run.sh with XREF_WORK set
#             to --xref-pv and --xref-pvh, built by its fetch.sh and build.sh
#             with XREF_TYPE=pv and pvh), which measures two of the phases:
#             fork+exec x300 and 64 MiB dd'd to a tmpfs + md5sum. Skipped,
#             and said so in the report, when a reference is not built.
# The kernel is the reference's own cloud kernel (XREF_PV/anchor/vmlinuz-cloud)
# when it is there, so all five columns run the same bzImage; else Debian's
# cloud kernel pinned in tools/linux-version.mk. Guests get 256 MiB and one
# vCPU everywhere (the reference's domU size). The workload parameters
# match the reference's phases (pvkit.forks=300, pvkit.ddmib=64), and the
# balloon phase is skipped (pvkit.balloon=0): a PVH domU has no balloon yet.
#
# Writes OUT/pv-vs-hvm.md (the table: ms per phase and way, ratios to
# native, which of pvkit's PV and PVH wins each phase, pvkit PVH against
# Xen PVH) and OUT/pv-vs-hvm.png (time / native per phase); the notes
# below the report's marker line (the per-phase explanations) are kept
# when it is rewritten (tests/bench/lib/report.sh). Logs in
# build/bench/pv-vs-hvm/ and under build/bench/linux/.
# Every QEMU boot is the caller's to serialise: flock /tmp/qemu.lock make ...
#
# Options: --out DIR (docs/bench), --kernel PATH, --cpu MODEL, --mem MiB
#   (256), --params "WORDS", --xref-pv DIR (/tmp/xref-pv), --xref-pvh DIR
#   (/tmp/xref-pvh), --no-xen (no Xen boots; earlier results in
#   build/bench/pv-vs-hvm/xen-*.anchor are used if there), --no-run (no
#   boot: the report from the last run's logs).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${BUILD:-$root/build}
prog=bench-pv-vs-hvm
. "$root/tests/bench/lib/report.sh"

out=$root/docs/bench cpu=EPYC,-monitor,-rdtscp,-smap,-smep mem=256 kernel="" do_run=1 do_xen=1
params="pvkit.forks=300 pvkit.procs=64 pvkit.mib=64 pvkit.churn=3000 pvkit.ddmib=64 pvkit.balloon=0"
xref_pv=${XREF_PV:-/tmp/xref-pv} xref_pvh=${XREF_PVH:-/tmp/xref-pvh}
while [ $# -gt 0 ]; do
    case "$1" in
    --out|--kernel|--cpu|--mem|--params|--xref-pv|--xref-pvh)
        [ $# -ge 2 ] || { echo "$prog: $1 needs a value" >&2; exit 2; }
        case "$1" in
        --out) out=$2 ;; --kernel) kernel=$2 ;; --cpu) cpu=$2 ;; --mem) mem=$2 ;;
        --params) params=$2 ;; --xref-pv) xref_pv=$2 ;; --xref-pvh) xref_pvh=$2 ;;
        esac
        shift 2 ;;
    --no-xen) do_xen=0; shift ;;
    --no-run) do_run=0 do_xen=0; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "$prog: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
if [ -z "$kernel" ]; then
    kernel=$xref_pv/anchor/vmlinuz-cloud
    [ -r "$kernel" ] || kernel=$build/linux/vmlinuz-cloud-amd64
fi
[ -r "$kernel" ] || { echo "$prog: no kernel at $kernel (make linux-kernels)" >&2; exit 2; }
kernel=$(readlink -f "$kernel")
dir=$build/bench/pv-vs-hvm
mkdir -p "$dir" "$out"
# Where tests/bench/linux/run-bench.sh keeps the logs of a kernel given by path.
ldir=$build/bench/linux/$(basename "$kernel")-$cpu
linux_bench=(tests/bench/linux/run-bench.sh --no-build --out "$dir" --kernel "$kernel"
             --cpu "$cpu" --mem "$mem" --params "$params")
[ "$do_run" = 1 ] || linux_bench+=(--no-run)

# ---- the boots ----------------------------------------------------------------
cd "$root"
"${linux_bench[@]}" --ways "native pvkit" >&2 || echo "$prog: a native or PV run missed phases" >&2
"${linux_bench[@]}" --type pvh --ways pvkit >&2 || echo "$prog: the PVH run missed phases" >&2

# xen_run TYPE XREF: one boot of the reference with a TYPE domU, its ANCHOR
# lines into $dir/xen-TYPE.anchor (not run, and the old file kept, when
# XREF is not built).
xen_run() {
    if [ ! -s "$2/out/dom0-initrd.gz" ] || [ ! -s "$2/out/domu-initrd.gz" ]; then
        echo "$prog: Xen $1 not run: $2 is not built (../shared/xen-io-reference/README.md)" >&2
        return 0
    fi
    echo "$prog: Xen 4.17, $1 domU ($2)" >&2
    XREF_WAIT_IDLE=20 XREF_WORK=$2 XREF_CPU=$cpu \
        ../shared/xen-io-reference/run.sh "$dir/xen-$1.console.log" >"$dir/xen-$1.anchor" 2>&1 ||
        echo "$prog: the Xen $1 run ended with an error (see $dir/xen-$1.anchor)" >&2
}
if [ "$do_xen" = 1 ]; then
    xen_run pv "$xref_pv"
    xen_run pvh "$xref_pvh"
fi

# ---- the table ----------------------------------------------------------------
# tsv_value TSV PHASE COLUMN: the value (ms or NA) in run-bench.sh's results.tsv.
tsv_value() {
    [ -r "$1" ] || { echo NA; return; }
    awk -F'\t' -v p="$2" -v c="$3" '$1 == p { v = $c } END { print (v == "" ? "NA" : v) }' "$1"
}
# xen_value TYPE PHASE: the reference's figure for PHASE in ms (NA: none).
xen_value() {
    local f=$dir/xen-$1.anchor key=""
    case "$2" in fork_exec) key=domu_forkexec300_s ;; tmpfs_dd) key=domu_tmpfs64_s ;; esac
    [ -n "$key" ] && [ -r "$f" ] || { echo NA; return; }
    awk -v k="$key" '$1 == "ANCHOR" && $2 == k { v = int($3 * 1000 + 0.5) } END { print (v == "" ? "NA" : v) }' "$f"
}
# xen_key TYPE KEY: the reference's ANCHOR value of KEY ("?" if none).
xen_key() {
    local f=$dir/xen-$1.anchor
    { [ -r "$f" ] && awk -v k="$2" '$1 == "ANCHOR" && $2 == k { v = $3 } END { print (v == "" ? "?" : v) }' "$f"; } || echo "?"
}
ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b == 0) print "NA"; else printf "%.2f\n", a / b }'
}
# winner PV PVH: which of the two is faster, by how much (ties within 5 %).
winner() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "NA" || b == "NA" || a == 0 || b == 0) { print "—"; exit }
        if (a <= b * 1.05 && b <= a * 1.05) print "tie"
        else if (a < b) printf "PV (%.2f×)\n", b / a
        else printf "PVH (%.2f×)\n", a / b }'
}
# vs_xen PVKIT XEN: pvkit PVH against Xen PVH.
vs_xen() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        if (a == "NA" || b == "NA") print "—"
        else if (a <= b) printf "yes (%.2f×)\n", a / b
        else printf "**no** (%.2f×)\n", a / b }'
}

pv_tsv=$ldir/results.tsv pvh_tsv=$ldir/pvh/results.tsv
phases="boot fork_exec pipeline processes tmpfs tmpfs_dd mmap_churn hostile"
printf 'phase\tnative\tpv\tpvh\txenpv\txenpvh\n' >"$dir/results.tsv"
table=""
for p in $phases; do
    n=$(tsv_value "$pv_tsv" "$p" 2) v=$(tsv_value "$pv_tsv" "$p" 3) h=$(tsv_value "$pvh_tsv" "$p" 3)
    xv=$(xen_value pv "$p") xh=$(xen_value pvh "$p")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$p" "$n" "$v" "$h" "$xv" "$xh" >>"$dir/results.tsv"
    table+="| $(report_phase_name "$p") | $n | $v | $h | $xv | $xh | $(ratio "$v" "$n") | $(ratio "$h" "$n") | $(winner "$v" "$h") | $(vs_xen "$h" "$xh") |"$'\n'
done

# run_line WAY LOG: how a pvkit or native boot ended, from its console log.
run_line() {
    local log=$2 st
    st=$(cat "${log%.log}.status" 2>/dev/null || echo "?")
    echo "- $1: launcher status $st; $(cut -d' ' -f2- "$log" 2>/dev/null | sed -E 's/^\(d[0-9]+\) //' |
        awk '/^WORKLOAD DONE/ && !n++ { d = $0 } $1 == "RESULT" && $3 != "ok" && $3 != "skip:" { f = f s $2; s = ", " }
             END { printf "%s; phases not ok: %s", (d == "" ? "no WORKLOAD DONE line" : d), (f == "" ? "none" : f) }')"
}
kver=$(cut -d' ' -f2- "$ldir/pvkit.log" 2>/dev/null | sed -E 's/^\(d[0-9]+\) //' | sed -n 's/^RESULT uname ok //p' | sed -n 1p)
md=$out/pv-vs-hvm.md
notes=$(mktemp)
report_keep_notes "$md" "$notes"
{
    echo "# PV against PVH: native, pvkit PV, pvkit PVH, Xen 4.17 PV and PVH (issue 18)"
    echo
    echo "Generated by \`make bench-pv-vs-hvm\` (tests/bench/pv-vs-hvm/run-bench.sh); one run, the boots one after the other."
    echo
    echo "- Date: $(date -u -r "$(ls -t "$ldir"/pvkit.log "$ldir"/pvh/pvkit.log 2>/dev/null | sed -n 1p)" '+%Y-%m-%d %H:%M UTC') (end of the pvkit runs)"
    echo "- QEMU: $(qemu-system-x86_64 --version | sed -n 1p), TCG, \`-cpu $cpu\` for every column"
    echo "- Host CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sed -n 1p) ($(nproc) CPUs)"
    echo "- Kernel: ${kver:-?}, \`$kernel\`, the same bzImage for every column"
    echo "- pvkit: $(git log -1 --format='%h %cd' --date=short 2>/dev/null || echo unknown), the kernel as the initial domain (\`initial_domain=domU\`, PVH: \`initial_domain_type=pvh\`), alone on a 2-CPU machine"
    echo "- Native: QEMU -smp 1, -m $mem"
    echo "- Xen: 4.17 (Debian), the kernel as an xl-created domU beside a 2-vCPU PV dom0 (generic kernel), ../shared/xen-io-reference; create → domU /init: PV $(xen_key pv create_to_domu_init_s) s, PVH $(xen_key pvh create_to_domu_init_s) s (from \`xl create\`, hotplug scripts included: not comparable with the boot row)"
    echo "- Guest: $mem MiB, 1 vCPU everywhere; workload parameters \`$params\`"
    echo
    echo "| phase | native ms | pvkit PV ms | pvkit PVH ms | Xen PV ms | Xen PVH ms | PV/native | PVH/native | pvkit: faster of PV and PVH | pvkit PVH ≤ Xen PVH |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
    printf '%s' "$table"
    echo
    echo "NA: not measured (the Xen reference measures only fork+exec ×300 and dd to tmpfs + md5sum;"
    echo "its boot is not timed from QEMU's start). The guest's phases are its own \`PHASE\` lines"
    echo "(10 ms resolution); boot is host time from the launcher's start to /init's first line."
    echo "Single run under TCG: expect ±30 % noise between runs. The balloon phase is skipped"
    echo "(\`pvkit.balloon=0\`) for every way: a PVH domU has no balloon yet."
    echo
    echo "Runs:"
    run_line native "$ldir/native.log"
    run_line "pvkit PV" "$ldir/pvkit.log"
    run_line "pvkit PVH" "$ldir/pvh/pvkit.log"
    for t in pv pvh; do
        if [ -r "$dir/xen-$t.anchor" ]; then
            echo "- Xen $t: domU /init reached: $( [ "$(xen_key $t create_to_domu_init_s)" != "?" ] && echo yes || echo no), clean power-off: $(xen_key $t xen_clean_poweroff), run wall $(xen_key $t host_run_wall_s) s, host load average at its start $(xen_key $t host_loadavg_at_start), ended $(date -u -r "$dir/xen-$t.anchor" '+%Y-%m-%d %H:%M UTC')"
        else
            echo "- Xen $t: not run"
        fi
    done
    echo
    echo "![time / native per phase](pv-vs-hvm.png)"
} >"$md"
report_append_notes "$md" "$notes"
rm -f "$notes"
echo "$prog: wrote $md" >&2

# ---- the plot -------------------------------------------------------------------
awk -F'\t' 'NR > 1 && $1 != "hostile" && $2 != "NA" && $2 > 0 {
        printf "%s", $1
        for (i = 3; i <= 6; i++) printf "\t%s", ($i == "NA" ? "NaN" : $i / $2)
        printf "\n" }' "$dir/results.tsv" >"$dir/ratios.dat"
if command -v gnuplot >/dev/null; then
    { report_ratio_plot_head "$out/pv-vs-hvm.png" "Linux ${kver}, TCG -cpu ${cpu%%,*}, 1 vCPU" 1000
      cat <<EOF
set datafile missing 'NaN'
plot '$dir/ratios.dat' using 2:xtic(1) title 'pvkit PV' lc rgb '#2b6cb0', \
     '' using 3 title 'pvkit PVH' lc rgb '#63b3ed', \
     '' using 4 title 'Xen 4.17 PV' lc rgb '#c05621', \
     '' using 5 title 'Xen 4.17 PVH' lc rgb '#f6ad55', \
     1 with lines notitle lc rgb 'black' dt 2
EOF
    } | gnuplot
    echo "$prog: wrote $out/pv-vs-hvm.png" >&2
else
    echo "$prog: gnuplot not found (tools/packages/bench.txt: gnuplot-nox); no plot" >&2
fi
cat "$dir/results.tsv"
