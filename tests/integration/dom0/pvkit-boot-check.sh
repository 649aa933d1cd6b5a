#!/bin/bash
# A domU that boots from its own disk, as a Xen user sets it up with
# pygrub: the config names no kernel, only `bootloader = "pygrub"` and a
# disk. The disk is built here, without root or mounting: an MBR with
# partition 1 ext4 (mke2fs -d) holding Debian's cloud kernel in /boot, an
# initrd (tools/mkinitramfs with xen-blkfront, whose /init mounts root=
# and switches to it), /boot/grub/grub.cfg with two entries whose default
# passes root=/dev/xvda1, and a busybox root filesystem whose /sbin/init
# prints marker lines (its command line and `mount`) and powers off.
# In pvkit's dom0: `pvkit create -n` shows the loader's choice; `pvkit
# create` boots it and the domU's console log must show the disk's own
# init with /dev/xvda1 mounted on /; a disk without grub.cfg is refused in
# one line, leaving no domain and no memory behind.
#
# Usage: pvkit-boot-check.sh BUILD DOM0_KERNEL DOM0_IMAGE DOMU_KERNEL DOMU_DEB
set -u
build=$1 kernel=$2 image=$3 domu_kernel=$4 domu_deb=$5
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
export PATH=$PATH:/usr/sbin:/sbin
die() { echo "check-dom0-pvkit-boot: $*"; exit 1; }

# mkdisk DISK TREE MIB: DISK with an MBR and partition 1 (from 1 MiB on), an ext4 of TREE.
mkdisk() {
    mke2fs -q -F -t ext4 -d "$2" "$work/part.img" "$3M" >/dev/null || return 1
    truncate -s "$3M" "$work/part.img"
    truncate -s "$(($3 + 1))M" "$1"
    echo "start=2048, type=83" | sfdisk -q "$1" >/dev/null 2>&1 || return 1
    dd if="$work/part.img" of="$1" bs=1M seek=1 conv=notrunc,sparse status=none
}

version=$(basename "$(readlink -f "$domu_kernel")" | sed 's/^vmlinuz-//')
root=$work/rootfs
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,boot/grub}
install -m 755 /bin/busybox "$root/bin/busybox"
/bin/busybox --list-full | while read -r applet; do
    [ -e "$root/$applet" ] || { mkdir -p "$root/$(dirname "$applet")"; ln -s /bin/busybox "$root/$applet"; }
done
rm -f "$root/sbin/init"
cat >"$root/sbin/init" <<'INIT'
#!/bin/sh
# the disk's own init (pvkit-boot-check.sh)
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t tmpfs tmpfs /tmp
echo "BOOTCHECK init from the disk, pid $$"
echo "BOOTCHECK cmdline $(cat /proc/cmdline)"
mount | while read -r line; do echo "BOOTCHECK mount $line"; done
echo "BOOTCHECK marker $(cat /etc/bootcheck-marker)"
echo "BOOTCHECK done"
sync
poweroff -f
INIT
chmod 755 "$root/sbin/init"
echo "pvkit-boot-check: the root filesystem of xvda1" >"$root/etc/bootcheck-marker"
cp -L "$domu_kernel" "$root/boot/vmlinuz-$version"
"$here/../../../tools/mkinitramfs" -o "$root/boot/initrd.img-$version" \
    --modules "$domu_deb:xen-blkfront" 2>/dev/null || die "mkinitramfs failed"
cat >"$root/boot/grub/grub.cfg" <<CFG
set default="0"
menuentry 'Debian GNU/Linux (pvkit boot check)' --class debian \$menuentry_id_option 'bootcheck' {
	insmod ext2
	set root='hd0,msdos1'
	linux	/boot/vmlinuz-$version root=/dev/xvda1 ro bootcheck.entry=default
	initrd	/boot/initrd.img-$version
}
menuentry 'Not the default' {
	linux	/boot/vmlinuz-$version root=/dev/xvda9 bootcheck.entry=wrong
	initrd	/boot/initrd.img-$version
}
CFG
mkdir -p "$work/add/etc/pvkit/boot.d" "$work/add/var/lib/pvkit" "$work/noconfig/etc"
mkdisk "$work/add/var/lib/pvkit/boot.img" "$root" 40 || die "cannot build the disk image"
echo "no boot config here" >"$work/noconfig/etc/motd"
mkdisk "$work/add/var/lib/pvkit/noconfig.img" "$work/noconfig" 8 || die "cannot build the bad image"

