#!/bin/bash
# Wraps the linked 64-bit hypervisor (linked high, loaded at 1 MiB) into an
# ELF32 image whose one loadable segment holds the flat image at its physical
# address, with memory size covering .bss, and whose entry is start32's
# physical address. Usage: wrap-elf32.sh IN.elf OUT.elf
set -eu
in=$1 out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sym() { nm "$in" | awk -v s="$1" '$3 == s { print $1 }'; }
base=0xffff830000000000
entry=$(printf '0x%x' $(( 0x$(sym start32) - base )))
image_start=$(( 0x$(sym __image_start) - base ))
image_end=$(( 0x$(sym __image_end) - base ))
objcopy -O binary "$in" "$tmp/flat.bin"
file_size=$(stat -c %s "$tmp/flat.bin")
bss_size=$(( image_end - image_start - file_size ))
cp "$tmp/flat.bin" "$tmp/image"
(cd "$tmp" && objcopy -I binary -O elf32-i386 -B i386 image image.o)
cat > "$tmp/wrap.ld" <<LD
OUTPUT_FORMAT("elf32-i386")
SECTIONS {
    . = $image_start;
    .image : { *(.data) . += $bss_size; }
}
LD
ld -m elf_i386 -e "$entry" -z max-page-size=4096 -z noexecstack -T "$tmp/wrap.ld" -o "$out" "$tmp/image.o"
