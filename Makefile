# pvkit top-level build. `make` builds everything into build/; `make check`
# runs every test level; `make check-all` also the suites too slow for it
# (the research kernel's build and boot); `make run` boots the hypervisor
# with a guest.
#
# The hypervisor, its host unit tests and the PV test guests are built by the
# fragments included below. xenstore-lite and the split-driver toolkit are
# self-contained components with their own Makefiles, driven through sub-makes
# with BUILD pointing at the shared build directory.

BUILD   := $(CURDIR)/build
export BUILD

.PHONY: all check check-all run bench clean xenstore drivers check-xenstore check-drivers \
        bench-xenstore bench-drivers fuzz-xenstore fuzz-drivers fuzz

all:

include hypervisor/hypervisor.mk
include tests/unit/unit.mk
include tests/unit/hv/fuzz.mk
include tests/guests/guests.mk
include tools/tools.mk
include tests/integration/integration.mk
include tests/integration/linux.mk
include tests/integration/dom0.mk
include tests/integration/research.mk
include tests/bench/hv/bench.mk
include tests/bench/linux/bench.mk
include tests/bench/toolstack/bench.mk
include tests/bench/io/bench.mk
include tests/bench/mm/bench.mk
include tests/bench/pv-vs-hvm/bench.mk

SUBDIR_COMPONENTS := $(wildcard xenstore-lite/Makefile backends/Makefile)

xenstore:
	$(MAKE) -C xenstore-lite all
drivers: xenstore
	$(MAKE) -C backends all
check-xenstore:
	$(MAKE) -C xenstore-lite check
check-drivers: xenstore
	$(MAKE) -C backends check
bench-xenstore:
	$(MAKE) -C xenstore-lite bench
bench-drivers: xenstore
	$(MAKE) -C backends bench
fuzz-xenstore:
	$(MAKE) -C xenstore-lite fuzz
fuzz-drivers:
	$(MAKE) -C backends fuzz

# Every host libFuzzer target, one after the other, each for FUZZ_SECONDS
# (300 by default): the hypervisor's grant-table and event-channel state
# machines, the xl.cfg reader, the boot loader, xenstore-lite's request
# parser and ring, the block-request parser. (The hypercall fuzzer guest
# runs under QEMU: `make fuzz-guests`.)
FUZZ_SECONDS ?= 300
fuzz: xenstore
	$(MAKE) fuzz-hv-grant fuzz-hv-evtchn HVFUZZ_SECONDS=$(FUZZ_SECONDS)
	$(MAKE) fuzz-cfg fuzz-bootloader TOOLS_FUZZ_SECONDS=$(FUZZ_SECONDS)
	$(MAKE) -C xenstore-lite fuzz FUZZ_TIME=$(FUZZ_SECONDS)
	$(MAKE) -C backends fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)

ifneq ($(findstring xenstore-lite,$(SUBDIR_COMPONENTS)),)
all: xenstore
check: check-xenstore
endif
ifneq ($(findstring backends,$(SUBDIR_COMPONENTS)),)
all: drivers
check: check-drivers
endif

# Every benchmark; tests/bench/linux adds bench-linux (native vs pvkit vs Xen),
# tests/bench/toolstack bench-toolstack (xl on Xen 4.17; the pvkit column to come).
bench: bench-hv bench-xenstore bench-drivers

clean:
	rm -rf $(BUILD)

# Runs after every suite above has passed (each is a prerequisite of check).
check:
	@echo "make check: $(words $^) passed, 0 failed"
# Everything check runs, then the slow suites the fragments add to it.
check-all: check
	@echo "make check-all: $(words $^) passed, 0 failed"
