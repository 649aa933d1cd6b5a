#!/bin/bash
# Boots pvkit's dom0 image with 1 GiB in the machine (dom0 keeps 512 MiB)
# and has the pvkit command create a Linux domU the way a user would: from
# /etc/pvkit/linux.cfg with Debian's cloud kernel as it is shipped (a
# bzImage with an LZ4 payload, unpacked by pvkit in dom0) and a busybox
# initramfs (tools/mkinitramfs) whose /init prints "linux-domu: init
# reached". Checks: create succeeds, `pvkit list` shows the domain with its
# 256 MiB and 1 vCPU, `pvkit destroy` removes it and the hypervisor's free
# memory returns to its figure.
# Its xenbus must come up through xenstore-lite (the kernel writes
# control/feature-poweroff within 60 s), and `pvkit shutdown -w` must power
# it off cleanly through control/shutdown, the monitor destroying it
# (on_poweroff = "destroy").
# The shutdown part passes when the monitor's log says the domain shut down
# with reason poweroff and was destroyed (its on_poweroff).
#
# Usage: pvkit-linux-check.sh BUILD DOM0_KERNEL DOM0_IMAGE DOMU_KERNEL
set -u
build=$1 kernel=$2 image=$3 domu_kernel=$4
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The initramfs's /init is a plain script that handles no signals, so
# busybox's poweroff (which signals init) would do nothing: the kernel's
# poweroff_cmd, run on a control/shutdown "poweroff" request, is pointed at
# a script that says so and powers off at once.
cat >"$work/payload" <<'PAYLOAD'
#!/bin/sh
echo /etc/pvkit/poweroff >/proc/sys/kernel/poweroff_cmd
echo "linux-domu: init reached"
sleep 600
PAYLOAD
cat >"$work/poweroff" <<'POWEROFF'
#!/bin/sh
echo "linux-domu: poweroff requested"
sync
exec poweroff -f
POWEROFF
chmod 755 "$work/poweroff"
mkdir -p "$work/add/etc/pvkit/boot.d" "$work/add/usr/lib/pvkit"
"$here/../../../tools/mkinitramfs" -o "$work/add/usr/lib/pvkit/domu.cpio.gz" \
    --script "$work/payload" --add "$work/poweroff:/etc/pvkit/poweroff" 2>/dev/null || { echo "check-dom0-pvkit-linux: mkinitramfs failed"; exit 1; }
cp -L "$domu_kernel" "$work/add/usr/lib/pvkit/vmlinuz"
cat >"$work/add/etc/pvkit/linux.cfg" <<'CFG'
name = "linux"
kernel = "/usr/lib/pvkit/vmlinuz"
ramdisk = "/usr/lib/pvkit/domu.cpio.gz"
memory = 256
vcpus = 1
extra = "console=hvc0"
on_poweroff = "destroy"
CFG
cat >"$work/add/etc/pvkit/boot.d/70-pvkit-linux" <<'STEP'
#!/bin/sh
ok() { echo "RESULT $1 ok ${2:-}"; }
fail() { echo "RESULT $1 fail ${2:-}"; }
free_mem() { pvkit info | sed -n 's/^free_memory *: //p'; }
free0=$(free_mem)
echo "--- free memory before: $free0 MiB"
t0=$(date +%s)
if pvkit create linux; then ok pvkit_linux_create "in $(( $(date +%s) - t0 )) s"; else fail pvkit_linux_create; fi
pvkit list
id=$(pvkit list linux 2>/dev/null | awk '$1 == "linux" { print $2 }')
if pvkit list linux | grep -qE "^linux +$id +256 +1 "; then ok pvkit_linux_list; else fail pvkit_linux_list; fi
i=0
until [ "$(xenstore-read /local/domain/$id/control/feature-poweroff 2>/dev/null)" = 1 ] || [ $i -ge 600 ]; do
    sleep 0.1; i=$((i + 1))
done
if [ "$(xenstore-read /local/domain/$id/control/feature-poweroff 2>/dev/null)" = 1 ]; then
    ok pvkit_linux_xenbus "after $((i / 10)) s"
    # its /init must have set poweroff_cmd first (its line in pvkit-consoled's log)
    i=0
    until grep -q 'linux-domu: init reached' /var/log/pvkit/console/linux.log 2>/dev/null || [ $i -ge 900 ]; do
        sleep 0.1; i=$((i + 1))
    done
    if timeout 120 pvkit shutdown -w linux && ! pvkit list linux 2>/dev/null &&
       grep -q "domain $id shut down (poweroff): action destroy" /var/log/pvkit/linux.log; then
        ok pvkit_linux_shutdown
    else
        fail pvkit_linux_shutdown "$(pvkit list linux 2>&1 | tail -1)"
    fi
    cat /var/log/pvkit/linux.log
else
    fail pvkit_linux_xenbus "control/feature-poweroff not written in 60 s; state $(pvkit list linux | tail -1 | awk '{ print $5 }')"
fi
echo "--- console log of linux:"; tail -n 20 /var/log/pvkit/console/linux.log 2>/dev/null
pvkit list linux >/dev/null 2>&1 && pvkit destroy linux
sleep 0.5
if ! pvkit list linux >/dev/null 2>&1 && ! xenstore-exists /local/domain/$id &&
   [ "$(free_mem)" = "$free0" ]; then
    ok pvkit_linux_destroy "free memory back to $free0 MiB"
else
    fail pvkit_linux_destroy "free memory $(free_mem) MiB, was $free0"
fi
STEP
chmod 755 "$work/add/etc/pvkit/boot.d/70-pvkit-linux"
cp "$image" "$work/dom0.cpio.gz"
(cd "$work/add" && find etc usr | cpio -o -H newc -R 0:0 --quiet) | gzip >>"$work/dom0.cpio.gz"

"$build/bin/pvkit-run" --kernel "$kernel" --initrd "$work/dom0.cpio.gz" --mem 512 \
    --cmdline "console=hvc0" --timeout 400 -- -m 1024 </dev/null >"$work/console.log" 2>&1
status=$?
log=$build/dom0/check-dom0-pvkit-linux.log
tr -d '\r' <"$work/console.log" >"$log"

passed=0 failed=0
check() {
    if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $*"; fi
}
has() { grep -qE -- "$1" "$log"; }
check [ "$status" -eq 0 ]
for r in pvkit_linux_create pvkit_linux_list pvkit_linux_xenbus pvkit_linux_shutdown pvkit_linux_destroy; do
    check has "^RESULT $r ok"
done
check bash -c "! grep -q '^RESULT .* fail' '$log'"
grep -E '^RESULT' "$log"
if [ "$failed" -ne 0 ]; then
    echo "--- dom0 console (status $status): $log ---"
    grep -E 'RESULT|dom0:|pvkit|---' "$log" | tail -40
fi
echo "check-dom0-pvkit-linux: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
