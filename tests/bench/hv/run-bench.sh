#!/bin/bash
# run-bench.sh: the hypervisor benchmark (make bench-hv; issues 2, 3, 4, 13).
#
# What it measures and how: it boots the benchmark guests (build/guests/
# bench_hypercall, bench_mmu, bench_cpu, for issue 4 bench_evt and the
# two-domain, pvkit-only bench_pingpong, for issue 13 bench_grant (grant
# map/unmap and copy, the domain granting to itself); what each measures is
# at the top of its source in tests/guests/kernels/) as the initial domain
# of pvkit and, when an image is given, of real Xen 4.17, under the same
# QEMU through pvkit-run. The guests time themselves with RDTSC and print
# `name: value unit` lines; this script adds one host-side measurement:
#   boot_to_first_instruction: QEMU is started through a wrapper that records
#   the time of its exec and timestamps the arrival, on QEMU's own stdout, of
#   the line bench_hypercall writes as its very first action
#   (bench_first_instruction); milliseconds, median over --boot-runs runs.
# Every guest metric is the median over its runs (bench_hypercall runs
# --boot-runs times, the others --runs times; pvkit and Xen runs
# alternate). A guest run that does not end with PASS and poweroff fails
# the benchmark.
#
# Output on stdout, one `name: value unit` line each: NAME (pvkit), and with
# Xen also NAME_xen and NAME_ratio. ratio = how many times faster pvkit is
# (Xen cost / pvkit cost, or pvkit rate / Xen rate): > 1 means pvkit wins.
# The same numbers go to a Markdown table (--out, default docs/bench/hv.md)
# with the date, the QEMU version, the host CPU and the pvkit commit.
#
# usage: run-bench.sh [--hypervisor PVKIT.elf] [--xen XEN] [--launcher PVKIT_RUN]
#                     [--guests DIR] [--out FILE.md] [--boot-runs N] [--runs N]
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
hv=$root/build/pvkit.elf xen="" launcher=$root/build/bin/pvkit-run
guests=$root/build/guests out=$root/docs/bench/hv.md boot_runs=5 runs=5

usage() {
    sed -n '/^# usage:/,/^set -u/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# //' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    --hypervisor) [ $# -ge 2 ] || usage; hv=$2; shift 2 ;;
    --xen) [ $# -ge 2 ] || usage; xen=$2; shift 2 ;;
    --launcher) [ $# -ge 2 ] || usage; launcher=$2; shift 2 ;;
    --guests) [ $# -ge 2 ] || usage; guests=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --boot-runs) [ $# -ge 2 ] || usage; boot_runs=$2; shift 2 ;;
    --runs) [ $# -ge 2 ] || usage; runs=$2; shift 2 ;;
    *) usage ;;
    esac
done
if [ -n "$xen" ] && [ ! -s "$xen" ]; then
    echo "run-bench: no Xen image at $xen; pvkit only" >&2
    xen=""
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvkit-bench-hv.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The QEMU wrapper: stamps its start, then execs the real QEMU with stdout
# through a filter that stamps the marker line's arrival.
real_qemu=$(command -v qemu-system-x86_64) || { echo "run-bench: no qemu-system-x86_64" >&2; exit 1; }
mkdir -p "$tmp/wrap"
cat >"$tmp/wrap/qemu-system-x86_64" <<EOF
#!/bin/bash
echo "\$EPOCHREALTIME" >"\$BENCH_STAMP.start"
exec "$real_qemu" "\$@" > >(while IFS= read -r l || [ -n "\$l" ]; do
    case \$l in *bench_first_instruction*) [ -e "\$BENCH_STAMP.marker" ] ||
        echo "\$EPOCHREALTIME" >"\$BENCH_STAMP.marker" ;; esac
    printf '%s\n' "\$l"
done)
EOF
chmod +x "$tmp/wrap/qemu-system-x86_64"

