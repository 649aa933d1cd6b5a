#!/bin/bash
# tools-test.sh: host-only tests of tools/extract-pv-elf, tools/mkinitramfs,
# tools/fetch-xen's command line and pvkit-run's bzImage handling (no QEMU
# boot, no network): a tiny ELF64
# with a Xen note is built with gcc, wrapped like a bzImage payload in every
# compression format behind decoy magic bytes, and must come out
# byte-identical; inputs without a PV ELF must be refused, an output that
# cannot be written must be reported (status 3); the initramfs
# must hold /init, busybox and its applets, the /dev/console node and the
# --add files, and bad arguments must be refused; fetch-xen answers --help,
# refuses unknown options and non-directories, and creates no directory
# named after an option.
# Prints one PASS/FAIL line per check and "N passed, N failed".
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
tools=$root/tools
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pvkit-tools-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0 failed=0
# check NAME COMMAND...: one check, passed if COMMAND succeeds.
check() {
    local name=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then
        echo "PASS $name"; passed=$((passed + 1))
    else
        echo "FAIL $name"; sed 's/^/    /' "$tmp/out" | tail -n 5
        failed=$((failed + 1))
    fi
}
# fails: succeeds if COMMAND fails.
fails() { ! "$@"; }

# ---- a minimal "PV kernel": ELF64 with a note owned by Xen -------------------
cat >"$tmp/pv.S" <<'EOF'
    .section .note.Xen, "a", @note
    .balign 4
    .long 4, 8, 6          /* namesz, descsz, XEN_ELFNOTE_GUEST_OS */
    .asciz "Xen"
    .asciz "linux"
    .balign 4
    .text
    .globl _start
_start:
    hlt
    .data
    .fill 200000, 1, 0x5a  /* some bulk, so compression matters */
EOF
gcc -nostdlib -static -Wl,--build-id=none -o "$tmp/pv.elf" "$tmp/pv.S"
printf 'int main(void) { return 0; }\n' >"$tmp/plain.c"
gcc -o "$tmp/plain.elf" "$tmp/plain.c"

# wrap FORMAT-COMMAND: fake bzImage = setup junk with decoy magics + payload +
# the 4 size bytes kbuild appends.
wrap() {
    {
        head -c 600 /dev/zero
        printf '\x1f\x8b\x08decoy\xfd7zXZ\x00decoy\x02\x21\x4c\x18decoy\x28\xb5\x2f\xfd'
        head -c 333 /dev/zero
        "$@" <"$tmp/pv.elf"
        printf '\x10\x20\x30\x40'
    }
}
for fmt in "gzip -9c" "xz -c --check=crc32" "lz4 -l -c" "zstd -q -c" "bzip2 -c" "xz -c --format=lzma"; do
    name=${fmt%% *}; [ "$fmt" = "xz -c --format=lzma" ] && name=lzma
    command -v "${fmt%% *}" >/dev/null || { echo "SKIP $name (no tool)"; continue; }
    wrap $fmt >"$tmp/bz.$name"
    check "extract-pv-elf: $name payload behind decoys" \
        bash -c "'$tools/extract-pv-elf' '$tmp/bz.$name' '$tmp/out.$name' && cmp '$tmp/out.$name' '$tmp/pv.elf'"
done
check "extract-pv-elf: an ELF with Xen notes is copied" \
    bash -c "'$tools/extract-pv-elf' '$tmp/pv.elf' '$tmp/copy.elf' && cmp '$tmp/copy.elf' '$tmp/pv.elf'"
gzip -c "$tmp/plain.elf" >"$tmp/plain.gz"
check "extract-pv-elf: refuses a gzip'd ELF without Xen notes" fails "$tools/extract-pv-elf" "$tmp/plain.gz" "$tmp/no1"
check "extract-pv-elf: refuses random data" \
    bash -c "head -c 100000 /dev/urandom >'$tmp/rand'; ! '$tools/extract-pv-elf' '$tmp/rand' '$tmp/no2' && [ ! -e '$tmp/no2' ]"
check "extract-pv-elf: usage error is status 2" \
    bash -c "'$tools/extract-pv-elf' onlyone; [ \$? = 2 ]"
check "extract-pv-elf: --help is usage on stdout, status 0" \
    bash -c "'$tools/extract-pv-elf' --help 2>/dev/null | grep -q '^usage:'"
