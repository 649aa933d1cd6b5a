#!/bin/bash
# Hot-plug and device lifecycle through the pvkit command, with Linux's own
# xen-blkfront and xen-netfront in a domU of Debian's cloud kernel
# (unmodified; its busybox initramfs loads both modules). pvkit's dom0 image
# starts pvkit-blkback, pvkit-netback and bridge xenbr0; a boot.d step
# drives the toolstack while the domU's payload reacts to what appears:
#   - hp1 boots with no devices (no /dev/xvd*, no eth0);
#   - block-attach of an image file as xvdb: the domU writes a pattern and
#     reads it back; block-list shows it Connected;
#   - block-detach while a dd reads xvdb in the domU: the detach completes
#     in time, the domU's dd ends with an error (no hang), /dev/xvdb goes;
#   - network-attach (mac, bridge): eth0 appears, takes 169.254.1.31 and
#     pings dom0 (169.254.0.1 on xenbr0); network-list shows it;
#   - network-detach by MAC: eth0 goes in the domU, tap vifN.0 in dom0;
#   - xvdc and a vif attached again, xvdd attached and force-detached at
#     once (block-detach -f), then `pvkit reboot`: the monitor restarts hp1
#     (on_reboot = "restart") with xvdc and the vif (hot-plugged devices
#     are kept, as libxl keeps them; the vif's MAC too), without xvdd;
#   - I/O running on both, pvkit destroy:
#     no vbd/vif backend node, no tap, the hypervisor's free memory back
#     to what it was before hp1 (blkback and netback let go of its grants);
#   - pvkit-blkback killed: `pvkit info` says it exited, block-attach and a
#     create with a disk are refused with one line each.
#
# Usage: pvkit-hotplug-check.sh BUILD DOM0_KERNEL DOM0_IMAGE DOMU_KERNEL DOMU_DEB
set -u
build=$1 kernel=$2 image=$3 domu_kernel=$4 domu_deb=$5
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# The domU's payload: it waits for each device in turn and says what it saw
# ("HP WHAT ok|fail DETAIL" on its console).
cat >"$work/payload" <<'PAYLOAD'
#!/bin/sh
r() { echo "HP $1 $2 ${3:-}"; }
# wait_for PATH TENTHS: until PATH exists; wait_gone PATH TENTHS: until it does not
wait_for() { i=0; until [ -e "$1" ] || [ $i -ge $2 ]; do sleep 0.1; i=$((i + 1)); done; [ -e "$1" ]; }
wait_gone() { i=0; while [ -e "$1" ] && [ $i -lt $2 ]; do sleep 0.1; i=$((i + 1)); done; [ ! -e "$1" ]; }
# read_loop DEV: reads DEV end to end (page cache dropped) until a read fails
read_loop() {
    while dd if="$1" of=/dev/null bs=64k 2>/tmp/dd.err; do echo 3 >/proc/sys/vm/drop_caches; done
}
# io_phase: xvdc read in a loop and eth0 pinging dom0, for a destroy under I/O
io_phase() {
    if wait_for /dev/xvdc 600 && wait_for /sys/class/net/eth0 300; then
        ip link set eth0 up && ip addr add 169.254.1.31/16 dev eth0
        read_loop /dev/xvdc &
        ping -q -i 0.2 169.254.0.1 >/dev/null 2>&1 &
        sleep 1
        r io-running ok
    else
        r io-running fail "$(ls /dev | grep xvd) $(ls /sys/class/net)"
    fi
    sleep 600
}
echo "linux-domu: init reached"
# restarted by its monitor (pvkit reboot): the hot-plugged xvdc and vif are back
if wait_for /dev/xvdc 30; then
    r restarted ok "$(ls /dev | grep xvd | tr '\n' ' ')$(cat /sys/class/net/eth0/address 2>/dev/null)"
    io_phase
fi
if ls /dev | grep -q '^xvd' || [ -e /sys/class/net/eth0 ]; then r nodev fail "$(ls /dev | grep xvd)"
else r nodev ok; fi
# disk: xvdb attached, written and read back
if wait_for /dev/xvdb 600; then
    dd if=/dev/urandom of=/tmp/pat bs=64k count=16 2>/dev/null
    dd if=/tmp/pat of=/dev/xvdb bs=64k seek=16 conv=fsync 2>/dev/null
    echo 3 >/proc/sys/vm/drop_caches
    if dd if=/dev/xvdb bs=64k skip=16 count=16 2>/dev/null | cmp -s - /tmp/pat; then
        r disk-rw ok "$(md5sum </tmp/pat | cut -c1-32)"
    else r disk-rw fail; fi