# Runs guest $2 on hypervisor kind $1 (pvkit|xen) once, run number $3;
# appends its `name value unit` lines to $tmp/$1.vals. Returns 1 on failure.
# bench_pingpong runs twice: with maxcpus=1 (both domains share one CPU, so
# a round trip includes two domain switches) and as bench_pingpong_2cpu on
# two CPUs (each domain on its own CPU: the round trip is two cross-CPU
# kicks; its metrics get the suffix _2cpu, and it has no domain_switch).
run_guest() {
    local kind=$1 guest=$2 n=$3 log st args start marker elf=$2 suffix="" hv_args=()
    case $guest in
        bench_pingpong) hv_args=(--hv-args maxcpus=1) ;;
        bench_pingpong_2cpu) elf=bench_pingpong suffix=_2cpu ;;
    esac
    log=$tmp/$kind.$guest.$n.log
    args=(--kernel "$guests/$elf.elf" --cmdline "$elf bench" --timeout 120)
    if [ "$kind" = xen ]; then args+=(--xen "$xen"); else args+=(--hypervisor "$hv" "${hv_args[@]}"); fi
    # bench_pingpong (pvkit only) needs its partner domain B.
    [ "$elf" = bench_pingpong ] &&
        args+=(--domu "$guests/bench_pingpong.elf" --domu-cmdline "bench_pingpong role=1 bench")
    rm -f "$tmp/stamp.start" "$tmp/stamp.marker"
    BENCH_STAMP=$tmp/stamp PATH=$tmp/wrap:$PATH "$launcher" "${args[@]}" </dev/null >"$log" 2>&1
    st=$?
    tr -d '\r' <"$log" >"$log.txt"
    if [ "$st" != 0 ] || ! grep -qx PASS "$log.txt"; then
        echo "run-bench: $guest on $kind failed (launcher status $st); log:" >&2
        tail -n 30 "$log.txt" >&2
        return 1
    fi
    grep -E '^[a-z0-9_]+: [0-9]+(\.[0-9]+)? [A-Za-z/]+$' "$log.txt" |
        grep -Ev '^(guest_entry_tsc|tsc_khz):' | sed 's/: / /' |
        awk -v sfx="$suffix" 'sfx == "" { print; next }
                              $1 !~ /^domain_switch/ { $1 = $1 sfx; print }' >>"$tmp/$kind.vals"
    if [ "$guest" = bench_hypercall ]; then
        start=$(cat "$tmp/stamp.start" 2>/dev/null) marker=$(cat "$tmp/stamp.marker" 2>/dev/null)
        if [ -n "$start" ] && [ -n "$marker" ]; then
            awk -v s="$start" -v m="$marker" \
                'BEGIN { printf "boot_to_first_instruction %.1f ms\n", (m - s) * 1000 }' \
                >>"$tmp/$kind.vals"
        fi
    fi
    grep -m1 '^tsc_source:' "$log.txt" | sed "s/^/$kind /" >>"$tmp/sources"
}

# Runs every guest the configured number of times on each kind in "$@",
# interleaved (run i on pvkit, then run i on Xen) so that a change in host
# load during the benchmark hits both hypervisors alike.
run_all() {
    local kind g i n
    for kind in "$@"; do : >"$tmp/$kind.vals"; done
    for g in bench_hypercall bench_mmu bench_cpu bench_evt bench_grant bench_pingpong bench_pingpong_2cpu; do
        n=$runs
        [ "$g" = bench_hypercall ] && n=$boot_runs
        for i in $(seq "$n"); do
            for kind in "$@"; do
                case $g in bench_pingpong*) [ "$kind" = xen ] && continue ;; esac  # two domains
                run_guest "$kind" "$g" "$i" || return 1
            done
        done
    done
}

# Medians per metric of $1 (name value unit lines), in first-seen order.
medians() {
    awk '{ if (!($1 in n)) { order[++k] = $1; unit[$1] = $3 } v[$1, ++n[$1]] = $2 }
         END { for (i = 1; i <= k; i++) { m = order[i]; c = n[m]
                   for (a = 1; a <= c; a++) x[a] = v[m, a]
                   for (a = 1; a <= c; a++) for (b = a + 1; b <= c; b++)
                       if (x[b] + 0 < x[a] + 0) { t = x[a]; x[a] = x[b]; x[b] = t }
                   med = (c % 2) ? x[(c + 1) / 2] : (x[c / 2] + x[c / 2 + 1]) / 2
                   print m, med, unit[m] } }' "$1"
}

