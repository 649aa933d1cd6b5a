#!/bin/bash
# A hostile domU against dom0's backends over the real (xen) transport,
# beside a well-behaved Linux domU. pvkit's dom0 image boots with a boot.d
# step that replaces the running pvkit-blkback and pvkit-netback with their
# ASan/UBSan builds (backends/Makefile's $(BUILD)/drivers/san/bin, with
# libasan/libubsan and the other libraries they load copied in, found with
# ldd as tools/mkdom0 does), then:
#   lin:     Debian's cloud kernel, unmodified (xen-blkfront, xen-netfront),
#            disk xvdb and a vif on xenbr0; in a loop it writes a pattern to
#            its disk, reads it back and compares, and pings dom0
#            (169.254.0.1; answered if one of 3 pings is: TCG under load
#            loses a single ping now and then), one "IO lin tick N disk
#            ok|fail ping ok|fail" line per round, the whole time;
#   hostile: hostile_domu.elf (hostile_domu.c) with disks xvda (rw), xvdb
#            (ro) and a vif: it plays a hostile blkfront and netfront and
#            prints "HOSTILE <case> ok|fail" per case, then crashes itself
#            (on_crash = "destroy").
# Pass: every hostile case ok; dom0 saw the drops' error nodes; the Linux
# domU's ticks all ok, before, during and after the hostile run; both san
# daemons still running after the hostile domain died and was destroyed;
# their logs bounded (guest complaints rate-limited); free memory back and
# no backend node or vif left after both domains are destroyed; the
# daemons exit cleanly on SIGTERM (status 0, LeakSanitizer run) and their
# logs hold no sanitizer report.
#
# Usage: pvkit-hostile-io-check.sh BUILD DOM0_KERNEL DOM0_IMAGE DOMU_KERNEL DOMU_DEB
#                                  HOSTILE_ELF SAN_BIN_DIR
set -u
build=$1 kernel=$2 image=$3 domu_kernel=$4 domu_deb=$5 hostile=$6 san=$7
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# The Linux domU's payload: disk and ping rounds until it is destroyed.
cat >"$work/payload" <<'PAYLOAD'
#!/bin/sh
for w in $(cat /proc/cmdline); do case "$w" in io.*=*) eval "${w#io.}" ;; esac; done
wait_for() { i=0; until [ -e "$1" ] || [ $i -ge 200 ]; do sleep 0.1; i=$((i + 1)); done; [ -e "$1" ]; }
echo "linux-domu: init reached"
wait_for /dev/xvdb || echo "IO lin setup fail no xvdb"
wait_for /sys/class/net/eth0 || echo "IO lin setup fail no eth0"
ip link set eth0 up && ip addr add "$addr/16" dev eth0
i=0; until ping -c 1 -W 1 169.254.0.1 >/dev/null 2>&1 || [ $i -ge 30 ]; do i=$((i + 1)); done
dd if=/dev/urandom of=/tmp/pat bs=64k count=4 2>/dev/null
echo "IO lin ready"
n=0
while :; do
    n=$((n + 1)) off=$((n % 64))
    d=fail p=fail
    dd if=/tmp/pat of=/dev/xvdb bs=256k seek=$off conv=fsync 2>/dev/null &&
        echo 3 >/proc/sys/vm/drop_caches &&
        dd if=/dev/xvdb bs=256k skip=$off count=1 2>/dev/null | cmp -s - /tmp/pat && d=ok
    ping -c 3 -W 2 169.254.0.1 >/dev/null 2>&1 && p=ok
    echo "IO lin tick $n disk $d ping $p"
    sleep 0.2
done
PAYLOAD
mkdir -p "$work/add/etc/pvkit/boot.d" "$work/add/usr/lib/pvkit/san"
add_domu check-dom0-pvkit-hostile-io --modules "$domu_deb:xen-blkfront,xen-netfront"
cp "$hostile" "$work/add/usr/lib/pvkit/hostile_domu.elf"
# The sanitizer builds and every library they load, at the same paths.
for b in pvkit-blkback pvkit-netback; do
    [ -x "$san/$b" ] || { echo "check-dom0-pvkit-hostile-io: no $san/$b"; exit 1; }
    cp "$san/$b" "$work/add/usr/lib/pvkit/san/$b"
    for lib in $(ldd "$san/$b" | grep -oE '/[^ ]+\.so[^ ]*'); do
        mkdir -p "$work/add$(dirname "$lib")"
        cp -L "$lib" "$work/add$lib"
    done
