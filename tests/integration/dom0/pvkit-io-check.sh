#!/bin/bash
# Disks and networks for Linux domUs, as a user sets them up: pvkit's dom0
# image (pvkit-blkback, pvkit-netback and bridge xenbr0 started at boot)
# creates two domUs of Debian's cloud kernel, unmodified, whose busybox
# initramfs loads the kernel's own xen-blkfront and xen-netfront:
#   io1: disk = [ 'file:/var/lib/pvkit/io1.img,xvdb,w' ] and a read-only
#        second disk (xvdc, access=ro), vif = [ 'bridge=xenbr0' ]
#   io2: vif = [ 'mac=00:16:3e:00:00:02,bridge=xenbr0' ]
# io1 (2 vCPUs, xen_blkfront.max_ring_page_order=2: dom0 checks it got two
# queues of 4-page rings and persistent grants) writes a known pattern to
# xvdb and reads it back, discards 1 MiB it wrote, makes an ext2
# filesystem on it, writes a file, syncs and unmounts; it checks that a
# write to xvdc is refused; both domUs bring eth0 up on link-local
# addresses and ping dom0 (169.254.0.1 on xenbr0); io1 pings io2 over IPv6
# link-local and sends it 16 MiB over TCP/IPv4, 4 MiB over TCP/IPv6, 200
# UDP datagrams and 50 of 4 bytes (46-byte frames, as iperf3's UDP hello),
# then io2 sends io1 16 MiB over TCP/IPv4 (io1 receiving on two queues),
# each received byte-exact (nettool.c prints a checksum of what each end
# moved).
# dom0 then checks the image itself: the pattern at its offset, zeros where
# the discard was, and the
# file inside the filesystem (mounted from a loop device); destroying both
# domains leaves no vif tap and no backend node behind.
#
# Usage: pvkit-io-check.sh BUILD DOM0_KERNEL DOM0_IMAGE DOMU_KERNEL DOMU_DEB NETTOOL
set -u
build=$1 kernel=$2 image=$3 domu_kernel=$4 domu_deb=$5 nettool=$6
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# The domUs' payload: NAME and role come from the kernel command line.
cat >"$work/payload" <<'PAYLOAD'
#!/bin/sh
for w in $(cat /proc/cmdline); do case "$w" in io.*=*) eval "${w#io.}" ;; esac; done
r() { echo "IO $name $1 $2 ${3:-}"; }
wait_for() { i=0; until [ -e "$1" ] || [ $i -ge 200 ]; do sleep 0.1; i=$((i + 1)); done; [ -e "$1" ]; }
echo "linux-domu: init reached"
if [ "$name" = io1 ]; then
    if wait_for /dev/xvdb && wait_for /dev/xvdc; then r disks ok; else r disks fail "$(ls /dev | grep xvd)"; fi
    # a 1 MiB pattern at 4 MiB into xvdb, read back through the device
    dd if=/dev/urandom of=/tmp/pat bs=64k count=16 2>/dev/null
    dd if=/tmp/pat of=/dev/xvdb bs=64k seek=64 conv=fsync 2>/dev/null
    echo 3 >/proc/sys/vm/drop_caches
    if dd if=/dev/xvdb bs=64k skip=64 count=16 2>/dev/null | cmp -s - /tmp/pat; then
        r raw ok "$(md5sum </tmp/pat | cut -c1-32)"
    else r raw fail; fi
    # a filesystem behind the pattern (its first 4 MiB only)
    if mke2fs -q -b 1024 /dev/xvdb 4096 && mkdir -p /mnt/b && mount -t ext2 /dev/xvdb /mnt/b &&
       dd if=/dev/urandom of=/mnt/b/file bs=1k count=700 2>/dev/null && sync &&
       s=$(md5sum </mnt/b/file | cut -c1-32) && umount /mnt/b; then
        r fs ok "$s"
    else r fs fail; fi
    # discard: 1 MiB of data at 8 MiB, then discarded; dom0 finds zeros there
    dd if=/dev/urandom of=/dev/xvdb bs=64k seek=128 count=16 conv=fsync 2>/dev/null
    if blkdiscard -o 8388608 -l 1048576 /dev/xvdb; then r discard ok; else r discard fail; fi
    if dd if=/dev/zero of=/dev/xvdc bs=4k count=1 conv=fsync 2>/dev/null; then r ro fail "write accepted"
    else r ro ok "$(head -c 11 /dev/xvdc)"; fi
