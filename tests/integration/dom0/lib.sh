# lib.sh: what the dom0 integration checks share, sourced by each
# *-check.sh here. A check builds a directory $work/add holding its boot.d
# step and files, then:
#   boot_dom0 NAME TIMEOUT [QEMU ARGS...]
#       appends $work/add's etc, usr, var and lib* (those present) to the dom0
#       image $image as one more cpio archive, boots it on pvkit with
#       $kernel as dom0 (512 MiB) and writes the console to
#       $build/dom0/NAME.log; sets $status (pvkit-run's) and $log.
#   check CMD...     runs CMD, counting it passed or failed (FAIL: line)
#   has REGEX        true if the console log has a line matching REGEX
#   expect_results PREFIX NAME...
#       a check per NAME that its "RESULT PREFIX_NAME ok" line is there
#       ("RESULT NAME ok" if PREFIX is empty), one that no RESULT line
#       says fail, then prints the RESULT lines
#   finish NAME [REGEX]
#       prints the tail of the log (its RESULT, dom0:, pvkit and ---
#       lines, and those matching REGEX) if anything failed and the
#       summary line "NAME: N passed, N failed"; its status
#   add_domu NAME [MKINITRAMFS ARGS...]
#       the Linux domU's files in $work/add/usr/lib/pvkit: domu.cpio.gz
#       (tools/mkinitramfs with $work/payload as its script, and ARGS) and
#       vmlinuz ($domu_kernel); exits the check NAME if mkinitramfs fails
# boot_dom0 also puts step-lib.sh (the boot.d steps' shared functions) in
# the image as /usr/lib/pvkit/step-lib.sh.
# Callers set build, kernel and image first (and domu_kernel for add_domu).
# Sourcing it makes $work, the check's temporary directory, removed when the
# check exits.

passed=0 failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

boot_dom0() {
    local name=$1 timeout=$2
    shift 2
    local dirs
    mkdir -p "$work/add/usr/lib/pvkit"
    cp "$(dirname "${BASH_SOURCE[0]}")/step-lib.sh" "$work/add/usr/lib/pvkit/step-lib.sh"
    dirs=$(cd "$work/add" && ls -d etc usr var lib* 2>/dev/null)
    cp "$image" "$work/dom0.cpio.gz"
    # shellcheck disable=SC2086
    (cd "$work/add" && find $dirs | cpio -o -H newc -R 0:0 --quiet) | gzip >>"$work/dom0.cpio.gz"
    "$build/bin/pvkit-run" --kernel "$kernel" --initrd "$work/dom0.cpio.gz" --mem 512 \
        --cmdline "console=hvc0" --timeout "$timeout" ${1:+--} "$@" \
        </dev/null >"$work/console.log" 2>&1
    status=$?
    log=$build/dom0/$name.log
    tr -d '\r' <"$work/console.log" >"$log"
}

add_domu() {
    local name=$1 lib
    shift
    lib=$work/add/usr/lib/pvkit
    mkdir -p "$lib"
    "$(dirname "${BASH_SOURCE[0]}")/../../../tools/mkinitramfs" -o "$lib/domu.cpio.gz" \
        --script "$work/payload" "$@" 2>/dev/null || { echo "$name: mkinitramfs failed"; exit 1; }
    cp -L "$domu_kernel" "$lib/vmlinuz"
}

check() {
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $*"; fi
}

has() { grep -qE -- "$1" "$log"; }

expect_results() {
    local prefix=$1 r
    shift
    for r in "$@"; do
        check has "^RESULT ${prefix:+${prefix}_}$r ok"
    done
    check bash -c "! grep -q '^RESULT .* fail' '$log'"
    grep -E '^RESULT' "$log"
}

finish() {
    if [ "$failed" -ne 0 ]; then
        echo "--- dom0 console (status $status): $log ---"
        grep -E "RESULT|dom0:|pvkit|---${2:+|$2}" "$log" | tail -60
    fi
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
