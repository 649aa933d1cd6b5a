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
# dmesg). Passes if every RESULT is ok, the modules loaded, xenstore-lite
# served the socket and the ring, the kernel's log is clean and dom0 powers
# off.
#
# Usage: run-check.sh BUILD KERNEL DOM0_IMAGE SELFTEST
set -u
build=$1 kernel=$2 image=$3 selftest=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/add/etc/pvkit/boot.d" "$work/add/usr/bin"
cp "$selftest" "$work/add/usr/bin/dom0-selftest"
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
if dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace' >/dev/null; then
    echo "RESULT dmesg_clean fail"
    dmesg | grep -E -B2 -A8 'WARNING:|BUG:|Oops|Call Trace' | head -40
else
    echo "RESULT dmesg_clean ok"
fi
STEP
chmod 755 "$work/add/etc/pvkit/boot.d/50-selftest" "$work/add/usr/bin/dom0-selftest"
cp "$image" "$work/dom0.cpio.gz"
(cd "$work/add" && find etc usr | cpio -o -H newc -R 0:0 --quiet) | gzip >>"$work/dom0.cpio.gz"

"$build/bin/pvkit-run" --kernel "$kernel" --initrd "$work/dom0.cpio.gz" --mem 512 \
    --cmdline "console=hvc0" --timeout 300 </dev/null >"$work/console.log" 2>&1
status=$?
log=$build/dom0/check-dom0.log
tr -d '\r' <"$work/console.log" >"$log"

passed=0 failed=0
check() {
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $*"; fi
}
has() { grep -qE -- "$1" "$log"; }
check [ "$status" -eq 0 ]
check has '^dom0: ready \(control_d\)'
check bash -c "! grep -q 'insmod .* failed' '$log'"
check bash -c "! grep -q '^dom0: xenstore-lite' '$log'"
for r in privcmd_hypercall privcmd_bad_pointer evtchn_loopback gntalloc_gntdev_map gntdev_unmap \
         grant_copy_from_gref grant_copy_to_gref xenstore_utils xenbus_ring_kernel_write \
         xenbus_ring_watch dmesg_clean; do
    check has "^RESULT $r ok"
done
check has '^[0-9]+ passed, 0 failed$'
if [ "$failed" -ne 0 ]; then
    echo "--- dom0 console (status $status): $log ---"
    grep -E 'RESULT|dom0:|pvkit\)' "$log" | tail -40
fi
echo "check-dom0: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
