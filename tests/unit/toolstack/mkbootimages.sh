#!/bin/bash
# Builds the disk images the boot loader's unit tests (test_bootloader.c)
# read, in DIR, without root and without mounting: file trees turned into
# filesystems by mke2fs -d (e2fsprogs), htree directories by e2fsck -D,
# partition tables by sfdisk, and damage done byte by byte (dd) or through
# debugfs -w. The payload files are random bytes kept beside the images
# (DIR/tree/...) so the tests can compare what they read.
#
# Usage: mkbootimages.sh DIR
set -euo pipefail
export PATH=$PATH:/usr/sbin:/sbin LC_ALL=C
dir=$1
rm -rf "$dir"
mkdir -p "$dir"
cd "$dir"

# poke IMAGE OFFSET BYTE...: writes the hex bytes at OFFSET.
poke() {
    local img=$1 off=$2; shift 2
    printf "$(printf '\\x%s' "$@")" | dd of="$img" bs=1 seek="$off" conv=notrunc status=none
}
# le32 N: N's four little-endian bytes, for poke.
le32() { printf '%02x %02x %02x %02x' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)); }
bmap() { debugfs -R "bmap $2 ${3:-0}" "$1" 2>/dev/null; }
# mkpart DISK SIZE_MIB LABEL FS...: a disk with one partition per FS image, each 1 MiB aligned.
mkpart() {
    local disk=$1 size=$2 label=$3; shift 3
    truncate -s "${size}M" "$disk"
    { echo "label: $label"; for fs in "$@"; do echo "size=$(($(stat -c %s "$fs") / 512)), type=$([ "$label" = gpt ] && echo linux || echo 83)"; done; } |
        sfdisk -q "$disk" >/dev/null
    local n=1
    for fs in "$@"; do
        local start
        start=$(sfdisk -J "$disk" | grep -o '"start": *[0-9]*' | sed -n "${n}s/[^0-9]//gp")
        dd if="$fs" of="$disk" bs=512 seek="$start" conv=notrunc,sparse status=none
        n=$((n + 1))
    done
}

# mkfs TYPE SIZE IMAGE TREE [mke2fs options]: IMAGE of SIZE bytes (mke2fs
# leaves a file short of its size when its last blocks are unused).
mkfs() {
    local type=$1 size=$2 image=$3 tree=$4; shift 4
    mke2fs -q -F -t "$type" "$@" -d "$tree" "$image" "$((size / 1024))k" >/dev/null
    truncate -s "$size" "$image"
}

# The tree: kernels, initrds, a grub.cfg, symlinks (fast and slow, a
# loop), a sparse file and a directory of many files.
mkdir -p tree/boot/grub tree/many tree/a/long/way/down/to/the/place/where/the/kernel/is/kept
head -c 700000 /dev/urandom >tree/boot/vmlinuz-1
head -c 1300001 /dev/urandom >tree/boot/initrd.img-1
head -c 5000 /dev/urandom >tree/boot/extra.cpio
ln -s boot/vmlinuz-1 tree/vmlinuz
ln -s /boot/initrd.img-1 tree/initrd.img
cp tree/boot/vmlinuz-1 tree/a/long/way/down/to/the/place/where/the/kernel/is/kept/vmlinuz
ln -s /a/long/way/down/to/the/place/where/the/kernel/is/kept/vmlinuz tree/longlink
ln -s loop2 tree/loop1
ln -s loop1 tree/loop2
truncate -s 20M tree/sparse
for off in 0 3 9 19; do head -c 5000 /dev/urandom | dd of=tree/sparse bs=1M seek=$off conv=notrunc status=none; done
for i in $(seq 1 2000); do echo "$i" >"tree/many/file-with-a-longish-name-$i"; done
cat >tree/boot/grub/grub.cfg <<'CFG'
# written by hand, in the shape of Debian's update-grub output
set default="0"
function load_video {
  insmod all_video
}
if [ "${next_entry}" ] ; then
   set default="${next_entry}"
else
   set default="1"
fi
menuentry 'Rescue' --class debian $menuentry_id_option 'rescue' {
	linux /boot/vmlinuz-1 root=/dev/xvda1 single
}
menuentry 'Debian GNU/Linux' --class debian --class gnu-linux $menuentry_id_option 'gnulinux-simple' {
	load_video
	insmod ext2
	set root='hd0,msdos1'
	echo	'Loading Linux ...'
	linux	/vmlinuz root=/dev/xvda1 ro quiet
	initrd	/initrd.img
}
submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'advanced' {
	menuentry 'Debian GNU/Linux, old' --id 'old' {
		linux (hd0,msdos1)/longlink root=/dev/xvda1 ro "quoted arg"
		initrd /boot/initrd.img-1 /boot/extra.cpio
	}
	menuentry 'Debian GNU/Linux, no initrd' {
		linux /boot/vmlinuz-1
	}
}
menuentry 'Loop' {
	linux /loop1
}
CFG