done

cat >"$work/add/etc/pvkit/lin.cfg" <<'CFG'
name = "lin"
kernel = "/usr/lib/pvkit/vmlinuz"
ramdisk = "/usr/lib/pvkit/domu.cpio.gz"
memory = 192
extra = "console=hvc0 io.name=lin io.addr=169.254.1.1"
disk = [ 'file:/var/lib/pvkit/lin.img,xvdb,w' ]
vif = [ 'bridge=xenbr0' ]
CFG
cat >"$work/add/etc/pvkit/hostile.cfg" <<'CFG'
# hostile_domu.c: a hostile blkfront and netfront, then a crash
name = "hostile"
kernel = "/usr/lib/pvkit/hostile_domu.elf"
memory = 16
on_crash = "destroy"
disk = [ 'file:/var/lib/pvkit/h.img,xvda,w',
         'format=raw, vdev=xvdb, access=ro, target=/var/lib/pvkit/hro.img' ]
vif = [ 'bridge=xenbr0' ]
CFG

# Runs first: the backends' sanitizer builds take over from the release ones.
cat >"$work/add/etc/pvkit/boot.d/65-san-backends" <<'STEP'
#!/bin/sh
export ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:exitcode=23
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for n in blkback netback; do
    pid=$(pidof pvkit-$n)
    [ -n "$pid" ] && kill "$pid"
    i=0; while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    log=/var/log/pvkit/san-$n.log
    /usr/lib/pvkit/san/pvkit-$n --transport xen >>$log 2>&1 &
    echo $! >/run/pvkit/san-$n.pid
    cp /run/pvkit/san-$n.pid /run/pvkit/$n.pid   # the toolstack's record of the running backend
    i=0
    until grep -q "serving" $log 2>/dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
    grep -q "serving" $log && echo "RESULT san_$n ok pid $(cat /run/pvkit/san-$n.pid)" ||
        echo "RESULT san_$n fail $(tail -n 3 $log | tr '\n' '|')"
done
STEP

cat >"$work/add/etc/pvkit/boot.d/70-pvkit-hostile-io" <<'STEP'
#!/bin/sh
. /usr/lib/pvkit/step-lib.sh
ticks() { clog lin | grep -c '^IO lin tick '; }
# wait_cmd SECONDS CMD...: until CMD succeeds; its status
wait_cmd() {
    t=$(($1 * 10)) i=0; shift
    until "$@" || [ $i -ge $t ]; do sleep 0.1; i=$((i + 1)); done
    "$@"
}
ip addr add 169.254.0.1/16 dev xenbr0
mkimg lin 32
mkimg h 16
mkimg hro 8
free0=$(free_mem)
pvkit create lin && ok pvkit_hostile_lin_create || fail pvkit_hostile_lin_create
lid=$(pvkit list lin | awk '$1 == "lin" { print $2 }')
if wait_cmd 60 sh -c "tr -d '\r' </var/log/pvkit/console/lin.log | grep -q '^IO lin tick 2 '"; then
    ok pvkit_hostile_lin_up "$(clog lin | grep '^IO lin tick 2 ')"
else
    fail pvkit_hostile_lin_up "$(clog lin | tail -n 5 | tr '\n' '|')"
fi
t0=$(ticks)
pvkit dmesg -c >/dev/null
pvkit create hostile && ok pvkit_hostile_create || fail pvkit_hostile_create
hid=$(pvkit list hostile | awk '$1 == "hostile" { print $2 }')
echo "--- hostile domU: $hid, lin: $lid"
if wait_cmd 60 sh -c "[ \"\$(xenstore-read /local/domain/$hid/data/done 2>/dev/null)\" = 1 ]"; then
    ok pvkit_hostile_done
else
    fail pvkit_hostile_done
fi
# The drops' error nodes, where xenbus_dev_fatal would put them.
errs=$(for k in vbd/$hid/51712 vif/$hid/0; do
           xenstore-read /local/domain/0/error/backend/$k/error 2>/dev/null || echo "no error node $k"
       done)
