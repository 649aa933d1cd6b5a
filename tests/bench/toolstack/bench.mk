# Make fragment for the toolstack benchmark of issue 14, included by the top-level Makefile
# (which sets BUILD). Only BENCHTS_-prefixed variables.
#
#   make bench-toolstack-xen   the Xen 4.17 + xl column: BENCHTS_RUNS boots (default 3) of
#                              real Xen under QEMU TCG, each creating and destroying the
#                              benchmark domU once alone and then BENCHTS_COUNT (8) of them;
#                              writes build/bench/toolstack/xen.md and xen.tsv
#   make bench-toolstack       every column there is (so far only Xen's); part of `make bench`
#   make bench-toolstack-domu  the shared domU initramfs (mkdomu), for any column
# BENCHTS_ARGS passes further options to run-xen (e.g. --cpu, --machine-mib, --timeout).
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

.PHONY: bench-toolstack bench-toolstack-xen bench-toolstack-domu
bench-toolstack: bench-toolstack-xen
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
	$(BENCHTS_DIR)/run-xen --xen $(BUILD)/xen/xen --dom0-kernel $(LINUX_GENERIC) \
	    --dom0-initrd $(BENCHTS_DOM0) --run $(TOOLS_BIN)/pvkit-run --out $(BENCHTS_OUT) \
	    --runs $(BENCHTS_RUNS) --count $(BENCHTS_COUNT) --xen-deb $(BENCHTS_XDEB) \
	    --kernel-deb $(BENCHTS_KDEB) $(BENCHTS_ARGS)
bench: bench-toolstack
