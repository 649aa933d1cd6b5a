#!/bin/bash
# series-test.sh: `make check-research-series`. Checks, without building a
# kernel, that tools/research-kernel --check accepts the patch series in
# guest-linux-patches/ (every patch applies exactly to the pinned
# linux-source-6.1) and refuses a copy of it in which one context line of
# the first patch no longer matches the source (so the check can fail).
# Also checks that every patch in the series has the header the series
# promises (Research question, How to measure, Measured) and that the
# config fragment names each CONFIG_ option at most once.
# Prints "PASS/FAIL <check>" lines and "N passed, N failed".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
tool=$root/tools/research-kernel
patches=$root/guest-linux-patches
passed=0 failed=0

# check NAME COMMAND...: one check, passed if COMMAND succeeds.
check() {
    local name=$1
    shift
    if "$@"; then echo "PASS $name"; passed=$((passed + 1))
    else echo "FAIL $name"; failed=$((failed + 1)); fi
}

# Succeeds if patch $1 has the three header lines before its first hunk.
has_header() {
    local head
    head=$(sed -n '1,/^--- /p' "$1")
    grep -q '^Research question:' <<<"$head" && grep -q '^How to measure:' <<<"$head" &&
        grep -q '^Measured:' <<<"$head"
}

# Succeeds if the fragment sets no option twice.
fragment_unique() {
    [ -z "$(grep -oE '^(# )?CONFIG_[A-Z0-9_]+' "$patches/pvkit-domu.config" |
            sed 's/^# //' | sort | uniq -d)" ]
}

check "the series applies to linux-source-6.1" "$tool" --check
mapfile -t list < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$patches/series" | grep -v '^$')
for p in "${list[@]}"; do
    check "$p has Research question / How to measure / Measured" has_header "$patches/$p"
done
check "the fragment sets each option once" fragment_unique

broken=$(mktemp -d "${TMPDIR:-/tmp}/series-test.XXXXXX")
trap 'rm -rf "$broken"' EXIT
cp "$patches"/* "$broken/"
# The first context line of the first patch's first hunk gets a word more.
awk 'done != 1 && /^@@ / {hunk = 1; print; next}
     hunk && done != 1 && /^ / {print $0 " pvkit-broken"; done = 1; next} {print}' \
    "$patches/${list[0]}" >"$broken/${list[0]}"
# Succeed if files $1 and $2 differ / if the tool refuses the series in $1.
differ() { ! cmp -s "$1" "$2"; }
refused() { ! "$tool" --check --patches "$1" 2>/dev/null; }
check "the broken copy differs from the patch" differ "$patches/${list[0]}" "$broken/${list[0]}"
check "a patch that does not apply is refused" refused "$broken"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
