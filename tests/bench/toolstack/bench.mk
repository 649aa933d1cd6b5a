# Make fragment for the toolstack benchmark of issue 14, included by the top-level Makefile
# (which sets BUILD). Only BENCHTS_-prefixed variables.
#
#   make bench-toolstack-xen   the Xen 4.17 + xl column: BENCHTS_RUNS boots (default 3) of
#                              real Xen under QEMU TCG, each creating and destroying the
#                              benchmark domU once alone and then BENCHTS_COUNT (8) of them;
#                              writes build/bench/toolstack/xen.md and xen.tsv
#   make bench-toolstack-pvkit the pvkit column, measured the same way with pvkit's own
#                              toolstack (pvkit, xenstore-lite, pvkit-consoled) in its dom0;
#                              writes build/bench/toolstack/pvkit.md and pvkit.tsv
#   make bench-toolstack       both columns; part of `make bench`
#   make bench-toolstack-domu  the shared domU initramfs (mkdomu), for any column
# BENCHTS_ARGS passes further options to run-column (e.g. --cpu, --machine-mib, --timeout).
# What is measured and how: tests/bench/toolstack/README.md.

BENCHTS_DIR    := tests/bench/toolstack
BENCHTS_OUT    := $(BUILD)/bench/toolstack
BENCHTS_DOMU   := $(BENCHTS_OUT)/domu.cpio.gz
BENCHTS_DOM0   := $(BENCHTS_OUT)/dom0-xen.cpio.gz
BENCHTS_WATCH  := $(BENCHTS_OUT)/tswatch
BENCHTS_RUNS   ?= 3
BENCHTS_COUNT  ?= 8
BENCHTS_ARGS   ?=
# the generic kernel's .deb (its Xen modules go into dom0), as dom0.mk finds it
BENCHTS_KDEB    = $(firstword $(wildcard $(LINUX_BUILD)/debs/linux-image-$(shell readlink $(LINUX_GENERIC) | sed 's/^vmlinuz-//')_*.deb))
BENCHTS_XDEB    = $(firstword $(wildcard $(BUILD)/xen/xen-hypervisor-4.17-amd64_*.deb))

.PHONY: bench-toolstack bench-toolstack-xen bench-toolstack-pvkit bench-toolstack-domu
bench-toolstack: bench-toolstack-pvkit bench-toolstack-xen
bench-toolstack-domu: $(BENCHTS_DOMU)

$(BENCHTS_DOMU): $(BENCHTS_DIR)/mkdomu $(BENCHTS_DIR)/domu-init
	$(BENCHTS_DIR)/mkdomu -o $@

$(BENCHTS_WATCH): $(BENCHTS_DIR)/tswatch.c
	@mkdir -p $(@D)
	gcc -std=c11 -O2 -Wall -Wextra -Werror -static -o $@ $<

$(BENCHTS_DOM0): $(BENCHTS_DIR)/mkdom0-xen $(BENCHTS_DIR)/xen-dom0 $(BENCHTS_DIR)/measure.sh \
                 tools/mkinitramfs $(BENCHTS_WATCH) $(BENCHTS_DOMU) $(LINUX_CLOUD) $(LINUX_GENERIC)
	$(BENCHTS_DIR)/mkdom0-xen -o $@ --debs $(BENCHTS_OUT)/debs --kernel-deb $(BENCHTS_KDEB) \
	    --domu-kernel $(LINUX_CLOUD) --domu-initrd $(BENCHTS_DOMU) --tswatch $(BENCHTS_WATCH)

bench-toolstack-xen: $(BENCHTS_DOM0) $(BUILD)/xen/xen $(LINUX_GENERIC) $(TOOLS_BIN)/pvkit-run
	$(BENCHTS_DIR)/run-column --xen $(BUILD)/xen/xen --dom0-kernel $(LINUX_GENERIC) \
	    --dom0-initrd $(BENCHTS_DOM0) --run $(TOOLS_BIN)/pvkit-run --out $(BENCHTS_OUT) \
	    --runs $(BENCHTS_RUNS) --count $(BENCHTS_COUNT) --xen-deb $(BENCHTS_XDEB) \
	    --kernel-deb $(BENCHTS_KDEB) $(BENCHTS_ARGS)
# pvkit's column: its dom0 image with measure.sh, tswatch, the domU and pvkit-dom0 appended.
BENCHTS_DOM0_PVKIT := $(BENCHTS_OUT)/dom0-pvkit.cpio.gz
$(BENCHTS_DOM0_PVKIT): $(DOM0_IMAGE) $(BENCHTS_DIR)/pvkit-dom0 $(BENCHTS_DIR)/measure.sh \
                       $(BENCHTS_WATCH) $(BENCHTS_DOMU) $(LINUX_CLOUD)
	rm -rf $(BENCHTS_OUT)/pvkit-add && mkdir -p $(BENCHTS_OUT)/pvkit-add/etc/pvkit/boot.d \
	    $(BENCHTS_OUT)/pvkit-add/usr/local/bin $(BENCHTS_OUT)/pvkit-add/srv/bench
	install -m 755 $(BENCHTS_DIR)/pvkit-dom0 $(BENCHTS_OUT)/pvkit-add/etc/pvkit/boot.d/50-bench
	install -m 755 $(BENCHTS_DIR)/measure.sh $(BENCHTS_WATCH) $(BENCHTS_OUT)/pvkit-add/usr/local/bin/
	cp $(LINUX_CLOUD) $(BENCHTS_OUT)/pvkit-add/srv/bench/vmlinuz-cloud
	cp $(BENCHTS_DOMU) $(BENCHTS_OUT)/pvkit-add/srv/bench/domu.cpio.gz
	cp $(DOM0_IMAGE) $@.tmp
	(cd $(BENCHTS_OUT)/pvkit-add && find etc usr srv | cpio -o -H newc -R 0:0 --quiet) | gzip >>$@.tmp
	mv $@.tmp $@

bench-toolstack-pvkit: $(BENCHTS_DOM0_PVKIT) $(BUILD)/pvkit.elf $(LINUX_GENERIC) $(TOOLS_BIN)/pvkit-run
	$(BENCHTS_DIR)/run-column --pvkit $(BUILD)/pvkit.elf --dom0-kernel $(LINUX_GENERIC) \
	    --dom0-initrd $(BENCHTS_DOM0_PVKIT) --run $(TOOLS_BIN)/pvkit-run --out $(BENCHTS_OUT) \
	    --runs $(BENCHTS_RUNS) --count $(BENCHTS_COUNT) --kernel-deb $(BENCHTS_KDEB) $(BENCHTS_ARGS)
bench: bench-toolstack
