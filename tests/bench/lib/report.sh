# report.sh: shared by the benchmarks' report writers (tests/bench/io/summarize,
# tests/bench/mm/summarize), sourced by bash. A generated report may end with
# hand-written notes below a marker line; rewriting the report keeps them.

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
