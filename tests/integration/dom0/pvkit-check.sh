#!/bin/bash
# Boots pvkit's dom0 image (tools/mkdom0, which holds the pvkit command)
# with a boot.d step that drives the toolstack as a user would:
#   - read-only verbs on dom0 alone: list (xl's columns), list by name and
#     id, list -l, info (free_memory), uptime, top -b, vcpu-list, dmesg,
#     stats; bad arguments (no such domain, destroy 0) get one line;
#   - refusals before anything is built: a missing kernel ("pvkit: /x: No
#     such file or directory"), too many vCPUs, too much memory;
#   - create from /etc/pvkit/idle.cfg named without its path (a tiny PV
#     test kernel that stays up, idle_domu.c here):
#     list shows it with its memory and vCPUs, its xenstore tree is there
#     (name, memory/target, control/shutdown owned by the domain, console),
#     a second create of the same name is refused, pause and unpause show in
#     list's state, stats reads its counters, pvkit-consoled logs its
#     console under its name, dmesg reads the hypervisor's log,
#     mem-set writes memory/target (and refuses more than maxmem), uptime,
#     block-attach and network-attach refuse a 17th disk and a 9th vif
#     with one line, shutdown writes control/shutdown (which idle_domu ignores), destroy
#     removes the domain and its tree, and the hypervisor's free memory
#     returns to its figure;
#   - on_reboot = "restart": reboot -F -w (SCHEDOP_remote_shutdown) and the
#     monitor builds it again under a new id; shutdown -F -w returns once
#     the monitor carried out on_poweroff = "destroy";
#   - on_poweroff = "destroy" carried out by the monitor (the hello test
#     kernel powers off at once), and 20 create/destroy cycles with free
#     memory back to the same figure;
#   - a hostile domU (xs_domu.c with hostile=1, on_crash = "destroy") next
#     to a running idle domU: it writes outside its xenstore subtree,
#     exhausts its node quota, breaks its store ring, floods its console
#     with 512 KiB and crashes itself; its own checks pass, it is
#     destroyed, xenstore-lite and pvkit-consoled still run and serve the
#     idle domU, its console log stays bounded, and free memory returns.
#
# Usage: pvkit-check.sh BUILD KERNEL DOM0_IMAGE IDLE_ELF HELLO_ELF XS_DOMU_ELF
# (IDLE_ELF: idle_domu.elf; HELLO_ELF: tests/guests' hello.elf; XS_DOMU_ELF: xs_domu.elf)
set -u
build=$1 kernel=$2 image=$3 idle=$4 hello=$5 xsdomu=$6
. "$(dirname "$0")/lib.sh"

mkdir -p "$work/add/etc/pvkit/boot.d" "$work/add/usr/lib/pvkit"
cp "$idle" "$work/add/usr/lib/pvkit/idle.elf"
cp "$hello" "$work/add/usr/lib/pvkit/hello.elf"
cp "$xsdomu" "$work/add/usr/lib/pvkit/xs_domu.elf"
cat >"$work/add/etc/pvkit/hostile.cfg" <<'CFG'
# xs_domu attacking the daemons, then crashing itself
name = "xs-domu"
kernel = "/usr/lib/pvkit/xs_domu.elf"
memory = 16
extra = "hostile=1"
on_crash = "destroy"
CFG
cat >"$work/add/etc/pvkit/idle.cfg" <<'CFG'
# a domain that stays up (idle_domu sleeps `wait` seconds)
name = "idle"
kernel = "/usr/lib/pvkit/idle.elf"
memory = 16
vcpus = 1
extra = "wait=600"
on_crash = "destroy"
CFG
cat >"$work/add/etc/pvkit/hello.cfg" <<'CFG'
name = "hello"
kernel = "/usr/lib/pvkit/hello.elf"
memory = 16
on_poweroff = "destroy"
CFG
cat >"$work/add/etc/pvkit/boot.d/60-pvkit" <<'STEP'
#!/bin/sh
ok() { echo "RESULT $1 ok ${2:-}"; }
fail() { echo "RESULT $1 fail ${2:-}"; }
check() { name=$1; shift; if "$@"; then ok "$name"; else fail "$name" "$(cat /tmp/out /tmp/err 2>/dev/null | tr '\n' '|' | cut -c1-300)"; fi; }
run() { "$@" >/tmp/out 2>/tmp/err; }
one_line() { [ "$(wc -l </tmp/err)" -eq 1 ] && grep -qE -- "$1" /tmp/err; }
free_mem() { pvkit info | sed -n 's/^free_memory *: //p'; }
domid_of() { pvkit list "$1" 2>/dev/null | awk -v n="$1" '$1 == n { print $2 }'; }
wait_gone() { i=0; while pvkit list "$1" >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; ! pvkit list "$1" >/dev/null 2>&1; }

