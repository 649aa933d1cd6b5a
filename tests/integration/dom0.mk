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
#                    serves); part of `make check`
#   make check-dom0-pvkit  boot it with a boot.d step that drives the pvkit
#                    command: read-only verbs, refusals, create/list/pause/
#                    unpause/stats/destroy of a tiny PV domU from
#                    /etc/pvkit/idle.cfg, on_poweroff by the monitor, free
#                    memory back after create/destroy cycles; part of
#                    `make check`
#   make check-dom0-pvkit-linux  pvkit creates a Linux domU (Debian's cloud
#                    bzImage + a busybox initramfs) from a config file,
#                    lists and destroys it (free memory back); shutdown
#                    through xenstore once domU xenbus is served; part of
#                    `make check`

DOM0_DIR     := tests/integration/dom0
DOM0_BUILD   := $(BUILD)/dom0
DOM0_IMAGE   := $(DOM0_BUILD)/dom0.cpio.gz
DOM0_DEB      = $(firstword $(wildcard $(LINUX_BUILD)/debs/linux-image-$(shell readlink $(LINUX_GENERIC) | sed 's/^vmlinuz-//')_*.deb))
DOM0_CMDLINE := console=hvc0
DOM0_MEM     ?= 512

.PHONY: dom0 run-dom0 check-dom0 check-dom0-pvkit check-dom0-pvkit-linux
check: check-dom0 check-dom0-pvkit check-dom0-pvkit-linux

dom0: $(DOM0_IMAGE)

$(DOM0_IMAGE): tools/mkdom0 tools/mkinitramfs $(LINUX_GENERIC) xenstore $(BUILD)/bin/pvkit \
               $(BUILD)/bin/pvkit-consoled
	tools/mkdom0 -o $@ --kernel-deb $(DOM0_DEB) --xenstore-lite $(BUILD)/bin/xenstore-lite \
	    --pvkit $(BUILD)/bin/pvkit --consoled $(BUILD)/bin/pvkit-consoled

run-dom0: $(DOM0_IMAGE) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run
	$(BUILD)/bin/pvkit-run --kernel $(LINUX_GENERIC) --initrd $(DOM0_IMAGE) --mem $(DOM0_MEM) \
	    --cmdline "$(DOM0_CMDLINE) pvkit.after=shell" --timeout 86400

$(DOM0_BUILD)/dom0-selftest: $(DOM0_DIR)/dom0-selftest.c
	@mkdir -p $(@D)
	gcc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $< \
	    -lxengnttab -lxenevtchn -lxencall -lxentoolcore -lxentoollog

check-dom0: $(DOM0_IMAGE) $(DOM0_BUILD)/dom0-selftest $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run
	$(DOM0_DIR)/run-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(DOM0_BUILD)/dom0-selftest

# domU test kernels for the dom0 checks (domu/*.c), built with the PV test
# kernels' framework (tests/guests/guests.mk) but never run on their own:
# they need a dom0 with xenstore-lite and pvkit-consoled.
DOM0_DOMU_ELFS := $(patsubst $(DOM0_DIR)/domu/%.c,$(DOM0_BUILD)/domu/%.elf,$(wildcard $(DOM0_DIR)/domu/*.c))
$(DOM0_BUILD)/domu/%.elf: $(DOM0_DIR)/domu/%.c $(GUEST_LIB_SYSCALL) $(GUEST_EVT_OBJS) $(GUEST_DIR)/lib/guest.ld
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_LIB_SYSCALL) $(GUEST_EVT_OBJS)

# idle_domu (domu/idle_domu.c): a domU that stays up, for check-dom0-pvkit.
DOM0_IDLE_ELF := $(DOM0_BUILD)/domu/idle_domu.elf

check-dom0-pvkit: $(DOM0_IMAGE) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run $(DOM0_IDLE_ELF) \
                  $(BUILD)/guests/hello.elf
	$(DOM0_DIR)/pvkit-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(DOM0_IDLE_ELF) \
	    $(BUILD)/guests/hello.elf

check-dom0-pvkit-linux: $(DOM0_IMAGE) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run $(LINUX_CLOUD)
	$(DOM0_DIR)/pvkit-linux-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(LINUX_CLOUD)
