# Make fragment: pvkit's management domain (issue 13). Included by the
# top-level Makefile after tests/integration/linux.mk (LINUX_* variables).
# Only DOM0_-prefixed variables.
#
#   make dom0        build/dom0/dom0.cpio.gz (tools/mkdom0): Debian's generic
#                    kernel's Xen modules, xenstore-lite, xenstore-utils,
#                    the pvkit command and pvkit-consoled
#   make run-dom0    boot it on pvkit as the privileged initial domain, to a
#                    shell on hvc0 ('exit' powers off)
#   make check-dom0  boot it with the dom0 self-test appended as a boot.d
#                    step (Debian's libxencall/libxenevtchn/libxengnttab
#                    through /dev/xen, xenstore-utils through xenstore-lite,
#                    the kernel's xenbus through the ring xenstore-lite
#                    serves, a domU created at run time served through its
#                    own ring: xs-domu-e2e.c with the xs_domu.c kernel);
#                    part of `make check`
#   make check-dom0-pvkit  boot it with a boot.d step that drives the pvkit
#                    command: read-only verbs, refusals, create/list/pause/
#                    unpause/stats/destroy of a tiny PV domU from
#                    /etc/pvkit/idle.cfg, on_poweroff by the monitor, free
#                    memory back after create/destroy cycles; part of
#                    `make check`
#   make check-dom0-pvkit-linux  pvkit creates a Linux domU (Debian's cloud
#                    bzImage + a busybox initramfs) from a config file,
#                    lists it, shuts it down through xenstore (control/
#                    shutdown, clean poweroff) and checks free memory is
#                    back; part of `make check`
#   make check-dom0-pvkit-boot  a Linux domU booted from its own disk with
#                    bootloader = "pygrub" (pvkit's loader reads grub.cfg
#                    and the kernel from the ext4 partition; the initrd
#                    mounts root=/dev/xvda1 and runs the disk's /sbin/init),
#                    and a disk without grub.cfg refused; part of `make check`
#   make check-dom0-pvkit-hostile-io  a hostile PV domU (hostile_domu.c)
#                    attacks pvkit-blkback and pvkit-netback, sanitizer
#                    builds, beside a Linux domU doing disk I/O and pings;
#                    part of `make check`
#   make check-dom0-pvkit-hotplug  block-/network-attach, -list and -detach
#                    on a running Linux domU (detach under I/O), destroy
#                    under I/O, a killed pvkit-blkback reported and its
#                    devices refused; part of `make check`

DOM0_DIR     := tests/integration/dom0
DOM0_BUILD   := $(BUILD)/dom0
DOM0_IMAGE   := $(DOM0_BUILD)/dom0.cpio.gz
DOM0_DEB      = $(firstword $(wildcard $(LINUX_BUILD)/debs/linux-image-$(shell readlink $(LINUX_GENERIC) | sed 's/^vmlinuz-//')_*.deb))
DOM0_CMDLINE := console=hvc0
DOM0_MEM     ?= 512

.PHONY: dom0 run-dom0 check-dom0 check-dom0-pvkit check-dom0-pvkit-linux check-dom0-pvkit-io \
        check-dom0-pvkit-boot check-dom0-pvkit-hostile-io check-dom0-pvkit-hotplug
check: check-dom0 check-dom0-pvkit check-dom0-pvkit-linux check-dom0-pvkit-io check-dom0-pvkit-boot \
       check-dom0-pvkit-hostile-io check-dom0-pvkit-hotplug

dom0: $(DOM0_IMAGE)

$(DOM0_IMAGE): tools/mkdom0 tools/mkinitramfs $(LINUX_GENERIC) xenstore drivers $(BUILD)/bin/pvkit \
               $(BUILD)/bin/pvkit-consoled $(BUILD)/bin/pvkit-blkback $(BUILD)/bin/pvkit-netback
	tools/mkdom0 -o $@ --kernel-deb $(DOM0_DEB) --xenstore-lite $(BUILD)/bin/xenstore-lite \
	    --pvkit $(BUILD)/bin/pvkit --consoled $(BUILD)/bin/pvkit-consoled \
	    --blkback $(BUILD)/bin/pvkit-blkback --netback $(BUILD)/bin/pvkit-netback

run-dom0: $(DOM0_IMAGE) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run
	$(BUILD)/bin/pvkit-run --kernel $(LINUX_GENERIC) --initrd $(DOM0_IMAGE) --mem $(DOM0_MEM) \
	    --cmdline "$(DOM0_CMDLINE) pvkit.after=shell" --timeout 86400

# The domUs of the checks below, kernels of the test-kernel framework
# (tests/guests/lib): tests/integration/dom0/NAME.c -> $(DOM0_BUILD)/NAME.elf.
DOM0_DOMUS := xs_domu idle_domu hostile_domu
$(DOM0_DOMUS:%=$(DOM0_BUILD)/%.o): $(DOM0_BUILD)/%.o: $(DOM0_DIR)/%.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
$(DOM0_DOMUS:%=$(DOM0_BUILD)/%.elf): $(DOM0_BUILD)/%.elf: $(DOM0_BUILD)/%.o $(GUEST_LIB_SYSCALL) \
    $(GUEST_EVT_OBJS) $(GUEST_DIR)/lib/guest.ld
	$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)