echo "--- pvkit list"; pvkit list
check pvkit_list sh -c 'run() { "$@" >/tmp/out 2>/tmp/err; }; run pvkit list &&
    head -1 /tmp/out | grep -q "^Name  *ID   Mem VCPUs.State.Time(s)$" &&
    grep -qE "^Domain-0 +0 +[0-9]+ +1 +r----- +[0-9]+\.[0-9]$" /tmp/out'
check pvkit_list_by_name_and_id sh -c 'pvkit list Domain-0 | grep -q "^Domain-0 " && pvkit list 0 | grep -q "^Domain-0 "'
check pvkit_list_long sh -c 'pvkit list -l | grep -q "\"name\": \"Domain-0\""'
echo "--- pvkit info"; pvkit info
check pvkit_info sh -c 'pvkit info >/tmp/out && grep -qE "^nr_cpus +: [1-9]" /tmp/out &&
    grep -qE "^free_memory +: [0-9]+$" /tmp/out && grep -qE "^xen_version +: " /tmp/out'
check pvkit_uptime sh -c 'pvkit uptime | grep -qE "^Domain-0 +0 +[0-9]+:[0-9]{2}:[0-9]{2}$"'
check pvkit_top_batch sh -c 'pvkit top -b -i 2 -d 0.2 >/tmp/out && [ "$(grep -c "^      NAME  STATE" /tmp/out)" = 2 ] &&
    grep -qE "^ +Domain-0 " /tmp/out'
run pvkit vcpu-list; echo "--- vcpu-list: $(cat /tmp/out /tmp/err | tr '\n' '|')"
run pvkit dmesg; echo "--- dmesg: $(wc -c </tmp/out) bytes, $(cat /tmp/err)"
run pvkit stats 0; echo "--- stats 0: $(head -3 /tmp/out | tr '\n' '|') $(cat /tmp/err)"
run pvkit pause nosuch; check pvkit_no_such_domain one_line '^pvkit: nosuch: no such domain$'
run pvkit destroy 0; check pvkit_destroy_dom0_refused one_line '^pvkit: destroy: domain 0 cannot be destroyed$'

free0=$(free_mem)
echo "--- free memory before creating: $free0 MiB"
run pvkit create -q idle kernel='"/x"'
check pvkit_missing_kernel one_line '^pvkit: /x: No such file or directory$'
run pvkit create -q idle kernel='"/usr/sbin/pvkit"'
check pvkit_not_a_pv_kernel one_line '^pvkit: /usr/sbin/pvkit: an ELF64 kernel without Xen notes \(not a PV kernel\)$'
run pvkit create -q idle vcpus=99
check pvkit_too_many_vcpus one_line '^pvkit: .*vcpus'
run pvkit create -q idle memory=1000000
check pvkit_too_much_memory one_line 'MiB of memory asked, the hypervisor has [0-9]+ MiB free$'

