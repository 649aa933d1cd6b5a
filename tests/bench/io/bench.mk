# Make fragment for the I/O benchmark, included by the top-level Makefile (which sets
# BUILD and the LINUX_*/DOM0_* variables). Only BENCHIO_-prefixed variables.
#
#   make bench-io        both columns back to back (pvkit, then Xen 4.17), then
#                        docs/bench/io.md and docs/bench/io.png
#   make bench-io-pvkit  the pvkit column alone -> build/bench/io/pvkit.tsv
#   make bench-io-xen    the Xen 4.17 column alone -> build/bench/io/xen.tsv
#   make bench-io-report the report from whatever columns exist
#   make bench-io-variants  one boot of BENCHIO_VCOL (pvkit or xen), one domU per line of
#                        BENCHIO_VARIANTS (default tests/bench/io/variants: configurations
#                        compared inside one boot) -> build/bench/io/variants-COL/
# BENCHIO_RUNS (boots per column, default 1), BENCHIO_SECS (seconds per measurement,
# default 8), BENCHIO_ARGS (more run-column options). What and how: tests/bench/io/README.md.

BENCHIO_DIR   := tests/bench/io
BENCHIO_OUT   := $(BUILD)/bench/io
BENCHIO_DOMU  := $(BENCHIO_OUT)/domu.cpio.gz
BENCHIO_RUNS  ?= 1
BENCHIO_SECS  ?= 8
BENCHIO_ARGS  ?=
BENCHIO_CDEB   = $(firstword $(wildcard $(LINUX_BUILD)/debs/linux-image-$(shell readlink $(LINUX_CLOUD) | sed 's/^vmlinuz-//')_*.deb))
BENCHIO_GDEB   = $(firstword $(wildcard $(LINUX_BUILD)/debs/linux-image-$(shell readlink $(LINUX_GENERIC) | sed 's/^vmlinuz-//')_*.deb))
BENCHIO_COL    = --dom0-kernel $(LINUX_GENERIC) --run $(TOOLS_BIN)/pvkit-run --out $(BENCHIO_OUT) \
                 --runs $(BENCHIO_RUNS) --secs $(BENCHIO_SECS) $(BENCHIO_ARGS)

BENCHIO_PVKIT_RUN = $(BENCHIO_DIR)/run-column --pvkit $(BUILD)/pvkit.elf --dom0-initrd $(BENCHIO_DOM0_PVKIT) $(BENCHIO_COL)
BENCHIO_XEN_RUN   = $(BENCHIO_DIR)/run-column --xen $(BUILD)/xen/xen --dom0-initrd $(BENCHIO_DOM0_XEN) $(BENCHIO_COL)

.PHONY: bench-io bench-io-pvkit bench-io-xen bench-io-report bench-io-variants

$(BENCHIO_DOMU): $(BENCHIO_DIR)/mkdomu $(BENCHIO_DIR)/stage-tools $(BENCHIO_DIR)/domu-io \
                 $(BENCHIO_DIR)/iob-fio $(BENCHIO_DIR)/iob-net tools/mkinitramfs $(LINUX_CLOUD)
	@mkdir -p $(@D)
	$(BENCHIO_DIR)/mkdomu -o $@ --kernel-deb $(BENCHIO_CDEB)

# pvkit's column: its dom0 image with fio, iperf3, measure.sh, the domU and pvkit-dom0 appended.
BENCHIO_DOM0_PVKIT := $(BENCHIO_OUT)/dom0-pvkit.cpio.gz
$(BENCHIO_DOM0_PVKIT): $(DOM0_IMAGE) $(BENCHIO_DIR)/pvkit-dom0 $(BENCHIO_DIR)/measure.sh $(BENCHIO_DOMU) $(LINUX_CLOUD)
	rm -rf $(BENCHIO_OUT)/pvkit-add
	$(BENCHIO_DIR)/stage-tools $(BENCHIO_OUT)/pvkit-add
	mkdir -p $(BENCHIO_OUT)/pvkit-add/etc/pvkit/boot.d $(BENCHIO_OUT)/pvkit-add/srv/iobench
	install -m 755 $(BENCHIO_DIR)/pvkit-dom0 $(BENCHIO_OUT)/pvkit-add/etc/pvkit/boot.d/50-bench-io
	install -m 755 $(BENCHIO_DIR)/measure.sh $(BENCHIO_OUT)/pvkit-add/usr/local/bin/
	cp -L $(LINUX_CLOUD) $(BENCHIO_OUT)/pvkit-add/srv/iobench/vmlinuz-cloud
	cp $(BENCHIO_DOMU) $(BENCHIO_OUT)/pvkit-add/srv/iobench/domu.cpio.gz
	cp $(DOM0_IMAGE) $@.tmp
	(cd $(BENCHIO_OUT)/pvkit-add && find . -mindepth 1 | sed 's#^\./##' | cpio -o -H newc -R 0:0 --quiet) | gzip >>$@.tmp
	mv $@.tmp $@