else
    r disk-rw fail "no /dev/xvdb"
fi
# detach under I/O: the reader must end with an error, not hang
read_loop /dev/xvdb &
reader=$!
r dd-running ok
i=0; while kill -0 $reader 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if kill -0 $reader 2>/dev/null; then r dd-end fail "dd still running 30 s on"
else r dd-end ok "$(tr '\n' ' ' </tmp/dd.err)"; fi
if wait_gone /dev/xvdb 200; then r xvdb-gone ok; else r xvdb-gone fail; fi
# network: eth0 attached, link-local address, ping dom0, then detached
if wait_for /sys/class/net/eth0 600; then
    ip link set eth0 up && ip addr add 169.254.1.31/16 dev eth0
    i=0; until ping -c 1 -W 1 169.254.0.1 >/dev/null 2>&1 || [ $i -ge 30 ]; do i=$((i + 1)); done
    if ping -c 3 -W 2 169.254.0.1 >/dev/null 2>&1; then r ping ok "$(cat /sys/class/net/eth0/address)"
    else r ping fail; fi
else
    r ping fail "no eth0"
fi
if wait_gone /sys/class/net/eth0 300; then r eth0-gone ok; else r eth0-gone fail; fi
io_phase
PAYLOAD
mkdir -p "$work/add/etc/pvkit/boot.d" "$work/add/usr/lib/pvkit"
add_domu check-dom0-pvkit-hotplug --modules "$domu_deb:xen-blkfront,xen-netfront"
for n in hp1 hp2; do
    cat >"$work/add/etc/pvkit/$n.cfg" <<CFG
name = "$n"
kernel = "/usr/lib/pvkit/vmlinuz"
ramdisk = "/usr/lib/pvkit/domu.cpio.gz"
memory = 160
extra = "console=hvc0"
CFG
done
echo "disk = [ 'file:/var/lib/pvkit/hp.img,xvdb,w' ]" >>"$work/add/etc/pvkit/hp2.cfg"

cat >"$work/add/etc/pvkit/boot.d/70-pvkit-hotplug" <<'STEP'
#!/bin/sh
. /usr/lib/pvkit/step-lib.sh
# wait_line PATTERN SECONDS [N]: until hp1's console has N (1) lines matching PATTERN
wait_line() {
    i=0
    until [ "$(clog hp1 | grep -c "$1")" -ge "${3:-1}" ] || [ $i -ge $(($2 * 10)) ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ "$(clog hp1 | grep -c "$1")" -ge "${3:-1}" ]
}
# domu WHAT SECONDS [N]: the domU's (Nth) "HP WHAT ok|fail" line as a result
domu() {
    if wait_line "^HP $1 " "$2" "${3:-1}"; then
        line=$(clog hp1 | grep "^HP $1 " | tail -1); set -- $line
        [ "$3" = ok ] && ok "hotplug_$2" "$(echo $line | cut -d' ' -f4-)" || fail "hotplug_$2" "$line"
    else
        fail "hotplug_$1" "no answer from hp1"
    fi
}
# run NAME CMD...: runs a pvkit verb, its output kept in /tmp/NAME.out and .err
run() { n=$1; shift; "$@" >/tmp/$n.out 2>/tmp/$n.err; }
now() { cut -d' ' -f1 /proc/uptime; }
node() { xenstore-exists /local/domain/0/backend/$1/$id/$2; }

# dom0's init gives pvkit-consoled 5 s; under load it can take longer
i=0; until [ -S /run/pvkit/consoled.sock ] || [ $i -ge 600 ]; do sleep 0.1; i=$((i + 1)); done
[ -S /run/pvkit/consoled.sock ] && ok hotplug_consoled "$((i / 10)) s" ||
    fail hotplug_consoled "$(ps; cat /var/log/pvkit/consoled.log)"
ip addr add 169.254.0.1/16 dev xenbr0
# 256 MiB (sparse), so that the domU's dd is mid-device when xvdb goes
mkimg hp 256
mkimg hp2 16
mkimg hp3 16
free0=$(free_mem)
if pvkit info | grep -q '^blkback  *: running (pid [0-9]*)$' &&
   pvkit info | grep -q '^netback  *: running (pid [0-9]*)$'; then ok hotplug_info_running
else fail hotplug_info_running "$(pvkit info | grep back)"; fi
pvkit create -q hp1 && ok hotplug_create || fail hotplug_create
id=$(pvkit list hp1 | awk '$1 == "hp1" { print $2 }')
domu nodev 60

