# Make fragment: pvkit's research guest kernel (issue 16), Debian's
# linux-source-6.1 with the patch series in guest-linux-patches/, built with
# kbuild by tools/research-kernel. Included by the top-level Makefile after
# tests/integration/linux.mk and dom0.mk (it uses LINUX_RUNNER and DOM0_*).
# Only RESEARCH_-prefixed variables.
#
#   make research-kernel          build $(BUILD)/research-kernel/vmlinux (an
#                                 ELF PV kernel; nice -n 19, about 20 min
#                                 from clean on 2 busy cores, seconds after
#                                 a patch changes)
#   make run-research             boot it on pvkit to the busybox shell
#                                 (LINUX_CMDLINE_EXTRA="..." adds options)
#   make check-research-series    the series applies to the pinned
#                                 linux-source-6.1 exactly, and a broken
#                                 patch is refused (part of `make check`;
#                                 about 20 s, no build)
#   make check-research-kernel    build it, then run the issue-5 workload
#                                 on it twice, with /sys/hypervisor/pvkit
#                                 read before and after fork+exec: with the
#                                 defaults (batch 32, PTEs by hypercall),
#                                 and with xen_mc.batch=4 and
#                                 xen_pt.write=emulate (no batch above 4
#                                 counted, the knob refuses 0 and 513, PTE
#                                 writes emulated); then the toolstack
#                                 creates two domUs of it from dom0 (pvkit
#                                 create, xenbus, consoles, mem-set,
#                                 reboot, shutdown, destroy:
#                                 dom0/pvkit-linux-check.sh); part of
#                                 `make check-all`

RESEARCH_DIR     := tests/integration/research
RESEARCH_VMLINUX := $(BUILD)/research-kernel/vmlinux
RESEARCH_INPUTS  := $(wildcard guest-linux-patches/*) tools/research-kernel \
                    tools/linux-version.mk hypervisor/include/public/pvkit.h

.PHONY: research-kernel run-research check-research-series check-research-kernel
check: check-research-series
check-all: check-research-kernel

research-kernel: $(RESEARCH_VMLINUX)

# kbuild keeps its own dependencies; the touch tells make it ran.
$(RESEARCH_VMLINUX): $(RESEARCH_INPUTS)
	tools/research-kernel --build $(BUILD)
	touch $@

run-research: $(BUILD)/pvkit.elf tools $(RESEARCH_VMLINUX)
	$(LINUX_RUNNER) --variant shell --kernel $(RESEARCH_VMLINUX)

check-research-series:
	$(RESEARCH_DIR)/series-test.sh

check-research-kernel: check-research-series $(BUILD)/pvkit.elf tools $(RESEARCH_VMLINUX) \
                       $(DOM0_IMAGE) $(LINUX_GENERIC)
	$(LINUX_RUNNER) --kernel $(RESEARCH_VMLINUX) --require-phase pvkit_stats \
	    --require-phase mc_batch_knob --require-phase flush_timing \
	    --log $(BUILD)/research-kernel/workload.log
	$(LINUX_RUNNER) --kernel $(RESEARCH_VMLINUX) --require-phase pvkit_stats \
	    --require-phase mc_batch_knob --require-phase pt_write_emulate --require-phase flush_timing \
	    --cmdline-extra "xen_mc.batch=4 xen_pt.write=emulate" \
	    --log $(BUILD)/research-kernel/workload-knobs.log
	$(DOM0_DIR)/pvkit-linux-check.sh $(BUILD) $(LINUX_GENERIC) $(DOM0_IMAGE) $(RESEARCH_VMLINUX)
