# Host unit tests of the hypervisor's platform-independent logic (cmocka,
# under ASan and UBSan). Included by the top-level Makefile, which sets BUILD.
#
#   make unit-tests          builds $(BUILD)/unit/test_<unit> for every
#                            tests/unit/hv/test_<unit>.c
#   make check-unit          builds and runs them all; fails on any failure
#
# Each test binary links its test file, the hypervisor sources listed in
# UNIT_SRCS_<unit>, and lib_host.o (hypervisor/common/lib.c with its
# libc-named functions renamed, see tests/unit/hv/lib_host.c). Run one test
# alone with UNIT_FILTER, e.g. UNIT_FILTER='dom0_mem*' build/unit/test_cmdline.
# Only UNIT_-prefixed variables.

UNIT_DIR      := tests/unit/hv
UNIT_BUILD    := $(BUILD)/unit
UNIT_CC       := gcc
UNIT_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=all
UNIT_CFLAGS   := -std=gnu11 -O1 -g -Wall -Wextra -Werror $(UNIT_SAN) \
                 -fno-omit-frame-pointer -Ihypervisor/include -I$(UNIT_DIR) \
                 -D__XEN_INTERFACE_VERSION__=0x00040e00 \
                 -DUNIT_GUEST_DIR='"$(BUILD)/guests"' -MMD -MP
UNIT_LDFLAGS  := $(UNIT_SAN)
UNIT_LDLIBS   := -lcmocka
UNIT_RUNENV   := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
                 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

UNIT_NAMES    := $(patsubst $(UNIT_DIR)/test_%.c,%,$(wildcard $(UNIT_DIR)/test_*.c))
UNIT_BINS     := $(UNIT_NAMES:%=$(UNIT_BUILD)/test_%)

# The hypervisor sources each test exercises (lib.c comes via lib_host.o).
UNIT_SRCS_lib        :=
UNIT_SRCS_cmdline    := hypervisor/common/cmdline.c
UNIT_SRCS_multiboot  := hypervisor/common/multiboot.c hypervisor/common/cmdline.c
UNIT_SRCS_frame      := hypervisor/mm/frame.c
UNIT_SRCS_elf        := hypervisor/common/elf.c
UNIT_SRCS_boot_layout := hypervisor/common/boot_layout.c
UNIT_SRCS_cpuid      := hypervisor/arch/x86/cpuid.c
UNIT_SRCS_pagetype   := hypervisor/mm/pagetype.c hypervisor/mm/frame.c
UNIT_SRCS_audit      := hypervisor/common/audit.c hypervisor/mm/pagetype.c hypervisor/mm/frame.c
UNIT_SRCS_acpi       := hypervisor/common/acpi.c
UNIT_SRCS_acpi_build := hypervisor/common/acpi_build.c hypervisor/common/acpi.c
UNIT_SRCS_timer_calc := hypervisor/common/timer_calc.c

.PHONY: unit-tests check-unit
check: check-unit

unit-tests: $(UNIT_BINS)

check-unit: $(UNIT_BINS)
	@failed=; for t in $(UNIT_BINS); do \
		echo "== $$t"; $(UNIT_RUNENV) $$t || failed="$$failed $${t##*/}"; \
	done; \
	if [ -n "$$failed" ]; then echo "unit tests FAILED:$$failed"; exit 1; fi; \
	echo "unit tests: all $(words $(UNIT_BINS)) binaries passed"

$(UNIT_BUILD)/obj/lib_host.o: $(UNIT_DIR)/lib_host.c
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -fno-builtin -fno-tree-loop-distribute-patterns -c $< -o $@

$(UNIT_BUILD)/obj/hv/%.o: hypervisor/%.c
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -c $< -o $@

$(UNIT_BUILD)/obj/test_%.o: $(UNIT_DIR)/test_%.c
	@mkdir -p $(@D)
	$(UNIT_CC) $(UNIT_CFLAGS) -c $< -o $@

# One link rule per unit; generated rather than written with secondary
# expansion, which would change how every later fragment's rules are read.
define UNIT_LINK_RULE
$$(UNIT_BUILD)/test_$(1): $$(UNIT_BUILD)/obj/test_$(1).o $$(UNIT_BUILD)/obj/lib_host.o \
		$$(patsubst hypervisor/%.c,$$(UNIT_BUILD)/obj/hv/%.o,$$(UNIT_SRCS_$(1)))
	@mkdir -p $$(@D)
	$$(UNIT_CC) $$(UNIT_LDFLAGS) $$^ $$(UNIT_LDLIBS) -o $$@
endef
$(foreach u,$(UNIT_NAMES),$(eval $(call UNIT_LINK_RULE,$(u))))

-include $(wildcard $(UNIT_BUILD)/obj/*.d $(UNIT_BUILD)/obj/*/*.d $(UNIT_BUILD)/obj/hv/*/*.d \
                    $(UNIT_BUILD)/obj/hv/*/*/*.d)
