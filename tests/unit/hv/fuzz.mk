# libFuzzer targets (clang, ASan, UBSan) of the hypervisor's state machines,
# on the hosted machine of tests/unit/hv/fuzz_machine.c. Included by the
# top-level Makefile, which sets BUILD.
#
#   make fuzz-hv-grant, fuzz-hv-evtchn   one target for HVFUZZ_SECONDS (default 300)
#   make check-fuzz-hv                   every target for HVFUZZ_CHECK_SECONDS (15) each
#
# Each run starts from tests/unit/hv/seeds/<target> (hand-made inputs that
# reach the deep states: a grant mapped, copied, its granter destroyed, its PTE
# replaced; also the regression inputs of the bugs found) and keeps its
# corpus in $(BUILD)/fuzz/hv/corpus_<target> (it grows from run to run); its log in $(BUILD)/fuzz/hv/log_<target>; a crash leaves the
# input beside the log (crash-*), replayable with `build/fuzz/hv/fuzz_<target> FILE`.
# Only HVFUZZ_-prefixed variables.

HVFUZZ_DIR      := tests/unit/hv
HVFUZZ_BUILD    := $(BUILD)/fuzz/hv
HVFUZZ_NAMES    := grant evtchn
HVFUZZ_SECONDS  ?= 300
HVFUZZ_CHECK_SECONDS ?= 15
# The hypervisor files under test, and the machine that hosts them.
HVFUZZ_HV_SRCS  := hypervisor/mm/frame.c hypervisor/mm/pagetype.c hypervisor/mm/guest_walk.c \
                   hypervisor/mm/mmu.c \
                   hypervisor/common/audit.c hypervisor/common/grant_table.c \
                   hypervisor/common/event_channel.c hypervisor/common/domain.c \
                   hypervisor/common/domain_destroy.c
HVFUZZ_CFLAGS   := -std=gnu11 -O1 -g -Wall -Wextra -Werror \
                   -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                   -Ihypervisor/include -I$(HVFUZZ_DIR) -D__XEN_INTERFACE_VERSION__=0x00040e00 \
                   -DDIRECTMAP_BASE=0x500000000000ull -DPVKIT_HOSTED_GUEST_ACCESS
HVFUZZ_DEPS     := $(HVFUZZ_HV_SRCS) $(HVFUZZ_DIR)/fuzz_machine.c $(HVFUZZ_DIR)/fuzz_machine.h \
                   $(wildcard hypervisor/include/pvkit/*.h)

.PHONY: check-fuzz-hv $(HVFUZZ_NAMES:%=fuzz-hv-%)
check: check-fuzz-hv

# lib.c with its libc names renamed (tests/unit/hv/lib_host.c), without builtins.
$(HVFUZZ_BUILD)/lib_host.o: $(UNIT_DIR)/lib_host.c hypervisor/common/lib.c
	@mkdir -p $(@D)
	clang $(HVFUZZ_CFLAGS) -fno-builtin -c $< -o $@

$(HVFUZZ_BUILD)/fuzz_%: $(HVFUZZ_DIR)/fuzz_%.c $(HVFUZZ_BUILD)/lib_host.o $(HVFUZZ_DEPS)
	@mkdir -p $(@D)
	clang $(HVFUZZ_CFLAGS) $< $(HVFUZZ_DIR)/fuzz_machine.c $(HVFUZZ_HV_SRCS) \
	    $(HVFUZZ_BUILD)/lib_host.o -o $@

$(HVFUZZ_NAMES:%=fuzz-hv-%): fuzz-hv-%: $(HVFUZZ_BUILD)/fuzz_%
	@mkdir -p $(HVFUZZ_BUILD)/corpus_$*
	@cd $(HVFUZZ_BUILD) && ./fuzz_$* -max_total_time=$(HVFUZZ_SECONDS) -timeout=10 \
	    -max_len=1024 -len_control=0 \
	    corpus_$* $(CURDIR)/$(HVFUZZ_DIR)/seeds/$* >log_$* 2>&1; rc=$$?; grep -m1 '^INFO: Seed' log_$*; tail -n 2 log_$*; exit $$rc

check-fuzz-hv: $(HVFUZZ_NAMES:%=$(HVFUZZ_BUILD)/fuzz_%)
	@for t in $(HVFUZZ_NAMES); do \
		$(MAKE) --no-print-directory fuzz-hv-$$t HVFUZZ_SECONDS=$(HVFUZZ_CHECK_SECONDS) || exit 1; \
	done