# block-attach: the spec in separate words, joined with commas as xl does
if run attach pvkit block-attach hp1 file:/var/lib/pvkit/hp.img xvdb w && [ ! -s /tmp/attach.err ]; then
    ok hotplug_block_attach
else fail hotplug_block_attach "$(cat /tmp/attach.err)"; fi
domu disk-rw 30
run blist pvkit block-list hp1
if head -1 /tmp/blist.out | grep -q '^Vdev  BE  handle state evt-ch ring-ref BE-path' &&
   grep -qE "^51728 +0 +$id +4 +[0-9]+ +[0-9]+ +/local/domain/0/backend/vbd/$id/51728" /tmp/blist.out; then
    ok hotplug_block_list
else fail hotplug_block_list "$(cat /tmp/blist.out /tmp/blist.err)"; fi
run inuse pvkit block-attach hp1 /var/lib/pvkit/hp2.img,raw,xvdb,w
[ $? -eq 1 ] && [ "$(cat /tmp/inuse.err)" = "pvkit: block-attach: hp1: vdev xvdb is in use" ] &&
    ok hotplug_block_in_use || fail hotplug_block_in_use "$(cat /tmp/inuse.err)"

# block-detach while the domU reads xvdb
wait_line "^HP dd-running" 30
sleep 1
t0=$(now)
run detach pvkit block-detach hp1 xvdb
st=$? t1=$(now)
secs=$(echo "$t0 $t1" | awk '{ printf "%.1f", $2 - $1 }')
if [ $st -eq 0 ] && [ ! -s /tmp/detach.err ] && ! node vbd 51728 &&
   ! xenstore-exists /local/domain/$id/device/vbd/51728; then
    ok hotplug_block_detach "${secs} s"
else fail hotplug_block_detach "status $st in ${secs} s: $(cat /tmp/detach.err)"; fi
domu dd-end 40
domu xvdb-gone 30
run gone pvkit block-detach hp1 xvdb
[ $? -eq 1 ] && [ "$(cat /tmp/gone.err)" = "pvkit: block-detach: hp1: xvdb: no such device" ] &&
    ok hotplug_block_detach_gone || fail hotplug_block_detach_gone "$(cat /tmp/gone.err)"

# network-attach, -list, -detach by MAC
if run nattach pvkit network-attach hp1 mac=00:16:3e:00:00:31 bridge=xenbr0 && [ ! -s /tmp/nattach.err ]; then
    ok hotplug_network_attach
else fail hotplug_network_attach "$(cat /tmp/nattach.err)"; fi
domu ping 60
run nlist pvkit network-list hp1
if head -1 /tmp/nlist.out | grep -q '^Idx BE Mac Addr.         handle state evt-ch   tx-/rx-ring-ref BE-path' &&
   grep -qE "^0   0  00:16:3e:00:00:31     0     4 +[0-9]+ +[0-9]+/[0-9]+ +/local/domain/0/backend/vif/$id/0" /tmp/nlist.out; then
    ok hotplug_network_list
else fail hotplug_network_list "$(cat /tmp/nlist.out /tmp/nlist.err)"; fi
[ -e /sys/class/net/vif$id.0 ] && ok hotplug_tap_up || fail hotplug_tap_up "$(ls /sys/class/net)"
if run ndetach pvkit network-detach hp1 00:16:3E:00:00:31 && [ ! -s /tmp/ndetach.err ] && ! node vif 0; then
    ok hotplug_network_detach
else fail hotplug_network_detach "$(cat /tmp/ndetach.err)"; fi
domu eth0-gone 30
i=0; while [ -e /sys/class/net/vif$id.0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ ! -e /sys/class/net/vif$id.0 ] && ok hotplug_tap_gone || fail hotplug_tap_gone "$(ls /sys/class/net)"

# a restart by the monitor (on_reboot = "restart") keeps the hot-plugged
# devices, MAC included; the old domain's nodes go
pvkit block-attach hp1 /var/lib/pvkit/hp2.img,raw,xvdc,w && pvkit network-attach hp1 bridge=xenbr0 ||
    fail hotplug_reattach
domu io-running 60
# block-detach -f: the nodes go at once, without waiting for the backend
pvkit block-attach hp1 /var/lib/pvkit/hp3.img,raw,xvdd,w || fail hotplug_force_detach "attach"
sleep 1
if run fdetach pvkit block-detach -f hp1 xvdd && [ ! -s /tmp/fdetach.err ] && ! node vbd 51760; then
    ok hotplug_force_detach