-include $(DOM0_DOMUS:%=$(DOM0_BUILD)/%.d)

$(DOM0_BUILD)/dom0-selftest: $(DOM0_DIR)/dom0-selftest.c
	@mkdir -p $(@D)
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $< \
	    -lxengnttab -lxenevtchn -lxencall -lxentoolcore -lxentoollog

# The XenStore end-to-end check: dom0's toolstack half and the domU it
# creates, a kernel of the test-kernel framework. The toolstack half links
# Debian's shared libraries, which the image holds for xenstore-lite and
# xenstore-utils: statically linked, libxenstore's calls fail once its
# watch thread runs (EINVAL, then EBADF).
$(DOM0_BUILD)/xs-domu-e2e: $(DOM0_DIR)/xs-domu-e2e.c hypervisor/include/public/pvkit.h
	@mkdir -p $(@D)
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -Ihypervisor/include -o $@ $< -lxenstore -lxencall

check-dom0: $(DOM0_IMAGE) $(DOM0_BUILD)/dom0-selftest $(DOM0_BUILD)/xs-domu-e2e \
    $(DOM0_BUILD)/xs_domu.elf $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run
	$(DOM0_DIR)/run-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(DOM0_BUILD)/dom0-selftest \
	    $(DOM0_BUILD)/xs-domu-e2e $(DOM0_BUILD)/xs_domu.elf

# idle_domu: a domU that stays up, for check-dom0-pvkit (the test-kernel framework).
DOM0_IDLE_ELF := $(DOM0_BUILD)/idle_domu.elf

check-dom0-pvkit: $(DOM0_IMAGE) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run $(DOM0_IDLE_ELF) \
                  $(BUILD)/guests/hello.elf $(DOM0_BUILD)/xs_domu.elf
	$(DOM0_DIR)/pvkit-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(DOM0_IDLE_ELF) \
	    $(BUILD)/guests/hello.elf $(DOM0_BUILD)/xs_domu.elf

check-dom0-pvkit-linux: $(DOM0_IMAGE) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run $(LINUX_CLOUD)
	$(DOM0_DIR)/pvkit-linux-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(LINUX_CLOUD)

# Disks and networks: blkback/netback serve two Linux domUs (pvkit-io-check.sh).
DOMU_DEB = $(firstword $(wildcard $(LINUX_BUILD)/debs/linux-image-$(shell readlink $(LINUX_CLOUD) | sed 's/^vmlinuz-//')_*.deb))
DOM0_NETTOOL = $(DOM0_BUILD)/nettool
$(DOM0_NETTOOL): $(DOM0_DIR)/nettool.c
	@mkdir -p $(@D)
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $<
check-dom0-pvkit-io: $(DOM0_IMAGE) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run $(LINUX_CLOUD) $(DOM0_NETTOOL)
	$(DOM0_DIR)/pvkit-io-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(LINUX_CLOUD) $(DOMU_DEB) \
	    $(DOM0_NETTOOL)

# Booting from the guest's disk (bootloader = "pygrub"): pvkit-boot-check.sh.
check-dom0-pvkit-boot: $(DOM0_IMAGE) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run $(LINUX_CLOUD)
	$(DOM0_DIR)/pvkit-boot-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(LINUX_CLOUD) $(DOMU_DEB)

# A hostile blkfront/netfront (hostile_domu.c, the test-kernel framework)
# against the backends' ASan/UBSan builds, beside a busy Linux domU
# (pvkit-hostile-io-check.sh).
DOM0_HOSTILE_ELF := $(DOM0_BUILD)/hostile_domu.elf

check-dom0-pvkit-hostile-io: $(DOM0_IMAGE) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run $(LINUX_CLOUD) \
    $(DOM0_HOSTILE_ELF) $(BUILD)/drivers/san/bin/pvkit-blkback $(BUILD)/drivers/san/bin/pvkit-netback
	$(DOM0_DIR)/pvkit-hostile-io-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(LINUX_CLOUD) \
	    $(DOMU_DEB) $(DOM0_HOSTILE_ELF) $(BUILD)/drivers/san/bin
$(BUILD)/drivers/san/bin/pvkit-blkback $(BUILD)/drivers/san/bin/pvkit-netback: drivers
	$(MAKE) -C backends BUILD=$(BUILD) $@

# Hot-plug and device lifecycle: block-/network-attach, -list, -detach under
# I/O, destroy under I/O, a dead backend refused (pvkit-hotplug-check.sh).
check-dom0-pvkit-hotplug: $(DOM0_IMAGE) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run $(LINUX_CLOUD)
	$(DOM0_DIR)/pvkit-hotplug-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(LINUX_CLOUD) $(DOMU_DEB)
