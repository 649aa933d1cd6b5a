# report.sh: shared by the benchmarks' report writers (tests/bench/io/summarize,
# tests/bench/mm/summarize, tests/bench/linux/run-bench.sh,
# tests/bench/pv-vs-hvm/run-bench.sh), sourced by bash. A generated report
# may end with hand-written notes below a marker line; rewriting the report
# keeps them.

REPORT_MARKER='<!-- notes: everything below this line is kept when summarize rewrites the report -->'

# report_keep_notes REPORT NOTES: copies the marker line and everything after
# it from an existing REPORT into NOTES (NOTES left empty if there is none).
report_keep_notes() {
    : >"$2"
    if [ -r "$1" ] && grep -qxF "$REPORT_MARKER" "$1"; then
        sed -n "/^$REPORT_MARKER\$/,\$p" "$1" >"$2"
    fi
}

# report_append_notes REPORT NOTES: appends the kept NOTES to REPORT, or a
# fresh marker line when there were none.
report_append_notes() {
    if [ -s "$2" ]; then
        echo >>"$1"
        cat "$2" >>"$1"
    else
        printf '\n%s\n' "$REPORT_MARKER" >>"$1"
    fi
}

# report_phase_name PHASE: the table name of a Linux workload phase
# (tests/integration/linux/workload.sh).
report_phase_name() {
    case "$1" in
    boot) echo "boot to /init (host clock)" ;;
    fork_exec) echo "fork+exec loop" ;;
    tmpfs) echo "memory: tmpfs write + sha256" ;;
    tmpfs_dd) echo "memory: dd to tmpfs + md5sum" ;;
    mmap_churn) echo "memory: mmap/mprotect churn" ;;
    balloon) echo "balloon (not a target)" ;;
    hostile) echo "hostile (not a target)" ;;
    *) echo "$1" ;;
    esac
}

# report_ratio_plot_head PNG TITLE WIDTH: the gnuplot lines before the plot
# command of a clustered histogram of time / native time per phase
# (tab-separated data, lower is better).
report_ratio_plot_head() {
    cat <<EOF
set terminal pngcairo size $3,500 noenhanced
set output '$1'
set title '$2: time / native time (lower is better)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set datafile separator '\t'
set ylabel 'time / native time'
set yrange [0:*]
set grid ytics
set xtics rotate by -30
set key top left
EOF
}