# An output that cannot be written: status 3, one line naming OUT and the
# reason, nothing left behind (the old script said nothing and exited 0 for
# an ELF input).
# unwritable NAME INPUT OUT REASON-REGEX
unwritable() {
    check "extract-pv-elf: $1: status 3, one line naming the output" \
        bash -c "'$tools/extract-pv-elf' '$2' '$3' 2>'$tmp/err'; rc=\$?; cat '$tmp/err';
                 [ \$rc = 3 ] && [ \$(wc -l <'$tmp/err') = 1 ] &&
                 grep -Eq '^extract-pv-elf: cannot write $3: $4\$' '$tmp/err'"
}
mkdir -p "$tmp/outdir"
unwritable "ELF input, missing directory" "$tmp/pv.elf" "$tmp/nodir/x.elf" "no directory $tmp/nodir"
unwritable "bzImage input, missing directory" "$tmp/bz.gzip" "$tmp/nodir/x.elf" "no directory $tmp/nodir"
unwritable "ELF input, output is a directory" "$tmp/pv.elf" "$tmp/outdir" "it is a directory"
unwritable "bzImage input, output is a directory" "$tmp/bz.gzip" "$tmp/outdir" "it is a directory"
check "extract-pv-elf: nothing written into or beside a directory output" \
    bash -c "[ -z \"\$(ls -A '$tmp/outdir')\" ] && ! ls '$tmp'/outdir.tmp.* 2>/dev/null"