fail=0
: >"$tmp/sources"
if [ -n "$xen" ]; then
    run_all pvkit xen || fail=1
    medians "$tmp/xen.vals" >"$tmp/xen.med"
else
    run_all pvkit || fail=1
    : >"$tmp/xen.med"
fi
medians "$tmp/pvkit.vals" >"$tmp/pvkit.med"

# Joins the medians: name unit pvkit xen ratio (xen/ratio "-" if absent).
awk -v xen="$xen" 'FILENAME == ARGV[1] { xv[$1] = $2; next }
     { x = ($1 in xv) ? xv[$1] : (xen != "" && $1 ~ /^(evtchn_interdomain_rtt|domain_switch)/) ? "n/a" : "-"; r = "-"
       if (x != "-" && $2 + 0 > 0 && x + 0 > 0)
           r = sprintf("%.2f", ($3 ~ /\/s$/) ? $2 / x : x / $2)
       print $1, $3, $2, x, r }' "$tmp/xen.med" "$tmp/pvkit.med" >"$tmp/table"

while read -r name unit pv xv ratio; do
    echo "$name: $pv $unit"
    if [ "$xv" != - ]; then
        [ "$xv" = n/a ] && { echo "${name}_xen: n/a"; continue; }
        echo "${name}_xen: $xv $unit"
        echo "${name}_ratio: $ratio x"
    fi
done <"$tmp/table"

# The Markdown report.
mkdir -p "$(dirname "$out")"
{
    echo "# Hypervisor benchmark (make bench-hv)"
    echo
    echo "Generated by tests/bench/hv/run-bench.sh. Guests: tests/guests/kernels/bench_*.c."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- QEMU: $("$real_qemu" --version | head -n 1) (TCG, -cpu max, -smp 2: both hypervisors use 2 CPUs)"
    echo "- host CPU: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //') ($(nproc) CPUs)"
    echo "- pvkit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
         "$(git -C "$root" diff --quiet HEAD -- hypervisor 2>/dev/null || echo '(hypervisor/ modified)')"
    echo "- Xen: $( [ -n "$xen" ] && echo "4.17 ($(basename "$(dirname "$xen")")/$(basename "$xen"))" || echo 'not run')"
    echo "- runs: bench_hypercall $boot_runs, bench_mmu, bench_cpu, bench_evt, bench_grant and bench_pingpong $runs each; medians"
    echo "- TSC frequency source: $(sort -u "$tmp/sources" | sed 's/tsc_source: //' | paste -sd, - | sed 's/,/, /g')"
    echo
    echo "n/a: pvkit only (bench_pingpong needs two domains; Xen has no toolstack here)."
    echo "bench_grant (the grant_* rows): the initial domain grants its own pages to itself (domain 0 on both) and maps, unmaps or copies them; _bN = N ops per hypercall; grant_map_unmap rows are the cost per page of a map plus its unmap (_pte: through the L1 entry's machine address, GNTMAP_contains_pte), grant_map/grant_unmap the two halves; grant_copy rows are per 4 KiB copy (gref to own frame). Issue 13's target: ratio >= 1 on every grant row."
    echo "bench_pingpong runs with maxcpus=1 (both domains on one CPU: evtchn_interdomain_rtt includes two domain switches) and again on two CPUs (the _2cpu rows: one domain per CPU, events cross CPUs by IPI)."
    echo
    echo "ratio = how many times faster pvkit is (Xen cost / pvkit cost, or pvkit rate / Xen rate); > 1: pvkit is faster."
    echo
    echo "| measurement | unit | pvkit | Xen 4.17 | ratio |"
    echo "|---|---|---:|---:|---:|"
    while read -r name unit pv xv ratio; do
        echo "| $name | $unit | $pv | $xv | $ratio |"
    done <"$tmp/table"
    echo
    echo "Under TCG every guest instruction is emulated, so these numbers compare the"
    echo "two hypervisors' paths under the same emulator, not bare-metal latencies,"
    echo "and they move with the host's load (runs alternate between the two to share it)."
    echo "Cycles are the same host TSC on both; the ns and rate columns use each"
    echo "hypervisor's own TSC frequency (source above), so compare the cycle ratios first."
} >"$out"
echo "run-bench: table written to $out" >&2
exit "$fail"