run pvkit create idle; status=$?
cat /tmp/err
check pvkit_create [ "$status" = 0 ]
id=$(domid_of idle)
echo "--- created idle as domain $id"; pvkit list
check pvkit_list_domu sh -c "pvkit list idle | grep -qE '^idle +$id +16 +1 +'"
check pvkit_xenstore_tree sh -c "[ \"\$(xenstore-read /local/domain/$id/name)\" = idle ] &&
    [ \"\$(xenstore-read /local/domain/$id/memory/target)\" = 16384 ] &&
    [ \"\$(xenstore-read /local/domain/$id/domid)\" = $id ] &&
    [ -n \"\$(xenstore-read /local/domain/$id/store/port)\" ] &&
    [ \"\$(xenstore-read /local/domain/$id/console/type)\" = xenconsoled ] &&
    xenstore-ls -p /local/domain/$id/control | grep -qE '^ *shutdown = \"\"[ .]*\\(n$id\\)\$' &&
    xenstore-ls -p /local/domain/$id | grep -qE '^name = \"idle\"[ .]*\\(n0,r$id\\)\$' &&
    xenstore-ls -p /local/domain/$id | grep -qE '^console = \"\"[ .]*\\(n$id,r0\\)\$'"
xenstore-ls -p /local/domain/$id | head -40
run pvkit create -q idle
check pvkit_duplicate_name one_line "^pvkit: idle: a domain with this name exists \\(id $id\\)$"
run pvkit pause idle
check pvkit_pause sh -c "pvkit list idle >/tmp/out; grep -qE '^idle +$id .* --p--- |^idle +$id .* -bp--- ' /tmp/out"
run pvkit unpause idle
check pvkit_unpause sh -c "! pvkit list idle | grep -qE ' [-rb]{2}p--- '"
run pvkit stats idle; cat /tmp/out /tmp/err | head -20
check pvkit_stats_domu sh -c "pvkit stats idle | grep -qE '^  console_io +[1-9]'"
run pvkit vcpu-list idle; cat /tmp/out /tmp/err
# pvkit-consoled took the console over and logs it under the domain's name
# (idle_domu writes with console_io, not to its ring: the log stays empty)
i=0
until [ -e /var/log/pvkit/console/idle.log ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
echo "--- consoled: $(tr '\n' '|' </var/log/pvkit/consoled.log)"; ls -l /var/log/pvkit/console
check pvkit_console_log [ -e /var/log/pvkit/console/idle.log ]
run pvkit console nosuch
check pvkit_console_no_such_domain one_line '^pvkit: nosuch: no such domain$'
run pvkit dmesg
check pvkit_dmesg grep -q '(pvkit) d'"$id"': ' /tmp/out
run pvkit dmesg -c
run pvkit dmesg
check pvkit_dmesg_clear sh -c "! grep -q '(pvkit) d$id: ' /tmp/out"
run pvkit mem-set idle 8
check pvkit_mem_set sh -c "[ \"\$(xenstore-read /local/domain/$id/memory/target)\" = 8192 ]"
run pvkit mem-set idle 64
check pvkit_mem_set_above_max one_line "^pvkit: mem-set: domain $id: 65536 KiB is above its maximum of 16384 KiB\$"
run pvkit uptime idle
check pvkit_uptime_domu grep -qE "^idle +$id +0:0[0-9]:[0-9]{2}\$" /tmp/out
# attach limits: 16 disks and 8 interfaces, the next one refused with one line
# (idle_domu has no frontends: its devices wait, and destroy removes them)
dd if=/dev/zero of=/tmp/disk.img bs=64k count=1 2>/dev/null
i=0
for v in a b c d e f g h i j k l m n o p; do
    pvkit block-attach idle /tmp/disk.img,raw,xvd$v,w >/dev/null 2>&1 && i=$((i + 1))
done
run pvkit block-attach idle /tmp/disk.img,raw,xvdq,w
check pvkit_block_attach_limit sh -c "[ $i = 16 ] && [ \"\$(wc -l </tmp/err)\" = 1 ] &&
    grep -q '^pvkit: block-attach: idle: has 16 disks, the most a domain may have\$' /tmp/err"
i=0
while [ $i -lt 8 ] && pvkit network-attach idle >/dev/null 2>&1; do i=$((i + 1)); done
run pvkit network-attach idle
check pvkit_network_attach_limit sh -c "[ $i = 8 ] && [ \"\$(wc -l </tmp/err)\" = 1 ] &&
    grep -q '^pvkit: network-attach: idle: has 8 interfaces, the most a domain may have\$' /tmp/err"
# idle_domu ignores control/shutdown: the request is written, the domain stays
run pvkit shutdown idle
check pvkit_shutdown_request sh -c "[ \"\$(xenstore-read /local/domain/$id/control/shutdown)\" = poweroff ] &&
    sleep 1 && pvkit list idle >/dev/null"
run pvkit destroy idle
check pvkit_destroy sh -c "! pvkit list idle 2>/dev/null && ! xenstore-exists /local/domain/$id"
sleep 0.5
check pvkit_free_memory_back sh -c "[ \"$(free_mem)\" = \"$free0\" ]"
echo "--- free memory after destroy: $(free_mem) MiB"

# on_reboot = "restart" (the default): reboot -F (SCHEDOP_remote_shutdown,
# as idle_domu has no control/feature-reboot) and the monitor builds it again
run pvkit create -q idle
id=$(domid_of idle)
run pvkit reboot -F -w idle
i=0
while [ -z "$(domid_of idle)" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
id2=$(domid_of idle)
echo "--- reboot: idle was $id, is now ${id2:-gone}"; cat /var/log/pvkit/idle.log
check pvkit_reboot_restart sh -c "[ -n \"$id2\" ] && [ \"$id2\" != \"$id\" ] &&
    pvkit list idle | grep -qE '^idle +$id2 +16 +1 ' && xenstore-read /local/domain/$id2/name >/dev/null &&
    ! xenstore-exists /local/domain/$id"
# on_poweroff = "destroy": shutdown -F -w returns once the monitor destroyed it
run pvkit shutdown -F -w idle
check pvkit_shutdown_wait sh -c "! pvkit list idle 2>/dev/null && ! xenstore-exists /local/domain/$id2"
sleep 0.5
check pvkit_free_memory_back_after_restart sh -c "[ \"$(free_mem)\" = \"$free0\" ]"

run pvkit create -q hello
check pvkit_on_poweroff_destroy wait_gone hello
cat /var/log/pvkit/hello.log
i=0
while [ $i -lt 20 ]; do
    pvkit create -q idle && pvkit destroy idle || break
    i=$((i + 1))
done
check pvkit_create_destroy_cycles sh -c "[ $i = 20 ] && [ \"$(free_mem)\" = \"$free0\" ]"
echo "--- free memory after 20 cycles: $(free_mem) MiB (before: $free0)"

# A hostile domU beside a running one.
pvkit create -q idle
idleid=$(domid_of idle)
pvkit dmesg -c >/dev/null
run pvkit create hostile
hid=$(domid_of xs-domu)
echo "--- hostile domU: $hid (idle: $idleid)"
i=0 # it waits for dom0's write to fire its watch (as xs-domu-e2e does in check-dom0)
until [ "$(xenstore-read /local/domain/$hid/data/ready 2>/dev/null)" = 1 ] || [ $i -ge 300 ]; do
    sleep 0.1; i=$((i + 1))
done
xenstore-write /local/domain/$hid/data/go from-dom0
i=0
while pvkit list xs-domu >/dev/null 2>&1 && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
pvkit dmesg >/tmp/hostile.dmesg
grep -E "^\(d$hid\) (FAIL|[0-9]+ passed)|flooded" /tmp/hostile.dmesg | head -10
check pvkit_hostile_own_checks grep -qE "^\(d$hid\) [0-9]+ passed, 0 failed" /tmp/hostile.dmesg
check pvkit_hostile_crashed_destroyed sh -c "! pvkit list xs-domu 2>/dev/null && grep -q crash /var/log/pvkit/xs-domu.log"
check pvkit_hostile_daemons_alive sh -c "pidof xenstore-lite >/dev/null && pidof pvkit-consoled >/dev/null"
check pvkit_hostile_neighbour_fine sh -c "pvkit list idle | grep -qE '^idle +$idleid ' &&
    [ \"\$(xenstore-read /local/domain/$idleid/name)\" = idle ]"
size=$(wc -c </var/log/pvkit/console/xs-domu.log 2>/dev/null || echo 0)
echo "--- hostile console log: $size bytes"
check pvkit_hostile_console_logged sh -c "[ $size -gt 100000 ] && [ $size -le 1048576 ] &&
    grep -q 'flooding the console' /var/log/pvkit/console/xs-domu.log"
pvkit destroy idle
check pvkit_hostile_free_memory_back sh -c "[ \"$(free_mem)\" = \"$free0\" ]"
STEP
chmod 755 "$work/add/etc/pvkit/boot.d/60-pvkit"
boot_dom0 check-dom0-pvkit 300
check [ "$status" -eq 0 ]
check has '^dom0: ready \(control_d\)'
for r in pvkit_list pvkit_list_by_name_and_id pvkit_list_long pvkit_info pvkit_uptime pvkit_top_batch \
         pvkit_no_such_domain pvkit_destroy_dom0_refused pvkit_missing_kernel pvkit_not_a_pv_kernel \
         pvkit_too_many_vcpus \
         pvkit_too_much_memory; do
    check has "^RESULT $r ok"
done
for r in pvkit_create pvkit_list_domu pvkit_xenstore_tree pvkit_duplicate_name pvkit_pause \
         pvkit_unpause pvkit_stats_domu pvkit_console_log pvkit_console_no_such_domain pvkit_dmesg pvkit_dmesg_clear pvkit_mem_set pvkit_mem_set_above_max \
         pvkit_uptime_domu pvkit_block_attach_limit pvkit_network_attach_limit \
         pvkit_shutdown_request pvkit_destroy pvkit_free_memory_back \
         pvkit_reboot_restart pvkit_shutdown_wait pvkit_free_memory_back_after_restart \
         pvkit_on_poweroff_destroy pvkit_create_destroy_cycles pvkit_hostile_own_checks \
         pvkit_hostile_crashed_destroyed pvkit_hostile_daemons_alive \
         pvkit_hostile_neighbour_fine pvkit_hostile_console_logged \
         pvkit_hostile_free_memory_back; do
    check has "^RESULT $r ok"
done
check bash -c "! grep -q '^RESULT .* fail' '$log'"
finish check-dom0-pvkit
