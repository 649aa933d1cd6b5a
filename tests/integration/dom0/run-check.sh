#!/bin/bash
# Boots pvkit's dom0 image (tools/mkdom0) on pvkit with Debian's generic
# kernel as the privileged initial domain, with a boot.d step appended the
# way a user adds one (a second cpio archive concatenated to the image):
# it runs dom0-selftest (Debian's libxencall, libxenevtchn and libxengnttab
# through /dev/xen: a hypercall with a user buffer and a bad pointer, an
# event-channel loopback, a page granted to dom0 itself with gntalloc and
# mapped with gntdev, grant copy both ways) and writes and reads XenStore
# with Debian's xenstore-utils through xenstore-lite. It then proves that
# the kernel's own xenbus is served through its store ring (/proc/xen/
# xsd_kva, which xenstore-lite serves as domain 0): the nodes the kernel's
# shutdown handler writes once its xenbus is up (control/feature-poweroff,
# -reboot: nothing in user space writes them) appear in the store, and a
# socket client's write of control/sysrq reaches the kernel's watch, which
# reads and clears it in a transaction and runs the key (sysrq help in
# dmesg). Then xs-domu-e2e creates a domU at run time (PVKIT_DOMCTL_create_pv,
# the xs_domu test kernel), writes its tree as xl does, introduces it, and
# xenstore-lite serves it through its own store ring (grant reference 1, its
# event channel): the domU's writes, a watch dom0 fires, xl's permissions,
# its quota, garbage and a reconnection on its ring; its shutdown and its
# destruction are noticed (VIRQ_DOM_EXC, @releaseDomain) and it is released
# (page unmapped: the hypervisor can free it). Passes if every RESULT is ok,
# the domU's own verdict passed, the modules loaded, xenstore-lite served
# the socket and the ring, the kernel's log is clean and dom0 powers off.
#
# Usage: run-check.sh BUILD KERNEL DOM0_IMAGE SELFTEST XS_DOMU_E2E XS_DOMU_ELF
set -u
build=$1 kernel=$2 image=$3 selftest=$4 e2e=$5 domu=$6
. "$(dirname "$0")/lib.sh"

mkdir -p "$work/add/etc/pvkit/boot.d" "$work/add/usr/bin" "$work/add/usr/lib/pvkit"
cp "$selftest" "$work/add/usr/bin/dom0-selftest"
cp "$e2e" "$work/add/usr/bin/xs-domu-e2e"
cp "$domu" "$work/add/usr/lib/pvkit/xs_domu.elf"
cat >"$work/add/etc/pvkit/boot.d/50-selftest" <<'STEP'
#!/bin/sh
/usr/bin/dom0-selftest
if xenstore-write /pvkit/test "hello dom0" && [ "$(xenstore-read /pvkit/test)" = "hello dom0" ] &&
   xenstore-ls /pvkit | grep -q 'test = "hello dom0"'; then
    echo "RESULT xenstore_utils ok write, read and ls through xenstore-lite"
else
    echo "RESULT xenstore_utils fail"
fi
# The kernel's xenbus through the ring: it probes on xenstore-lite's first
# event and its shutdown handler then writes control/feature-* (home
# /local/domain/0) over the ring.
i=0
until [ "$(xenstore-read /local/domain/0/control/feature-poweroff 2>/dev/null)" = 1 ] || [ $i -ge 100 ]; do
    sleep 0.1; i=$((i + 1))
done
if [ "$(xenstore-read /local/domain/0/control/feature-poweroff 2>/dev/null)" = 1 ] &&
   [ "$(xenstore-read /local/domain/0/control/feature-reboot 2>/dev/null)" = 1 ]; then
    echo "RESULT xenbus_ring_kernel_write ok after $((i * 100)) ms: $(xenstore-ls /local/domain/0/control | tr '\n' ' ')"
else
    echo "RESULT xenbus_ring_kernel_write fail"
    xenstore-ls / ; tail -n 5 /var/log/pvkit/xenstore-lite.log
fi
# A socket client's write fires the kernel's control/sysrq watch (an event
# pushed into the ring); the kernel reads the key and clears the node in a
# transaction over the ring, then runs it ('h': help, in dmesg).
xenstore-write /local/domain/0/control/sysrq h
i=0
until [ -z "$(xenstore-read /local/domain/0/control/sysrq 2>/dev/null)" ] || [ $i -ge 100 ]; do
    sleep 0.1; i=$((i + 1))
done
if [ -z "$(xenstore-read /local/domain/0/control/sysrq 2>/dev/null)" ] &&
   dmesg | grep -q 'sysrq: HELP'; then
    echo "RESULT xenbus_ring_watch ok kernel took control/sysrq in $((i * 100)) ms"
else
    echo "RESULT xenbus_ring_watch fail control/sysrq='$(xenstore-read /local/domain/0/control/sysrq 2>&1)'"
fi
# A domU created at run time, served through its own store ring.
/usr/bin/xs-domu-e2e || tail -n 20 /var/log/pvkit/xenstore-lite.log
kill -0 "$(pidof xenstore-lite)" 2>/dev/null && echo "RESULT xenstore_lite_alive ok" ||
    echo "RESULT xenstore_lite_alive fail"
if dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace' >/dev/null; then
    echo "RESULT dmesg_clean fail"
    dmesg | grep -E -B2 -A8 'WARNING:|BUG:|Oops|Call Trace' | head -40
else
    echo "RESULT dmesg_clean ok"
fi
STEP
chmod 755 "$work/add/etc/pvkit/boot.d/50-selftest" "$work/add/usr/bin/dom0-selftest" \
    "$work/add/usr/bin/xs-domu-e2e"
boot_dom0 check-dom0 300
check [ "$status" -eq 0 ]
check has '^dom0: ready \(control_d\)'
check bash -c "! grep -q 'insmod .* failed' '$log'"
check bash -c "! grep -q '^dom0: xenstore-lite' '$log'"
for r in privcmd_hypercall privcmd_bad_pointer evtchn_loopback gntalloc_gntdev_map gntdev_unmap \
         grant_copy_from_gref grant_copy_to_gref xenstore_utils xenbus_ring_kernel_write \
         xenbus_ring_watch xs_domu_create xs_domu_introduce xs_domu_ring xs_domu_watch \
         xs_domu_perms xs_domu_shutdown xs_domu_destroy xenstore_lite_alive dmesg_clean; do
    check has "^RESULT $r ok"
done
check has '^[0-9]+ passed, 0 failed$'
check has '^\(d[0-9]+\) [0-9]+ passed, 0 failed'
finish check-dom0
