#!/bin/bash
# kernels-fallback-test.sh BUILD: the kernel pin cannot break `make run`.
# tools/linux-kernels is run with --abi 6.1.0-0, a pin Debian's archive does
# not have (as when Debian drops the pinned version), for the cloud flavour,
# into BUILD/linux-fallback-test/. It must fall back to the kernel the
# linux-image-cloud-amd64 metapackage depends on (apt-cache depends), print
# exactly one notice line naming both, and leave vmlinuz-cloud-amd64 pointing
# at vmlinuz-<that ABI>-cloud-amd64 (with its config); make's targets
# (tests/integration/linux.mk, with BUILD set to that directory) must then
# see the kernel as fetched; a second run keeps it without downloading.
# The .deb stays in BUILD/linux-fallback-test/linux/debs/ (one download of
# ~27 MB the first time, needs Debian's archive; later runs unpack it again,
# a few seconds). Prints one PASS/FAIL line per check and "N passed, N failed".
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
build=${1:-$root/build}
t=$build/linux-fallback-test
bogus=6.1.0-0
. "$here/check.sh"

# Keep the downloaded .debs, drop what was unpacked from them.
mkdir -p "$t/linux/debs"
find "$t/linux" -maxdepth 1 ! -type d -delete

cur=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9][0-9.]*-[0-9]*-cloud-amd64\)$/\1/p' | head -n 1)
if [ -z "$cur" ]; then
    apt-get update -q >/dev/null 2>&1 || true
    cur=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
          sed -n 's/^ *Depends: \(linux-image-[0-9][0-9.]*-[0-9]*-cloud-amd64\)$/\1/p' | head -n 1)
fi
check "apt-cache names the current cloud kernel (${cur:-none})" test -n "$cur"
abi=${cur#linux-image-}; abi=${abi%-cloud-amd64}
# A .deb of it fetched by an earlier fallback of the real build is reused.
ln -f "$build/linux/debs/${cur}_"*.deb "$t/linux/debs/" 2>/dev/null || true

"$root/tools/linux-kernels" --build "$t" --abi "$bogus" cloud-amd64 2>"$t/err1"
rc=$?
sed 's/^/    /' "$t/err1"
check "linux-kernels with pin $bogus succeeds (status $rc)" test "$rc" = 0
check "one notice line: linux-image-$bogus-cloud-amd64 replaced by $cur" \
    test "$(grep -c "NOTICE: pinned linux-image-$bogus-cloud-amd64 cannot be downloaded; using the current $cur instead" "$t/err1")" = 1 \
    -a "$(grep -c NOTICE "$t/err1")" = 1
check "vmlinuz-cloud-amd64 -> vmlinuz-$abi-cloud-amd64" \
    test "$(readlink "$t/linux/vmlinuz-cloud-amd64")" = "vmlinuz-$abi-cloud-amd64"
check "the image and config-$abi-cloud-amd64 are there" \
    test -s "$t/linux/vmlinuz-$abi-cloud-amd64" -a -s "$t/linux/config-$abi-cloud-amd64"
check "no file named after the missing pin" \
    test -z "$(find "$t/linux" -maxdepth 1 -name "*-$bogus-*")"
# make's view (linux.mk with BUILD=$t): the cloud kernel is fetched, so
# make would not run linux-kernels for it again.
make -C "$root" -n BUILD="$t" linux-kernels >"$t/make.out" 2>&1
check "make sees the fetched cloud kernel as up to date" \
    bash -c "! grep -q 'linux-kernels --build $t cloud-amd64' '$t/make.out'"

"$root/tools/linux-kernels" --build "$t" --abi "$bogus" cloud-amd64 2>"$t/err2"
rc=$?
sed 's/^/    /' "$t/err2"
check "second run: status 0, nothing downloaded, same kernel" \
    bash -c "[ $rc = 0 ] && ! grep -q downloading '$t/err2' &&
             [ \"\$(readlink '$t/linux/vmlinuz-cloud-amd64')\" = 'vmlinuz-$abi-cloud-amd64' ]"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
