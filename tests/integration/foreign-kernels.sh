#!/bin/bash
# Boots a PV kernel this project did not write, and checks that pvkit takes
# it as far as Xen 4.17 does under the same QEMU.
#
# The kernel: GRUB's own Xen PV image (Debian's grub-xen-bin, made with
# grub-mkimage -O x86_64-xen), whose notes differ from Linux's and ours: no
# PADDR_OFFSET, VIRT_BASE 0, ENTRY 0, GUEST_OS "GRUB". Given as the initial
# domain it sets up its page tables with ~40 update_va_mapping calls (7 of
# them refused: it maps page-table frames writable) and then takes a page
# fault with no handler, on Xen and on pvkit alike: it expects the domU
# boot layout. Passes if pvkit accepts the image (and says so), runs it to
# that same fault (the same RIP and CR2 as Xen: compared live when
# build/xen/xen exists, else against the values Xen 4.17.7 gave with this
# grub-xen-bin version), reports the domain's crash as its own, and powers
# off (status 11 = crash, not a hypervisor panic).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0 failed=0
check() {
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $*"; fi
}
finish() {
    echo "foreign-kernels: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

grubdir=/usr/lib/grub/x86_64-xen
if [ ! -f "$grubdir/kernel.img" ]; then
    echo "FAIL: $grubdir/kernel.img missing (Debian package grub-xen-bin; run tools/setup)"
    failed=1
    finish
fi
grub_version=$(dpkg-query -W -f='${Version}' grub-xen-bin 2>/dev/null)
if ! grub-mkimage -O x86_64-xen -d "$grubdir" -o "$work/grub-pv.elf" \
        -p '(memdisk)/boot/grub' echo normal >"$work/mkimage.log" 2>&1; then
    cat "$work/mkimage.log"
    failed=1
    finish
fi

# Boots the image on hypervisor $1 (pvkit or xen) into $work/$1.log; prints the status.
boot() {
    local args=(--kernel "$work/grub-pv.elf" --mem 64 --timeout 60)
    if [ "$1" = xen ]; then args+=(--xen "$build/xen/xen"); else args+=(--hypervisor "$build/pvkit.elf"); fi
    "$build/bin/pvkit-run" "${args[@]}" </dev/null >"$work/$1.log" 2>&1
    echo $?
}

# Prints "RIP CR2" of the domain's fatal fault in log $1 (pvkit's or Xen's dump).
fault_of() {
    local rip cr2
    rip=$(grep -oE '(rip e033:|RIP: +e033:\[<)[0-9a-f]+' "$1" | head -1 | grep -oE '[0-9a-f]+$')
    cr2=$(grep -oE 'cr2:? [0-9a-f]+' "$1" | head -1 | grep -oE '[0-9a-f]+$')
    echo "$((16#${rip:-0})) $((16#${cr2:-0}))"
}

status=$(boot pvkit)
log=$work/pvkit.log
check [ "$status" -eq 11 ]
check grep -qF "d0: GRUB kernel, entry 0" "$log"
check grep -qF "d0: crashed: #PF" "$log"
check grep -qF "machine off (crash)" "$log"
check bash -c "! grep -q 'panic' '$log'"
pvkit_fault=$(fault_of "$log")

if [ -x "$build/xen/xen" ] || [ -f "$build/xen/xen" ]; then
    boot xen >/dev/null
    check grep -qF "Domain 0 (vcpu#0) crashed" "$work/xen.log"
    want=$(fault_of "$work/xen.log")
    why="Xen 4.17 under the same QEMU"
else
    want="" why="no build/xen/xen"
    # Xen 4.17.7, grub-xen-bin 2.06-13+deb12u2, 64 MiB: RIP 0x90fe, CR2 0x3fdbfff.
    [ "$grub_version" = "2.06-13+deb12u2" ] && want="$((16#90fe)) $((16#3fdbfff))" \
        why="recorded from Xen 4.17.7"
fi
if [ -n "$want" ]; then
    echo "fault (RIP CR2, decimal): pvkit $pvkit_fault, want $want ($why)"
    check [ "$pvkit_fault" = "$want" ]
else
    echo "grub-xen-bin $grub_version: no Xen fault to compare with ($why)"
fi
if [ "$failed" -ne 0 ]; then
    echo "--- pvkit console (status $status) ---"
    tail -30 "$log"
fi
finish