echo "--- error nodes: $errs"
echo "$errs" | grep -q "no error node" && fail pvkit_hostile_error_nodes "$errs" || ok pvkit_hostile_error_nodes
xenstore-write /local/domain/$hid/data/go 1
wait_cmd 30 sh -c "! pvkit list hostile >/dev/null 2>&1"
pvkit dmesg | tr -d '\r' >/tmp/hostile.dmesg
grep "HOSTILE" /tmp/hostile.dmesg | sed 's/^/--- /'
sed -n "s/^(d$hid) HOSTILE \([^ ]*\) \(ok\|fail\)\(.*\)$/RESULT hostile_\1 \2\3/p" /tmp/hostile.dmesg
grep -q "^(d$hid) HOSTILE end 0 failed" /tmp/hostile.dmesg && ok pvkit_hostile_cases ||
    fail pvkit_hostile_cases "$(grep "HOSTILE end" /tmp/hostile.dmesg)"
! pvkit list hostile >/dev/null 2>&1 && grep -q crash /var/log/pvkit/hostile.log &&
    ok pvkit_hostile_crashed_destroyed || fail pvkit_hostile_crashed_destroyed
# The neighbour goes on: three more rounds after the hostile domain is gone.
t1=$(ticks)
wait_cmd 30 sh -c "[ \$(tr -d '\r' </var/log/pvkit/console/lin.log | grep -c '^IO lin tick ') -ge $((t1 + 3)) ]"
t2=$(ticks)
bad=$(clog lin | grep '^IO lin ' | grep -v ' disk ok ping ok$' | grep -v '^IO lin ready' | head -5)
if [ -z "$bad" ] && [ "$t1" -gt "$t0" ] && [ "$t2" -ge $((t1 + 3)) ]; then
    ok pvkit_hostile_neighbour_io "ticks $t0 before, $t1 after the hostile run, $t2 at the end"
else
    fail pvkit_hostile_neighbour_io "ticks $t0/$t1/$t2; $bad"
fi
for n in blkback netback; do
    pid=$(cat /run/pvkit/san-$n.pid)
    kill -0 "$pid" 2>/dev/null && ok pvkit_hostile_${n}_alive || fail pvkit_hostile_${n}_alive
    size=$(wc -c </var/log/pvkit/san-$n.log)
    [ "$size" -le 16384 ] && ok pvkit_hostile_${n}_log_bounded "$size bytes" ||
        fail pvkit_hostile_${n}_log_bounded "$size bytes"
done
pvkit destroy lin
sleep 1
left=$(ls /sys/class/net | grep '^vif'
       for k in vbd vif; do for d in $lid $hid; do
           xenstore-exists /local/domain/0/backend/$k/$d && echo "backend/$k/$d"
       done; done)
if [ -z "$left" ] && [ "$(free_mem)" = "$free0" ]; then
    ok pvkit_hostile_cleanup "free $free0"
else
    fail pvkit_hostile_cleanup "left: $left; free $(free_mem), was $free0"
fi
# Clean exits under the sanitizers (LeakSanitizer runs at exit).
for n in blkback netback; do
    pid=$(cat /run/pvkit/san-$n.pid)
    kill "$pid"
    wait_cmd 20 sh -c "! kill -0 $pid 2>/dev/null"
    log=/var/log/pvkit/san-$n.log
    if kill -0 "$pid" 2>/dev/null; then
        fail pvkit_hostile_${n}_sanitizers "still running after SIGTERM"
    elif grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error|SUMMARY:' $log; then
        fail pvkit_hostile_${n}_sanitizers "$(grep -m3 -E 'Sanitizer|runtime error|SUMMARY' $log | tr '\n' '|')"
    else
        ok pvkit_hostile_${n}_sanitizers
    fi
done
for n in blkback netback; do echo "--- san-$n.log:"; tail -n 12 /var/log/pvkit/san-$n.log; done
echo "--- console of lin:"; clog lin | tail -n 8
STEP
chmod 755 "$work/add/etc/pvkit/boot.d/"*
boot_dom0 check-dom0-pvkit-hostile-io 300 -m 1536
check [ "$status" -eq 0 ]
expect_results "" san_blkback san_netback pvkit_hostile_lin_create pvkit_hostile_lin_up \
    pvkit_hostile_create pvkit_hostile_done pvkit_hostile_error_nodes pvkit_hostile_cases \
    pvkit_hostile_crashed_destroyed pvkit_hostile_neighbour_io pvkit_hostile_blkback_alive \
    pvkit_hostile_netback_alive pvkit_hostile_blkback_log_bounded pvkit_hostile_netback_log_bounded \
    pvkit_hostile_cleanup pvkit_hostile_blkback_sanitizers pvkit_hostile_netback_sanitizers \
    hostile_net-tx-chain-endless
finish check-dom0-pvkit-hostile-io 'Sanitizer|runtime error'
