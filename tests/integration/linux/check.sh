# check.sh: the PASS/FAIL counting the host-side Linux checks share, sourced
# by kernels-fallback-test.sh and run-workload.sh.
#   check NAME COMMAND...  one check, passed if COMMAND succeeds: prints
#                          "PASS NAME" or "FAIL NAME" and counts it in
#                          $passed or $failed (both start at 0 here).

passed=0 failed=0

check() {
    local name=$1
    shift
    if "$@"; then
        echo "PASS $name"; passed=$((passed + 1))
    else
        echo "FAIL $name"; failed=$((failed + 1))
    fi
}