mkfs ext4 $((48 << 20)) ext4.img tree -b 4096
mkfs ext2 $((40 << 20)) ext2.img tree -b 1024
e2fsck -fyD ext4.img >/dev/null 2>&1 || [ $? -le 1 ]  # index the big directory (htree)

# ext3 with only an extlinux.conf, relative paths
mkdir -p ext3tree/boot/extlinux
cp tree/boot/vmlinuz-1 tree/boot/initrd.img-1 ext3tree/boot/
cat >ext3tree/boot/extlinux/extlinux.conf <<'CFG'
DEFAULT vesamenu.c32
default second
LABEL first
  KERNEL ../vmlinuz-1
  APPEND root=/dev/xvda2 first
label second
  MENU LABEL The second one
  linux ../vmlinuz-1
  initrd ../initrd.img-1
  append root=/dev/xvda2 ro second
CFG
mkfs ext3 $((16 << 20)) ext3.img ext3tree
mkdir -p emptytree/etc && echo hi >emptytree/etc/motd
mkfs ext4 $((8 << 20)) noconfig.img emptytree
head -c 4M /dev/zero >blank.img

mkpart disk-mbr.img 50 dos ext4.img
mkpart disk-gpt.img 32 gpt blank.img ext3.img

# a filesystem on the whole disk whose boot block ends in an MBR signature
# and a partition entry that makes no sense
cp ext2.img bootsig.img && poke bootsig.img 450 83 && poke bootsig.img 510 55 aa

# Hostile images, one fault each.
head -c 20M disk-mbr.img >trunc-disk.img                       # partition 1 past the end
head -c 8M ext4.img >trunc-fs.img                              # fs larger than the image
cp ext4.img badmagic.img && poke badmagic.img 1080 00 00
cp ext4.img hugebs.img && poke hugebs.img 1048 ff ff ff ff     # s_log_block_size
cp ext4.img zerobpg.img && poke zerobpg.img 1056 00 00 00 00   # s_blocks_per_group 0
cp ext4.img inodes.img && poke inodes.img 1024 ff ff ff ff     # s_inodes_count past the groups
cp ext4.img smallinodes.img && poke smallinodes.img 1024 $(le32 11)  # /boot's inode out of range
cp disk-mbr.img partend.img && poke partend.img 458 ff ff ff 00
# the kernel's extent tree: depth 6 at the root; a node that is its own child
cp ext4.img deep.img && debugfs -w -R "sif /boot/vmlinuz-1 block[1] 0x00060004" deep.img 2>/dev/null
cp ext4.img loop.img
blk=$(bmap loop.img /boot/extra.cpio)
debugfs -w -R "sif /boot/vmlinuz-1 block[1] 0x00010004" loop.img 2>/dev/null
debugfs -w -R "sif /boot/vmlinuz-1 block[3] 0" loop.img 2>/dev/null
debugfs -w -R "sif /boot/vmlinuz-1 block[4] $blk" loop.img 2>/dev/null
debugfs -w -R "sif /boot/vmlinuz-1 block[5] 0" loop.img 2>/dev/null
# block $blk: header (magic, 1 entry, max 340, depth 1), an index entry pointing at $blk
poke loop.img $((blk * 4096)) 0a f3 01 00 54 01 01 00 00 00 00 00 00 00 00 00 $(le32 "$blk") 00 00 00 00
# the root directory's first entry: rec_len 0, then rec_len past the block
root=$(bmap ext4.img /)
cp ext4.img reclen0.img && poke reclen0.img $((root * 4096 + 4)) 00 00
cp ext4.img reclenbig.img && poke reclenbig.img $((root * 4096 + 4)) f0 ff
# ext2: the kernel's double indirect block points past the filesystem
cp ext2.img ind.img && debugfs -w -R "sif /boot/vmlinuz-1 block[DIND] 0x7fffffff" ind.img 2>/dev/null

# Small seeds for the fuzz target (fuzz_bootloader.c): a grub.cfg with a
# submenu, a tiny kernel and initrd, symlinks; ext2 with 1 KiB blocks
# (block maps), ext4 (extents), and the ext2 one behind an MBR.
mkdir -p seedtree/boot/grub seeds
printf 'kernel' >seedtree/boot/k && printf 'initrd' >seedtree/boot/i
ln -s boot/k seedtree/vmlinuz
printf 'set default=0\nmenuentry a {\n linux /vmlinuz root=/dev/xvda1\n initrd /boot/i\n}\nsubmenu s {\nmenuentry b {\nlinux /boot/k\n}\n}\n' \
    >seedtree/boot/grub/grub.cfg
mkfs ext2 65536 seeds/ext2.img seedtree -b 1024 -N 32
mkfs ext4 131072 seeds/ext4.img seedtree -b 1024 -N 32 -O ^has_journal
{ head -c 32768 /dev/zero; cat seeds/ext2.img; } >seeds/mbr.img
echo 'start=64, size=128, type=83' | sfdisk -q seeds/mbr.img >/dev/null 2>&1
echo "mkbootimages: $(ls | wc -l) files in $dir"