bench-io-pvkit: $(BENCHIO_DOM0_PVKIT) $(BUILD)/pvkit.elf $(LINUX_GENERIC) $(TOOLS_BIN)/pvkit-run
	$(BENCHIO_PVKIT_RUN)

# Xen's column: a copy of /work/shared/xen-io-reference's build (mkdom0-xen): Debian's
# Xen 4.17 user space, Linux's own backends and hotplug scripts, the same domU and measure.sh.
BENCHIO_DOM0_XEN := $(BENCHIO_OUT)/dom0-xen.cpio.gz
$(BENCHIO_DOM0_XEN): $(BENCHIO_DIR)/mkdom0-xen $(BENCHIO_DIR)/xen-dom0-init $(BENCHIO_DIR)/measure.sh \
                     $(BENCHIO_DIR)/stage-tools $(BENCHIO_DOMU) $(LINUX_CLOUD) $(LINUX_GENERIC)
	$(BENCHIO_DIR)/mkdom0-xen -o $@ --work $(BENCHIO_OUT)/xen-work --kernel-deb $(BENCHIO_GDEB) \
	    --domu-kernel $(LINUX_CLOUD) --domu-initrd $(BENCHIO_DOMU)

bench-io-xen: $(BENCHIO_DOM0_XEN) $(BUILD)/xen/xen $(LINUX_GENERIC) $(TOOLS_BIN)/pvkit-run
	$(BENCHIO_XEN_RUN)

# Both columns back to back under one hold of the QEMU lock (nobody else's QEMU between them).
# (After the image variables: a rule's prerequisites are expanded when make reads it.)
bench-io: $(BENCHIO_DOM0_PVKIT) $(BENCHIO_DOM0_XEN) $(BUILD)/pvkit.elf $(BUILD)/xen/xen $(LINUX_GENERIC) $(TOOLS_BIN)/pvkit-run
	flock /tmp/qemu.lock env BENCHIO_HAVE_LOCK=1 sh -c '$(BENCHIO_PVKIT_RUN); $(BENCHIO_XEN_RUN)'
	$(MAKE) bench-io-report

bench-io-report:
	$(BENCHIO_DIR)/summarize --report docs/bench/io.md --png docs/bench/io.png \
	    --pvkit $(BENCHIO_OUT)/pvkit.tsv --xen $(BENCHIO_OUT)/xen.tsv \
	    --command "make bench-io BENCHIO_RUNS=$(BENCHIO_RUNS) BENCHIO_SECS=$(BENCHIO_SECS)"

# The column's image with /etc/iobench/variants appended: its dom0 runs measure.sh --variants
# (BENCHIO_VCOL pvkit or xen; on xen every BLKBACK field must be "-").
BENCHIO_VARIANTS ?= $(BENCHIO_DIR)/variants
BENCHIO_VCOL     ?= pvkit
BENCHIO_VOUT     := $(BENCHIO_OUT)/variants-$(BENCHIO_VCOL)
BENCHIO_VHV       = $(if $(filter xen,$(BENCHIO_VCOL)),--xen $(BUILD)/xen/xen,--pvkit $(BUILD)/pvkit.elf)

bench-io-variants: $(if $(filter xen,$(BENCHIO_VCOL)),$(BENCHIO_DOM0_XEN) $(BUILD)/xen/xen,$(BENCHIO_DOM0_PVKIT) $(BUILD)/pvkit.elf) \
                   $(BENCHIO_VARIANTS) $(LINUX_GENERIC) $(TOOLS_BIN)/pvkit-run
	rm -rf $(BENCHIO_VOUT)/add; mkdir -p $(BENCHIO_VOUT)/add/etc/iobench
	cp $(BENCHIO_VARIANTS) $(BENCHIO_VOUT)/add/etc/iobench/variants
	cp $(BENCHIO_OUT)/dom0-$(BENCHIO_VCOL).cpio.gz $(BENCHIO_VOUT)/dom0.cpio.gz
	(cd $(BENCHIO_VOUT)/add && find . -mindepth 1 | sed 's#^\./##' | cpio -o -H newc -R 0:0 --quiet) | gzip >>$(BENCHIO_VOUT)/dom0.cpio.gz
	$(BENCHIO_DIR)/run-column $(BENCHIO_VHV) --dom0-initrd $(BENCHIO_VOUT)/dom0.cpio.gz \
	    $(BENCHIO_COL) --out $(BENCHIO_VOUT)
