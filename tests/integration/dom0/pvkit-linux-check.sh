#!/bin/bash
# Boots pvkit's dom0 image with 1.5 GiB in the machine (dom0 keeps 512 MiB)
# and has the pvkit command create two Linux domUs the way a user would: from
# /etc/pvkit/linux.cfg and /etc/pvkit/linux2.cfg (the same kernel; linux2
# has on_reboot = "restart"), both running at once: Debian's cloud kernel
# as it is shipped (a bzImage with an LZ4 payload, unpacked by pvkit in
# dom0) and a busybox
# initramfs (tools/mkinitramfs) whose /init prints "linux-domu: init
# reached". Checks: create succeeds, `pvkit list` shows the domain with its
# 256 MiB and 1 vCPU, `pvkit destroy` removes it and the hypervisor's free
# memory returns to its figure.
# Both xenbuses must come up through xenstore-lite (each kernel writes
# control/feature-poweroff within 60 s), both consoles reach their logs;
# `pvkit reboot linux2` must make Linux reboot itself and the monitor build
# it again under a new id (its xenbus and /init come up again, in a log that
# now holds two boots); `pvkit mem-set` must make linux's balloon driver
# give memory back and take it again; and `pvkit shutdown -w` must power
# it off cleanly through control/shutdown, the monitor destroying it
# (on_poweroff = "destroy").
# The shutdown part passes when the monitor's log says the domain shut down
# with reason poweroff and was destroyed (its on_poweroff).
#
# Usage: pvkit-linux-check.sh BUILD DOM0_KERNEL DOM0_IMAGE DOMU_KERNEL
set -u
build=$1 kernel=$2 image=$3 domu_kernel=$4
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

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
sed -e 's/^name = .*/name = "linux2"/' "$work/add/etc/pvkit/linux.cfg" >"$work/add/etc/pvkit/linux2.cfg"
echo 'on_reboot = "restart"' >>"$work/add/etc/pvkit/linux2.cfg"
cat >"$work/add/etc/pvkit/boot.d/70-pvkit-linux" <<'STEP'
#!/bin/sh
ok() { echo "RESULT $1 ok ${2:-}"; }
fail() { echo "RESULT $1 fail ${2:-}"; }
free_mem() { pvkit info | sed -n 's/^free_memory *: //p'; }
free0=$(free_mem)
echo "--- free memory before: $free0 MiB"
domid_of() { pvkit list "$1" 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'; }
# wait_xenbus ID: until the domain's kernel writes control/feature-poweroff (60 s)
wait_xenbus() {
    i=0
    until [ "$(xenstore-read /local/domain/$1/control/feature-poweroff 2>/dev/null)" = 1 ] || [ $i -ge 600 ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ "$(xenstore-read /local/domain/$1/control/feature-poweroff 2>/dev/null)" = 1 ]
}
# wait_init NAME COUNT: until NAME's console log holds COUNT "init reached" lines (90 s)
wait_init() {
    i=0
    until [ "$(grep -c 'linux-domu: init reached' /var/log/pvkit/console/$1.log 2>/dev/null)" -ge "$2" ] || [ $i -ge 900 ]; do
        sleep 0.1; i=$((i + 1))
    done
    [ "$(grep -c 'linux-domu: init reached' /var/log/pvkit/console/$1.log 2>/dev/null)" -ge "$2" ]
}
t0=$(date +%s)
if pvkit create linux && pvkit create /etc/pvkit/linux2.cfg; then
    ok pvkit_linux_create "both in $(( $(date +%s) - t0 )) s"
else
    fail pvkit_linux_create
fi
pvkit list
id=$(domid_of linux) id2=$(domid_of linux2)
if pvkit list linux | grep -qE "^linux +$id +256 +1 " && pvkit list | grep -qE "^linux2 +$id2 +256 +1 "; then
    ok pvkit_linux_list
else
    fail pvkit_linux_list
fi
if wait_xenbus "$id" && wait_xenbus "$id2"; then
    ok pvkit_linux_xenbus "both after $(( $(date +%s) - t0 )) s"
    # each /init must have set poweroff_cmd first (its line in pvkit-consoled's log)
    if wait_init linux 1 && wait_init linux2 1; then ok pvkit_linux_consoles; else fail pvkit_linux_consoles; fi
    # mem-set: Linux's balloon driver follows memory/target down and up again
    mem_of() { pvkit list "$1" 2>/dev/null | awk -v n="$1" '$1 == n { print $3 }'; }
    wait_mem() {
        i=0
        until [ "$(mem_of "$1")" = "$2" ] || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done
        [ "$(mem_of "$1")" = "$2" ]
    }
    if pvkit mem-set linux 192m && wait_mem linux 192 &&
       [ "$(xenstore-read /local/domain/$id/memory/target)" = 196608 ] &&
       pvkit mem-set linux 256 && wait_mem linux 256; then
        ok pvkit_linux_memset "ballooned to 192 MiB and back to 256"
    else
        fail pvkit_linux_memset "memory $(mem_of linux) MiB, target $(xenstore-read /local/domain/$id/memory/target)"
    fi
    t1=$(date +%s)
    pvkit reboot linux2 || echo "--- pvkit reboot linux2: status $?"
    i=0
    # one look per round: two (present? new?) could straddle the old domain's
    # destruction and take "gone" for "restarted" (the restart still unpacking
    # the kernel; once seen as a monitor that never restarted)
    id2b=$id2
    until [ -n "$id2b" ] && [ "$id2b" != "$id2" ] || [ $i -ge 900 ]; do
        sleep 0.1; i=$((i + 1)); id2b=$(domid_of linux2)
    done
    if [ -n "$id2b" ] && [ "$id2b" != "$id2" ] && ! xenstore-exists /local/domain/$id2 &&
       wait_xenbus "$id2b" && wait_init linux2 2 &&
       grep -q "domain $id2 shut down (reboot): action restart" /var/log/pvkit/linux2.log; then
        ok pvkit_linux_reboot "domain $id2 restarted as $id2b, up again in $(( $(date +%s) - t1 )) s"
    else
        fail pvkit_linux_reboot "linux2 is domain '${id2b}', was $id2"
        echo "--- control/shutdown of $id2: '$(xenstore-read /local/domain/$id2/control/shutdown 2>&1)'"
        xenstore-ls -f /local/domain/$id2/control
        echo "--- linux2's console:"; tail -n 5 /var/log/pvkit/console/linux2.log
        for p in $(pidof pvkit); do
            echo "--- pvkit process $p: $(tr '\0' ' ' </proc/$p/cmdline) state $(cut -d' ' -f3 /proc/$p/stat) wchan $(cat /proc/$p/wchan)"
        done
    fi
    cat /var/log/pvkit/linux2.log
    if timeout 120 pvkit shutdown -w linux && ! pvkit list linux 2>/dev/null &&
       grep -q "domain $id shut down (poweroff): action destroy" /var/log/pvkit/linux.log; then
        ok pvkit_linux_shutdown
    else
        fail pvkit_linux_shutdown "$(pvkit list linux 2>&1 | tail -1)"
    fi
    cat /var/log/pvkit/linux.log
else
    fail pvkit_linux_xenbus "control/feature-poweroff not written in 60 s; $(pvkit list | tail -n +2 | awk '{ printf "%s %s; ", $1, $5 }')"
fi
for n in linux linux2; do echo "--- console log of $n:"; tail -n 20 /var/log/pvkit/console/$n.log 2>/dev/null; done
pvkit list linux >/dev/null 2>&1 && pvkit destroy linux
id2=$(domid_of linux2)
pvkit destroy linux2
sleep 0.5
if ! pvkit list linux >/dev/null 2>&1 && ! xenstore-exists /local/domain/$id &&
   ! pvkit list linux2 >/dev/null 2>&1 && ! xenstore-exists "/local/domain/${id2:-none}" &&
   [ "$(free_mem)" = "$free0" ]; then
    ok pvkit_linux_destroy "free memory back to $free0 MiB"
else
    fail pvkit_linux_destroy "free memory $(free_mem) MiB, was $free0"
fi
STEP
chmod 755 "$work/add/etc/pvkit/boot.d/70-pvkit-linux"
boot_dom0 check-dom0-pvkit-linux 500 -m 1536
check [ "$status" -eq 0 ]
expect_results pvkit_linux create list xenbus consoles memset reboot shutdown destroy
finish check-dom0-pvkit-linux
