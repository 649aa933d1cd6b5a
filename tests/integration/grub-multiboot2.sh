#!/bin/bash
# Boots build/pvkit.elf the way a real machine would: from a GRUB rescue ISO
# through multiboot2 (grub-mkrescue, BIOS GRUB), with the hello test kernel
# as module 1. As with Xen, the first word of each command line is taken to
# be the image's name and dropped (QEMU puts the file name there; GRUB
# configurations write a placeholder, as grub's own Xen entries do). Passes if
# the hypervisor reports the multiboot2 loader and its command line, finds the
# ACPI MADT from the RSDP GRUB passed in a multiboot2 ACPI tag (BIOS GRUB over
# SeaBIOS gives the old-RSDP tag, 14; the BIOS-area search is only the
# fallback) and starts the second CPU of -smp 2, the guest sees its own
# command line and passes, and the machine powers off (QEMU exit 33 =
# poweroff).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/iso/boot/grub"
cp "$build/pvkit.elf" "$work/iso/boot/pvkit.elf"
cp "$build/guests/start_info.elf" "$work/iso/boot/guest.elf"
cat > "$work/iso/boot/grub/grub.cfg" <<'CFG'
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
menuentry "pvkit" {
    multiboot2 /boot/pvkit.elf placeholder loglvl=all dom0_mem=64M
    module2 /boot/guest.elf placeholder start_info pvkit-guest-test a=1,b=2
    boot
}
CFG
if ! grub-mkrescue -o "$work/pvkit.iso" "$work/iso" >"$work/mkrescue.log" 2>&1; then
    cat "$work/mkrescue.log"
    echo "0 passed, 1 failed"
    exit 1
fi
timeout 120 qemu-system-x86_64 -accel tcg -cpu max -m 256 -smp 2 -display none -no-reboot \
    -net none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -cdrom "$work/pvkit.iso" -boot d </dev/null >"$work/console.log" 2>&1
status=$?

passed=0 failed=0
check() {
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $*"; fi
}
has() { grep -qF -- "$1" "$work/console.log"; }
check [ "$status" -eq 33 ]
check has "started by multiboot2"
check has "command line: loglvl=all dom0_mem=64M"
check has "smp: MADT found from the boot loader's RSDP"
check has "smp: 2 CPUs online"
check has "0 failed"
check has "PASS"
check has "machine off (poweroff)"
if [ "$failed" -ne 0 ]; then
    echo "--- console (QEMU exit $status) ---"
    tail -40 "$work/console.log"
fi
echo "grub-multiboot2: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