cat >"$work/add/etc/pvkit/bootck.cfg" <<'CFG'
name = "bootck"
bootloader = "pygrub"
disk = [ 'file:/var/lib/pvkit/boot.img,xvda,w' ]
memory = 192
extra = "console=hvc0"
CFG
sed 's/bootck/badboot/; s/boot.img/noconfig.img/' "$work/add/etc/pvkit/bootck.cfg" >"$work/add/etc/pvkit/badboot.cfg"

cat >"$work/add/etc/pvkit/boot.d/70-pvkit-boot" <<'STEP'
#!/bin/sh
ok() { echo "RESULT $1 ok ${2:-}"; }
fail() { echo "RESULT $1 fail ${2:-}"; }
clog() { tr -d '\r' </var/log/pvkit/console/$1.log 2>/dev/null; }
wait_line() {
    i=0
    until clog "$1" | grep -q "$2" || [ $i -ge $(($3 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    clog "$1" | grep -q "$2"
}
free0=$(pvkit info | sed -n 's/^free_memory *: //p')
pvkit create -q -n /etc/pvkit/bootck.cfg >/tmp/dry 2>&1
if grep -q '^bootloader: pygrub: /var/lib/pvkit/boot.img partition 1, /boot/grub/grub.cfg, entry "Debian GNU/Linux (pvkit boot check)"' /tmp/dry &&
   grep -q '^cmdline: root=/dev/xvda1 ro bootcheck.entry=default console=hvc0$' /tmp/dry; then
    ok pvkit_boot_dryrun
else
    fail pvkit_boot_dryrun "$(cat /tmp/dry)"
fi
if pvkit create /etc/pvkit/bootck.cfg; then ok pvkit_boot_create; else fail pvkit_boot_create; fi
if wait_line bootck '^BOOTCHECK done' 150; then
    ok pvkit_boot_init "$(clog bootck | grep '^BOOTCHECK init')"
else
    fail pvkit_boot_init "no BOOTCHECK done line"
fi
if clog bootck | grep -q '^BOOTCHECK cmdline .*root=/dev/xvda1 ro bootcheck.entry=default console=hvc0'; then
    ok pvkit_boot_cmdline
else
    fail pvkit_boot_cmdline "$(clog bootck | grep '^BOOTCHECK cmdline')"
fi
if clog bootck | grep -q '^BOOTCHECK mount /dev/xvda1 on / type ext4' &&
   clog bootck | grep -q '^BOOTCHECK marker pvkit-boot-check: the root filesystem of xvda1'; then
    ok pvkit_boot_root "$(clog bootck | grep '^BOOTCHECK mount /dev/xvda1')"
else
    fail pvkit_boot_root "$(clog bootck | grep '^BOOTCHECK mount')"
fi
# the domU powers off; on_poweroff = destroy
i=0; while pvkit list bootck >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pvkit destroy bootck 2>/dev/null
sleep 1
# a disk without a boot config: one line, nothing left behind
pvkit create -q /etc/pvkit/badboot.cfg >/tmp/bad.out 2>/tmp/bad.err
status=$?
if [ "$status" = 1 ] && [ "$(wc -l </tmp/bad.err)" = 1 ] &&
   grep -qx 'pvkit: /var/lib/pvkit/noconfig.img: partition 1: ext4: no boot config (/boot/grub/grub.cfg, extlinux.conf, ...)' /tmp/bad.err &&
   ! pvkit list badboot >/dev/null 2>&1; then
    ok pvkit_boot_bad_image "$(cat /tmp/bad.err)"
else
    fail pvkit_boot_bad_image "status $status: $(cat /tmp/bad.err)"
fi
left=$(xenstore-ls /local/domain 2>/dev/null | grep -c 'name = "\(bootck\|badboot\)"')
if [ "$left" = 0 ] && [ "$(pvkit info | sed -n 's/^free_memory *: //p')" = "$free0" ]; then
    ok pvkit_boot_cleanup
else
    fail pvkit_boot_cleanup "left $left; free $(pvkit info | sed -n 's/^free_memory *: //p'), was $free0"
fi
echo "--- console of bootck:"; clog bootck | tail -n 25
STEP
chmod 755 "$work/add/etc/pvkit/boot.d/70-pvkit-boot"
boot_dom0 check-dom0-pvkit-boot 400 -m 1536
check [ "$status" -eq 0 ]
expect_results pvkit_boot dryrun create init cmdline root bad_image cleanup
finish check-dom0-pvkit-boot
