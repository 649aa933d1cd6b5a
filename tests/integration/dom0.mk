# Make fragment: pvkit's management domain (issue 13). Included by the
# top-level Makefile after tests/integration/linux.mk (LINUX_* variables).
# Only DOM0_-prefixed variables.
#
#   make dom0        build/dom0/dom0.cpio.gz (tools/mkdom0): Debian's generic
#                    kernel's Xen modules, xenstore-lite, xenstore-utils
#   make run-dom0    boot it on pvkit as the privileged initial domain, to a
#                    shell on hvc0 ('exit' powers off)
#   make check-dom0  boot it with the dom0 self-test appended as a boot.d
#                    step (Debian's libxencall/libxenevtchn/libxengnttab
#                    through /dev/xen, xenstore-utils through xenstore-lite,
#                    the kernel's xenbus through the ring xenstore-lite
#                    serves, a domU created at run time served through its
#                    own ring: xs-domu-e2e.c with the xs_domu.c kernel);
#                    part of `make check`

DOM0_DIR     := tests/integration/dom0
DOM0_BUILD   := $(BUILD)/dom0
DOM0_IMAGE   := $(DOM0_BUILD)/dom0.cpio.gz
DOM0_DEB      = $(firstword $(wildcard $(LINUX_BUILD)/debs/linux-image-$(shell readlink $(LINUX_GENERIC) | sed 's/^vmlinuz-//')_*.deb))
DOM0_CMDLINE := console=hvc0
DOM0_MEM     ?= 512

.PHONY: dom0 run-dom0 check-dom0
check: check-dom0

dom0: $(DOM0_IMAGE)

$(DOM0_IMAGE): tools/mkdom0 tools/mkinitramfs $(LINUX_GENERIC) xenstore
	tools/mkdom0 -o $@ --kernel-deb $(DOM0_DEB) --xenstore-lite $(BUILD)/bin/xenstore-lite

run-dom0: $(DOM0_IMAGE) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run
	$(BUILD)/bin/pvkit-run --kernel $(LINUX_GENERIC) --initrd $(DOM0_IMAGE) --mem $(DOM0_MEM) \
	    --cmdline "$(DOM0_CMDLINE) pvkit.after=shell" --timeout 86400

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
$(DOM0_BUILD)/xs_domu.o: $(DOM0_DIR)/xs_domu.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
-include $(DOM0_BUILD)/xs_domu.d
$(DOM0_BUILD)/xs_domu.elf: $(DOM0_BUILD)/xs_domu.o $(GUEST_LIB_SYSCALL) $(GUEST_EVT_OBJS) \
    $(GUEST_DIR)/lib/guest.ld
	$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)

check-dom0: $(DOM0_IMAGE) $(DOM0_BUILD)/dom0-selftest $(DOM0_BUILD)/xs-domu-e2e \
    $(DOM0_BUILD)/xs_domu.elf $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run
	$(DOM0_DIR)/run-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(DOM0_BUILD)/dom0-selftest \
	    $(DOM0_BUILD)/xs-domu-e2e $(DOM0_BUILD)/xs_domu.elf