fi
if wait_for /sys/class/net/eth0; then
    ip link set eth0 up && ip addr add "$addr/16" dev eth0 && r eth0 ok "$(cat /sys/class/net/eth0/address)"
    i=0; until ping -c 1 -W 1 169.254.0.1 >/dev/null 2>&1 || [ $i -ge 30 ]; do i=$((i + 1)); done
    if ping -c 3 -W 2 169.254.0.1 >/dev/null 2>&1; then r ping-dom0 ok; else r ping-dom0 fail; fi
    # io1 sends to io2 over the bridge (domU to domU): TCP over IPv4 (16 MiB)
    # and IPv6 link-local (4 MiB), UDP over IPv4 (200 datagrams of 1400
    # bytes) and 50 of 4 bytes ("small"); then io2 sends io1 16 MiB over
    # TCP/IPv4 ("back"); each end prints what it moved: "bytes N sum X"
    if [ "$name" = io2 ]; then
        nettool tcp-recv 5001 >/tmp/tcp4 & p1=$!
        nettool tcp-recv 5002 >/tmp/tcp6 & p2=$!
        nettool udp-recv 5003 200 60 >/tmp/udp & p3=$!
        nettool udp-recv 5005 50 30 >/tmp/small & p4=$!
        echo "IO io2 listening"
        wait $p1; r tcp4-rx ok "$(cat /tmp/tcp4)"
        wait $p2; r tcp6-rx ok "$(cat /tmp/tcp6)"
        wait $p3; r udp-rx ok "$(tail -n 1 /tmp/udp)"
        wait $p4; r small-rx ok "$(tail -n 1 /tmp/small)"
        out=$(nettool tcp-send 169.254.1.1 5004 16777216 4) && r back-tx ok "$out" || r back-tx fail "$out"
    else
        nettool tcp-recv 5004 >/tmp/back & pb=$!
        peer6=fe80::216:3eff:fe00:2%eth0
        if ping6 -c 2 -W 2 "$peer6" >/dev/null 2>&1 || ping6 -c 3 -W 2 "$peer6" >/dev/null 2>&1; then
            r ping6-peer ok; else r ping6-peer fail; fi
        t0=$(cut -d' ' -f1 /proc/uptime)
        out=$(nettool tcp-send 169.254.1.2 5001 16777216 1) && r tcp4-tx ok "$out" || r tcp4-tx fail "$out"
        t1=$(cut -d' ' -f1 /proc/uptime)
        echo "IO io1 tcp4-time $t0 $t1"
        out=$(nettool tcp-send "$peer6" 5002 4194304 2) && r tcp6-tx ok "$out" || r tcp6-tx fail "$out"
        sleep 1
        out=$(nettool udp-send 169.254.1.2 5003 200 1400 3) && r udp-tx ok "$out" || r udp-tx fail "$out"
        out=$(nettool udp-send 169.254.1.2 5005 50 4 5) && r small-tx ok "$out" || r small-tx fail "$out"
        wait $pb; r back-rx ok "$(cat /tmp/back)"
    fi
else
    r eth0 fail "no eth0"
fi
sleep 600
PAYLOAD
mkdir -p "$work/add/etc/pvkit/boot.d" "$work/add/usr/lib/pvkit"
"$here/../../../tools/mkinitramfs" -o "$work/add/usr/lib/pvkit/domu.cpio.gz" --script "$work/payload" \
    --modules "$domu_deb:xen-blkfront,xen-netfront" --add "$nettool:/usr/bin/nettool" 2>/dev/null ||
    { echo "check-dom0-pvkit-io: mkinitramfs failed"; exit 1; }