else fail hotplug_force_detach "$(cat /tmp/fdetach.err)"; fi
mac=$(pvkit network-list hp1 | awk 'NR == 2 { print $3 }')
old=$id
run reboot pvkit reboot -w hp1 || fail hotplug_reboot "$(cat /tmp/reboot.err)"
# -w returns once the old domain is gone; the monitor then builds the new one
i=0
until id=$(pvkit list hp1 2>/dev/null | awk '$1 == "hp1" { print $2 }') && [ -n "$id" ] &&
      [ "$id" != "$old" ] || [ $i -ge 300 ]; do
    sleep 0.1; i=$((i + 1))
done
left=$(for k in vbd vif; do xenstore-exists /local/domain/0/backend/$k/$old && echo "backend/$k/$old"; done)
if [ -n "$id" ] && [ "$id" != "$old" ] && [ -z "$left" ] &&
   pvkit block-list hp1 | grep -qE "^51744 +0 +$id " && ! pvkit block-list hp1 | grep -q "^51760 " &&
   [ "$(pvkit network-list hp1 | awk 'NR == 2 { print $3 }')" = "$mac" ]; then
    ok hotplug_restart_devices "domain $old -> $id, vif $mac"
else
    fail hotplug_restart_devices "domain $old -> $id, left: $left, vif $mac; $(pvkit block-list hp1; pvkit network-list hp1; tail -3 /var/log/pvkit/hp1.log)"
fi
domu restarted 90
domu io-running 90 2

# destroy in the middle of disk and network I/O
sleep 1
run destroy pvkit destroy hp1 && ok hotplug_destroy || fail hotplug_destroy "$(cat /tmp/destroy.err)"
i=0; until [ "$(free_mem)" = "$free0" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
left=$(ls /sys/class/net | grep '^vif'
       for k in vbd vif; do xenstore-exists /local/domain/0/backend/$k/$id && echo "backend/$k/$id"; done)
if [ -z "$left" ] && [ "$(free_mem)" = "$free0" ]; then
    ok hotplug_destroy_cleanup "free $free0 MiB"
else
    fail hotplug_destroy_cleanup "left: $left; free $(free_mem) MiB, was $free0"
fi

# a backend that dies: reported, and its devices refused
pvkit create -q hp1 || fail hotplug_recreate
bpid=$(cat /run/pvkit/blkback.pid)
kill "$bpid"
i=0; while [ -d /proc/$bpid ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
pvkit info | grep -q "^blkback  *: not running (pid $bpid exited)$" && ok hotplug_info_dead ||
    fail hotplug_info_dead "$(pvkit info | grep back)"
run dead pvkit block-attach hp1 /var/lib/pvkit/hp.img,raw,xvdb,w
[ $? -eq 1 ] && [ "$(cat /tmp/dead.err)" = "pvkit: block-attach: hp1: disk xvdb: pvkit-blkback is not running in dom0" ] &&
    ok hotplug_attach_refused || fail hotplug_attach_refused "$(cat /tmp/dead.err)"
run dead2 pvkit create -q hp2
[ $? -eq 1 ] && [ "$(cat /tmp/dead2.err)" = "pvkit: hp2: disk xvdb: pvkit-blkback is not running in dom0" ] &&
    ! pvkit list hp2 >/dev/null 2>&1 && ok hotplug_create_refused || fail hotplug_create_refused "$(cat /tmp/dead2.err)"
pvkit destroy hp1
echo "--- consoled:"; tail -n 5 /var/log/pvkit/consoled.log
echo "--- blkback:"; tail -n 5 /var/log/pvkit/blkback.log
echo "--- netback:"; tail -n 5 /var/log/pvkit/netback.log
echo "--- console of hp1:"; clog hp1 | grep -v '^\[' | tail -n 25
STEP
chmod 755 "$work/add/etc/pvkit/boot.d/70-pvkit-hotplug"
boot_dom0 check-dom0-pvkit-hotplug 400 -m 1024
check [ "$status" -eq 0 ]
expect_results hotplug consoled info_running create nodev block_attach disk-rw block_list \
    block_in_use block_detach dd-end xvdb-gone block_detach_gone network_attach ping network_list \
    tap_up network_detach eth0-gone tap_gone io-running force_detach restart_devices restarted \
    destroy destroy_cleanup info_dead attach_refused create_refused
finish check-dom0-pvkit-hotplug '^HP'
