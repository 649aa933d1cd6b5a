#!/bin/bash
# Command-line tests of the pvkit command built for the host under ASan and
# UBSan (no hypervisor here): every bad argument and bad config gets one
# line on stderr and status 1; `create -n` (the dry run) reads a config and
# its KEY=VALUE overrides as `create` does; a verb that needs the
# hypervisor says in one line that privcmd is missing.
# With BOOTIMG (mkbootimages.sh's directory), `create -n` with
# bootloader = "pygrub" shows what the loader chose from the disk, and a
# disk without a boot config is refused in one line.
# Usage: cli-test.sh PVKIT [BOOTIMG]
set -u
pvkit=$1 bootimg=${2:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# expect STATUS STDERR-LINE CMD...: runs CMD, checks its status and that
# stderr is exactly the one line given (or, with STDERR-LINE ~REGEX, one
# line matching it).
expect() {
    local status=$1 want=$2; shift 2
    "$@" >"$work/out" 2>"$work/err"
    local got=$? lines
    lines=$(wc -l <"$work/err")
    local ok=1
    [ "$got" -eq "$status" ] || ok=0
    if [ "${want:0:1}" = "~" ]; then
        [ "$lines" -eq 1 ] && grep -qE -- "${want:1}" "$work/err" || ok=0
    elif [ -n "$want" ]; then
        [ "$(cat "$work/err")" = "$want" ] || ok=0
    else
        [ "$lines" -eq 0 ] || ok=0
    fi
    if [ $ok = 1 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $* -> status $got (want $status), stderr:"; sed 's/^/    /' "$work/err"
        echo "    want: $want"
    fi
}

cat >"$work/web.cfg" <<'CFG'
# a PV domain
name = "web"
kernel = "/boot/vmlinuz-test"
ramdisk = "/boot/initrd-test"
memory = 256
vcpus = 2
extra = "console=hvc0"
on_reboot = "restart"
CFG
printf 'name = "bad"\nmemory = [1\n' >"$work/syntax.cfg"
printf 'name = "x"\nkernel = "/k"\nvcpus = 99\n' >"$work/vcpus.cfg"
printf 'name = "x"\nkernel = "/k"\nbogus = 1\n' >"$work/unknown.cfg"

expect 1 "pvkit: missing verb (usage: pvkit VERB [ARGS]; pvkit help lists the verbs)" "$pvkit"
expect 0 "" "$pvkit" help
expect 0 "" "$pvkit" help create
expect 0 "" "$pvkit" destroy --help
expect 1 "pvkit: frob: no such verb (pvkit help lists them)" "$pvkit" frob
expect 1 "pvkit: help: frob: no such verb (pvkit help lists them)" "$pvkit" help frob
expect 1 "pvkit: destroy: missing argument (usage: pvkit destroy DOMAIN)" "$pvkit" destroy
expect 1 "pvkit: pause: too many arguments (usage: pvkit pause DOMAIN)" "$pvkit" pause a b
expect 1 "pvkit: list: unknown option -q (usage: pvkit list [-l] [DOMAIN ...])" "$pvkit" list -q
expect 1 "pvkit: top: -i needs a value" "$pvkit" top -i
expect 1 "pvkit: create: missing argument (usage: pvkit create [-c] [-n] [-q] CONFIG [KEY=VALUE ...])" "$pvkit" create
expect 1 "~^pvkit: cannot open the hypervisor interface \(/dev/xen/privcmd\): " "$pvkit" list
expect 1 "~^pvkit: cannot open the hypervisor interface" "$pvkit" destroy web
expect 1 "~^pvkit: cannot open the hypervisor interface" "$pvkit" info

# create: config files, overrides, errors before anything is built
expect 0 "" "$pvkit" create -q -n "$work/web.cfg"
grep -qx 'memory: 256 MiB' "$work/out" && grep -qx 'cmdline: console=hvc0' "$work/out" &&
    grep -qx 'on_reboot: restart' "$work/out" && grep -qx 'vcpus: 2' "$work/out" &&
    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: dry run output"; cat "$work/out"; }
expect 0 "" "$pvkit" create -q -n "$work/web.cfg" memory=512 'name="web2"' 'extra+=" quiet"'
grep -qx 'memory: 512 MiB' "$work/out" && grep -qx 'name: web2' "$work/out" &&
    grep -qx 'cmdline: console=hvc0 quiet' "$work/out" &&
    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: overrides"; cat "$work/out"; }
(cd "$work" && expect 0 "" "$pvkit" create -q -n web.cfg)   # found in the current directory
expect 0 "Parsing config from $work/web.cfg" "$pvkit" create -n "$work/web.cfg"
expect 1 "pvkit: $work/none.cfg: No such file or directory" "$pvkit" create -q "$work/none.cfg"
expect 1 "pvkit: nosuchcfg: No such file or directory" "$pvkit" create -q nosuchcfg
expect 1 "~^pvkit: $work/syntax.cfg:3: config parsing error" "$pvkit" create -q "$work/syntax.cfg"
expect 1 "~^pvkit: $work/vcpus.cfg:3: vcpus: " "$pvkit" create -q -n "$work/vcpus.cfg"
expect 1 "pvkit: create: memory: not KEY=VALUE" "$pvkit" create -q -n "$work/web.cfg" memory
expect 1 "~^pvkit: command line:1: memory: " "$pvkit" create -q -n "$work/web.cfg" memory='"lots"'
expect 0 "~^pvkit: warning: $work/unknown.cfg:3: bogus: " "$pvkit" create -q -n "$work/unknown.cfg"
# without -n, still refused before the hypervisor is asked
expect 1 "~^pvkit: $work/vcpus.cfg:3: vcpus: " "$pvkit" create -q "$work/vcpus.cfg"

if [ -n "$bootimg" ]; then
    printf 'name = "g"\nbootloader = "/usr/lib/xen/bin/pygrub"\nextra = "console=hvc0"\n' >"$work/g.cfg"
    expect 0 "" "$pvkit" create -q -n "$work/g.cfg" "disk=['file:$bootimg/disk-mbr.img,xvda,w']"
    grep -qx "bootloader: /usr/lib/xen/bin/pygrub: $bootimg/disk-mbr.img partition 1, /boot/grub/grub.cfg, entry \"Debian GNU/Linux\"" "$work/out" &&
        grep -qx "kernel: $bootimg/disk-mbr.img:/vmlinuz (700000 bytes)" "$work/out" &&
        grep -qx "ramdisk: $bootimg/disk-mbr.img:/initrd.img (1300001 bytes)" "$work/out" &&
        grep -qx 'cmdline: root=/dev/xvda1 ro quiet console=hvc0' "$work/out" &&
        passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: bootloader dry run"; cat "$work/out"; }
    expect 0 "" "$pvkit" create -q -n "$work/g.cfg" "disk=['$bootimg/ext2.img,,xvda']" \
        "bootloader_args=['--entry=old']"
    grep -qx 'cmdline: root=/dev/xvda1 ro quoted arg console=hvc0' "$work/out" &&
        passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: bootloader --entry"; cat "$work/out"; }
    expect 1 "pvkit: $bootimg/noconfig.img: ext4: no boot config (/boot/grub/grub.cfg, extlinux.conf, ...)" \
        "$pvkit" create -q -n "$work/g.cfg" "disk=['$bootimg/noconfig.img,,xvda']"
    expect 1 "pvkit: $bootimg/deep.img: ext4: inode 30: extent tree deeper than 5 levels" \
        "$pvkit" create -q -n "$work/g.cfg" "disk=['$bootimg/deep.img,,xvda']" 'bootloader_args=["--entry=0"]'
fi
# the device verbs: usage errors, then the spec, the image file and the
# detach argument, all checked before the hypervisor is asked
: >"$work/disk.img"
expect 0 "" "$pvkit" help block-attach
expect 0 "" "$pvkit" network-detach --help
expect 1 "pvkit: block-attach: missing argument (usage: pvkit block-attach DOMAIN DISKSPEC...)" \
    "$pvkit" block-attach web
expect 1 "pvkit: block-attach: unknown option -f (usage: pvkit block-attach DOMAIN DISKSPEC...)" \
    "$pvkit" block-attach -f web "$work/disk.img,raw,xvdb"
expect 1 "pvkit: block-attach: $work/none.img: No such file or directory" \
    "$pvkit" block-attach web "$work/none.img,raw,xvdb,w"
expect 1 "pvkit: block-attach: $work/none.img: No such file or directory" \
    "$pvkit" block-attach web "file:$work/none.img" xvdb w      # words joined with commas
expect 1 "pvkit: block-attach: $work: not a regular file or block device" \
    "$pvkit" block-attach web "format=raw, vdev=xvdb, access=ro, target=$work"
expect 1 'pvkit: block-attach: vdev "xvd1" is not xvdX, hdX or sdX' \
    "$pvkit" block-attach web "$work/disk.img" raw xvd1
expect 1 "pvkit: block-attach: no vdev (xvda, ...)" "$pvkit" block-attach web "$work/disk.img"
expect 1 "pvkit: block-attach: format qcow2: pvkit's blkback serves raw images only" \
    "$pvkit" block-attach web "$work/disk.img,qcow2,xvdb"
expect 1 'pvkit: block-attach: access "x" is not ro or rw' \
    "$pvkit" block-attach web "$work/disk.img,raw,xvdb,x"
expect 1 'pvkit: block-attach: unknown parameter "colo-port"' \
    "$pvkit" block-attach web "$work/disk.img,raw,xvdb" colo-port=9000
expect 1 "~^pvkit: cannot open the hypervisor interface" \
    "$pvkit" block-attach web "$work/disk.img,raw,xvdb,w"
expect 1 "pvkit: block-detach: missing argument (usage: pvkit block-detach [-f] DOMAIN DEVID|VDEV)" \
    "$pvkit" block-detach web
expect 1 "pvkit: block-detach: too many arguments (usage: pvkit block-detach [-f] DOMAIN DEVID|VDEV)" \
    "$pvkit" block-detach web xvdb xvdc
expect 1 "pvkit: block-detach: unknown option -w (usage: pvkit block-detach [-f] DOMAIN DEVID|VDEV)" \
    "$pvkit" block-detach -w web xvdb
expect 1 "pvkit: block-detach: eth0: not a device id or vdev (xvdb, 51728)" "$pvkit" block-detach web eth0
expect 1 "pvkit: block-detach: hde: not a device id or vdev (xvdb, 51728)" "$pvkit" block-detach -f web hde
expect 1 "~^pvkit: cannot open the hypervisor interface" "$pvkit" block-detach -f web 51728
expect 1 "pvkit: block-list: missing argument (usage: pvkit block-list DOMAIN...)" "$pvkit" block-list
expect 1 "pvkit: block-list: unknown option -l (usage: pvkit block-list DOMAIN...)" "$pvkit" block-list -l web
expect 1 "~^pvkit: cannot open the hypervisor interface" "$pvkit" block-list web
expect 1 "pvkit: network-attach: missing argument (usage: pvkit network-attach DOMAIN [KEY=VALUE ...])" \
    "$pvkit" network-attach
expect 1 'pvkit: network-attach: mac "00:16:3e:zz:00:01" is not xx:xx:xx:xx:xx:xx' \
    "$pvkit" network-attach web mac=00:16:3e:zz:00:01
expect 1 "pvkit: network-attach: mac 01:16:3e:00:00:01 is a multicast address" \
    "$pvkit" network-attach web bridge=xenbr0 mac=01:16:3e:00:00:01
expect 1 'pvkit: network-attach: "xenbr0" is not KEY=VALUE' "$pvkit" network-attach web xenbr0
expect 1 "pvkit: network-attach: backend 3: pvkit's backends run in domain 0" \
    "$pvkit" network-attach web backend=3
expect 1 "~^pvkit: cannot open the hypervisor interface" "$pvkit" network-attach web bridge=xenbr0
"$pvkit" network-attach web model=e1000 bridge=xenbr0 >/dev/null 2>"$work/err"
[ "$(head -1 "$work/err")" = "pvkit: warning: network-attach: model is ignored by pvkit" ] &&
    passed=$((passed + 1)) || { failed=$((failed + 1)); echo "FAIL: network-attach warning"; cat "$work/err"; }
expect 1 "pvkit: network-detach: missing argument (usage: pvkit network-detach DOMAIN DEVID|MAC)" \
    "$pvkit" network-detach web
expect 1 "pvkit: network-detach: too many arguments (usage: pvkit network-detach DOMAIN DEVID|MAC)" \
    "$pvkit" network-detach web 0 1
expect 1 "pvkit: network-detach: 00:16:3e:00:01: not a device id or MAC address" \
    "$pvkit" network-detach web 00:16:3e:00:01
expect 1 "pvkit: network-detach: eth0: not a device id or MAC address" "$pvkit" network-detach web eth0
expect 1 "~^pvkit: cannot open the hypervisor interface" "$pvkit" network-detach web 00:16:3E:00:00:01
expect 1 "pvkit: network-list: missing argument (usage: pvkit network-list DOMAIN...)" "$pvkit" network-list
expect 1 "~^pvkit: cannot open the hypervisor interface" "$pvkit" network-list web web2
[ ! -s "$work/out" ] && passed=$((passed + 1)) ||
    { failed=$((failed + 1)); echo "FAIL: network-list printed before failing"; cat "$work/out"; }

echo "cli-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