cp -L "$domu_kernel" "$work/add/usr/lib/pvkit/vmlinuz"
for n in 1 2; do
    cat >"$work/add/etc/pvkit/io$n.cfg" <<CFG
name = "io$n"
kernel = "/usr/lib/pvkit/vmlinuz"
ramdisk = "/usr/lib/pvkit/domu.cpio.gz"
memory = 192
extra = "console=hvc0 io.name=io$n io.addr=169.254.1.$n"
CFG
done
cat >>"$work/add/etc/pvkit/io1.cfg" <<'CFG'
vcpus = 2
extra = "console=hvc0 io.name=io1 io.addr=169.254.1.1 xen_blkfront.max_ring_page_order=2"
disk = [ 'file:/var/lib/pvkit/io1.img,xvdb,w',
         'format=raw, vdev=xvdc, access=ro, target=/var/lib/pvkit/ro.img' ]
vif = [ 'bridge=xenbr0' ]
CFG
echo "vif = [ 'mac=00:16:3e:00:00:02,bridge=xenbr0' ]" >>"$work/add/etc/pvkit/io2.cfg"

cat >"$work/add/etc/pvkit/boot.d/70-pvkit-io" <<'STEP'
#!/bin/sh
ok() { echo "RESULT $1 ok ${2:-}"; }
fail() { echo "RESULT $1 fail ${2:-}"; }
clog() { [ -f /var/log/pvkit/console/$1.log ] && tr -d '\r' </var/log/pvkit/console/$1.log; }
# wait_line NAME PATTERN SECONDS
wait_line() {
    i=0
    until clog "$1" | grep -q "$2" || [ $i -ge $(($3 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
    clog "$1" | grep -q "$2"
}
ip addr add 169.254.0.1/16 dev xenbr0
mkdir -p /var/lib/pvkit
dd if=/dev/zero of=/var/lib/pvkit/io1.img bs=1M count=0 seek=64 2>/dev/null
printf 'READ-ONLY-1' | dd of=/var/lib/pvkit/ro.img bs=1M seek=0 2>/dev/null
dd if=/dev/zero of=/var/lib/pvkit/ro.img bs=1M count=0 seek=8 2>/dev/null
free0=$(pvkit info | sed -n 's/^free_memory *: //p')
if pvkit create io2 && pvkit create io1; then ok pvkit_io_create; else fail pvkit_io_create; fi
id1=$(pvkit list io1 | awk '$1 == "io1" { print $2 }') id2=$(pvkit list io2 | awk '$1 == "io2" { print $2 }')
for r in disks raw fs discard ro eth0 ping-dom0; do
    if wait_line io1 "^IO io1 $r " 90; then
        line=$(clog io1 | grep "^IO io1 $r " | tail -1); set -- $line
        [ "$4" = ok ] && ok "pvkit_io_$r" "${5:-}" || fail "pvkit_io_$r" "$line"
    else
        fail "pvkit_io_$r" "no answer from io1"
    fi
done
# what xen-blkfront negotiated for xvdb (2 vCPUs, max_ring_page_order=2)
vbd=/local/domain/$id1/device/vbd/51728
nq=$(xenstore-read $vbd/multi-queue-num-queues 2>/dev/null)
order=$(xenstore-read $vbd/ring-page-order 2>/dev/null)
pers=$(xenstore-read $vbd/feature-persistent 2>/dev/null)
if [ "$nq" = 2 ] && [ "$order" = 2 ] && [ "$pers" = 1 ]; then
    ok pvkit_io_negotiated "2 queues of 4-page rings, persistent grants"
else
    fail pvkit_io_negotiated "queues '$nq', ring-page-order '$order', feature-persistent '$pers'"
fi
raw_sum=$(clog io1 | sed -n 's/^IO io1 raw ok //p')
fs_sum=$(clog io1 | sed -n 's/^IO io1 fs ok //p')
# same_line KIND [FROM TO]: FROM's "KIND-tx ok X" and TO's "KIND-rx ok X"
# agree (io1 to io2 unless said)
same_line() {
    f=${2:-io1} t=${3:-io2}
    if wait_line $f "^IO $f $1-tx " 120 && wait_line $t "^IO $t $1-rx " 60; then
        sent=$(clog $f | sed -n "s/^IO $f $1-tx ok //p") got=$(clog $t | sed -n "s/^IO $t $1-rx ok //p")
        [ -n "$sent" ] && [ "$sent" = "$got" ] && ok "pvkit_io_$1" "$got" ||
            fail "pvkit_io_$1" "sent '$sent', received '$got'"
    else
        fail "pvkit_io_$1" "$(clog $f | grep "^IO $f $1"; clog $t | grep "^IO $t $1")"
    fi
}
same_line tcp4
same_line tcp6
same_line udp
same_line small
same_line back io2 io1
if wait_line io1 "^IO io1 ping6-peer ok" 1; then ok pvkit_io_ping6; else fail pvkit_io_ping6; fi
clog io1 | awk '$1 == "IO" && $3 == "tcp4-time" { printf "--- io1 to io2, 16 MiB over TCP: %.2f s\n", $5 - $4 }'
pvkit destroy io1; pvkit destroy io2
sleep 1
# dom0's own look at the image
if [ "$(dd if=/var/lib/pvkit/io1.img bs=64k skip=64 count=16 2>/dev/null | md5sum | cut -c1-32)" = "$raw_sum" ] &&
   [ -n "$raw_sum" ]; then ok pvkit_io_image_raw; else
    fail pvkit_io_image_raw "want '$raw_sum', $(dd if=/var/lib/pvkit/io1.img bs=64k skip=64 count=16 2>/dev/null | md5sum)"
    ls -ls /var/lib/pvkit; od -A d -t x1 /var/lib/pvkit/io1.img | head -20
fi
if [ "$(dd if=/var/lib/pvkit/io1.img bs=64k skip=128 count=16 2>/dev/null | md5sum | cut -c1-32)" = \
     "$(dd if=/dev/zero bs=64k count=16 2>/dev/null | md5sum | cut -c1-32)" ]; then
    ok pvkit_io_image_discard
else
    fail pvkit_io_image_discard "the discarded MiB is not zeros"
fi
mkdir -p /mnt/img
if mount -o loop,ro -t ext2 /var/lib/pvkit/io1.img /mnt/img 2>/dev/null &&
   [ "$(md5sum </mnt/img/file | cut -c1-32)" = "$fs_sum" ]; then
    ok pvkit_io_image_fs
else
    fail pvkit_io_image_fs "want '$fs_sum'"; mount -o loop,ro -t ext2 /var/lib/pvkit/io1.img /mnt/img; ls -la /mnt/img
fi
umount /mnt/img 2>/dev/null
left=$(ls /sys/class/net | grep '^vif'
       for k in vbd vif; do for d in $id1 $id2; do
           xenstore-exists /local/domain/0/backend/$k/$d && echo "backend/$k/$d"
       done; done)
if [ -z "$left" ] && [ "$(pvkit info | sed -n 's/^free_memory *: //p')" = "$free0" ]; then
    ok pvkit_io_cleanup
else
    fail pvkit_io_cleanup "left: $left; free $(pvkit info | sed -n 's/^free_memory *: //p'), was $free0"
fi
echo "--- consoled:"; tail -n 5 /var/log/pvkit/consoled.log; ps | grep -v grep | grep pvkit-
echo "--- blkback:"; tail -n 5 /var/log/pvkit/blkback.log
echo "--- netback:"; tail -n 5 /var/log/pvkit/netback.log
for n in io1 io2; do echo "--- console of $n:"; clog $n | tail -n 15; done
STEP
chmod 755 "$work/add/etc/pvkit/boot.d/70-pvkit-io"
boot_dom0 check-dom0-pvkit-io 500 -m 1536
check [ "$status" -eq 0 ]
expect_results pvkit_io create disks raw fs discard negotiated ro eth0 ping-dom0 ping6 tcp4 tcp6 udp small back image_raw image_discard image_fs cleanup
finish check-dom0-pvkit-io