# A full file system (a 64 KiB tmpfs in a private mount namespace): the
# reason is the system's.
if unshare -m true 2>/dev/null; then
    check "extract-pv-elf: full file system: status 3, reason named, no partial file" \
        unshare -m bash -c "mkdir -p '$tmp/small' && mount -t tmpfs -o size=64k tmpfs '$tmp/small' &&
            '$tools/extract-pv-elf' '$tmp/pv.elf' '$tmp/small/x.elf' 2>'$tmp/err'; rc=\$?; cat '$tmp/err';
            [ \$rc = 3 ] && grep -q '^extract-pv-elf: cannot write $tmp/small/x.elf: No space left on device\$' '$tmp/err' &&
            [ -z \"\$(ls -A '$tmp/small')\" ]"
else
    echo "SKIP extract-pv-elf: full file system (no unshare -m)"
fi

# ---- fetch-xen: options, BUILD_DIR (nothing is downloaded here) -----------------
# Run in an empty directory: no option may become a directory name there.
mkdir -p "$tmp/fx"
fetchxen() { (cd "$tmp/fx" && "$tools/fetch-xen" "$@"); }
check "fetch-xen: --help is usage on stdout, status 0, no directory made" \
    bash -c "$(declare -f fetchxen); tmp='$tmp' tools='$tools';
             fetchxen --help 2>/dev/null | grep -q '^usage: fetch-xen' && [ -z \"\$(ls -A '$tmp/fx')\" ]"
check "fetch-xen: -h is usage on stdout, status 0" \
    bash -c "$(declare -f fetchxen); tmp='$tmp' tools='$tools'; fetchxen -h 2>/dev/null | grep -q '^usage: fetch-xen'"
check "fetch-xen: unknown option: one line naming it, status 2, no directory made" \
    bash -c "$(declare -f fetchxen); tmp='$tmp' tools='$tools'; fetchxen --frob 2>'$tmp/err' >/dev/null; rc=\$?; cat '$tmp/err';
             [ \$rc = 2 ] && [ \$(wc -l <'$tmp/err') = 1 ] && grep -q \"unknown option '--frob'\" '$tmp/err' &&
             [ -z \"\$(ls -A '$tmp/fx')\" ]"
check "fetch-xen: BUILD_DIR that is not a directory: named, status 2" \
    bash -c "$(declare -f fetchxen); tmp='$tmp' tools='$tools'; fetchxen nosuch 2>'$tmp/err'; rc=\$?; cat '$tmp/err';
             [ \$rc = 2 ] && grep -q \"'nosuch' is not an existing directory\" '$tmp/err' && [ ! -e '$tmp/fx/nosuch' ]"
check "fetch-xen: an existing BUILD_DIR is used (image already there: status 0)" \
    bash -c "mkdir -p '$tmp/b/xen' && echo image >'$tmp/b/xen/xen' && '$tools/fetch-xen' '$tmp/b' && [ \"\$(cat '$tmp/b/xen/xen')\" = image ]"

# ---- pvkit-run turns a bzImage into a cached ELF -------------------------------
# A fake hypervisor makes QEMU fail at once; only the extraction is looked at.
export PVKIT_ELF_CACHE=$tmp/cache
: >"$tmp/fake-hv"
sum=$(sha256sum <"$tmp/bz.gzip" | cut -c1-64)
check "pvkit-run: bzImage extracted into the cache keyed by sha256" \
    bash -c "'$tools/pvkit-run' --hypervisor '$tmp/fake-hv' --kernel '$tmp/bz.gzip' --timeout 20 </dev/null >/dev/null 2>&1; cmp '$tmp/cache/$sum.elf' '$tmp/pv.elf'"
check "pvkit-run: a kernel that is neither ELF nor bzImage is a usage error" \
    bash -c "'$tools/pvkit-run' --hypervisor '$tmp/fake-hv' --kernel '$tmp/rand' </dev/null >/dev/null 2>&1; [ \$? = 2 ]"
unset PVKIT_ELF_CACHE

# ---- mkinitramfs -----------------------------------------------------------------
printf '#!/bin/sh\necho payload\n' >"$tmp/payload.sh"
echo "extra file" >"$tmp/extra.txt"
check "mkinitramfs: builds with --script and --add" \
    "$tools/mkinitramfs" -o "$tmp/i.cpio.gz" --script "$tmp/payload.sh" \
        --add "$tmp/extra.txt:/etc/deep/dir/extra.txt" --add "$tmp/pv.elf:/bin/pvelf"
# Lists both concatenated archives (the hand-written /dev/console one first).
list_initramfs() {
    local raw=$tmp/i.cpio off
    gzip -dc "$tmp/i.cpio.gz" >"$raw"
    cpio -itv --quiet <"$raw"
    off=$(grep -obUaP 'TRAILER!!!' "$raw" | head -n 1 | cut -d: -f1)
    tail -c +$(( (off + 11 + 3) / 4 * 4 + 1 )) "$raw" | cpio -itv --quiet
}
list_initramfs >"$tmp/list" 2>&1 || true
check "mkinitramfs: /dev/console is a char device 5,1" grep -Eq '^crw------- .* 5, +1 .*dev/console$' "$tmp/list"
check "mkinitramfs: /init is executable" grep -Eq '^-rwxr-xr-x .* init$' "$tmp/list"
check "mkinitramfs: static busybox present" grep -Eq ' bin/busybox$' "$tmp/list"
check "mkinitramfs: applet links (sh, mount, poweroff)" \
    bash -c "grep -q ' bin/sh -> /bin/busybox' '$tmp/list' && grep -q 'mount -> /bin/busybox' '$tmp/list' && grep -q 'poweroff -> /bin/busybox' '$tmp/list'"
check "mkinitramfs: payload installed" grep -Eq '^-rwxr-xr-x .* etc/pvkit/payload$' "$tmp/list"
check "mkinitramfs: --add files at their destinations" \
    bash -c "grep -q ' etc/deep/dir/extra.txt$' '$tmp/list' && grep -Eq '^-rwx.* bin/pvelf$' '$tmp/list'"
check "mkinitramfs: files owned by root" bash -c "! grep -v ' root  *root ' '$tmp/list' | grep -q ."
check "mkinitramfs: same input, same archive" \
    bash -c "'$tools/mkinitramfs' -o '$tmp/j.cpio.gz' --script '$tmp/payload.sh' --add '$tmp/extra.txt:/etc/deep/dir/extra.txt' --add '$tmp/pv.elf:/bin/pvelf' && cmp '$tmp/i.cpio.gz' '$tmp/j.cpio.gz'"
check "mkinitramfs: refuses --add without an absolute DST" fails "$tools/mkinitramfs" -o "$tmp/k" --add "$tmp/extra.txt:rel"
check "mkinitramfs: refuses a missing --add source" fails "$tools/mkinitramfs" -o "$tmp/k" --add "$tmp/nope:/x"
check "mkinitramfs: refuses a dynamic busybox" fails "$tools/mkinitramfs" -o "$tmp/k" --busybox "$tmp/plain.elf"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
