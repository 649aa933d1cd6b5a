# Make fragment for the PV test kernels (included by the top-level Makefile,
# which sets BUILD). `make guests` builds every kernel in kernels/*.c into
# $(BUILD)/guests/<name>.elf; `make check-guests` runs them on pvkit and
# `make check-guests-xen` on real Xen 4.17 (fetched by tools/fetch-xen).
#
# `make fuzz-guests` (part of `make check-all`) runs the hypercall fuzzer
# at length.
#
# `make check-launcher` (part of `make check`) tests pvkit-run's exit-status
# mapping against fake multiboot hypervisors from launcher/fakehv.S, its
# refusals, the terminal it restores, and the console keys (one pvkit boot of
# launcher/console_keys.c).
#
# Kernels listed in GUEST_HCPAGE_KERNELS are linked against the framework
# built with -DGUEST_HYPERCALL_PAGE (hypercalls through the hypercall page);
# every other kernel uses inline SYSCALL. Only GUEST_-prefixed variables.

GUEST_DIR      := tests/guests
GUEST_BUILD    := $(BUILD)/guests
GUEST_CC       := gcc
GUEST_CFLAGS   := -std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -nostdlib \
                  -mno-red-zone -mcmodel=kernel -fno-pic -fno-pie -fno-stack-protector \
                  -mgeneral-regs-only -fno-asynchronous-unwind-tables -fno-builtin \
                  -D__XEN_INTERFACE_VERSION__=0x00040e00 -I$(GUEST_DIR)/lib -Ihypervisor/include -MMD -MP
GUEST_LDFLAGS  := -nostdlib -static -no-pie -Wl,-T,$(GUEST_DIR)/lib/guest.ld \
                  -Wl,-z,max-page-size=4096 -Wl,--build-id=none -Wl,-z,noexecstack
GUEST_KERNELS  := $(basename $(notdir $(wildcard $(GUEST_DIR)/kernels/*.c)))
GUEST_HCPAGE_KERNELS := hypercall_page
GUEST_ELFS     := $(GUEST_KERNELS:%=$(GUEST_BUILD)/%.elf)
GUEST_LIB_SRCS := $(wildcard $(GUEST_DIR)/lib/*.c $(GUEST_DIR)/lib/*.S)
GUEST_LIB_NAMES := $(basename $(notdir $(GUEST_LIB_SRCS)))
GUEST_LIB_SYSCALL := $(GUEST_LIB_NAMES:%=$(GUEST_BUILD)/obj/syscall/%.o)
GUEST_LIB_HCPAGE  := $(GUEST_LIB_NAMES:%=$(GUEST_BUILD)/obj/hcpage/%.o)

.PHONY: guests check-guests check-guests-1cpu check-guests-xen check-launcher \
        guests-pvh check-guests-pvh
all: guests
check: check-launcher check-guests check-guests-1cpu check-guests-pvh

guests: $(GUEST_ELFS)

$(GUEST_BUILD)/obj/syscall/%.o: $(GUEST_DIR)/lib/%.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
$(GUEST_BUILD)/obj/syscall/%.o: $(GUEST_DIR)/lib/%.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
$(GUEST_BUILD)/obj/hcpage/%.o: $(GUEST_DIR)/lib/%.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -DGUEST_HYPERCALL_PAGE -c $< -o $@
$(GUEST_BUILD)/obj/hcpage/%.o: $(GUEST_DIR)/lib/%.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -DGUEST_HYPERCALL_PAGE -c $< -o $@
$(GUEST_BUILD)/obj/kernels/%.o: $(GUEST_DIR)/kernels/%.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) $(if $(filter $*,$(GUEST_HCPAGE_KERNELS)),-DGUEST_HYPERCALL_PAGE) -c $< -o $@

# Each kernel links its own object with the framework variant it needs.
define GUEST_LINK_RULE
$(GUEST_BUILD)/$(1).elf: $(GUEST_BUILD)/obj/kernels/$(1).o \
    $(if $(filter $(1),$(GUEST_HCPAGE_KERNELS)),$(GUEST_LIB_HCPAGE),$(GUEST_LIB_SYSCALL)) \
    $(GUEST_DIR)/lib/guest.ld
	$(GUEST_CC) $(GUEST_LDFLAGS) -o $$@ $$(filter %.o,$$^)
endef
$(foreach k,$(GUEST_KERNELS),$(eval $(call GUEST_LINK_RULE,$(k))))

# The issue-4 kernels (events, time, vCPUs, several domains) also link the
# event library in lib/evt/ (evt.h); the others do not carry its stacks.
GUEST_EVT_KERNELS := $(filter evt_% time_% smp_% sched_% multi_% fuzz_%,$(GUEST_KERNELS))
GUEST_EVT_OBJS    := $(GUEST_BUILD)/obj/evt/evt.o $(GUEST_BUILD)/obj/evt/stall.o \
                     $(GUEST_BUILD)/obj/evt/evtentry.o
$(GUEST_BUILD)/obj/evt/%.o: $(GUEST_DIR)/lib/evt/%.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
$(GUEST_BUILD)/obj/evt/%.o: $(GUEST_DIR)/lib/evt/%.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
$(GUEST_EVT_KERNELS:%=$(GUEST_BUILD)/%.elf): $(GUEST_EVT_OBJS)

-include $(wildcard $(GUEST_BUILD)/obj/*/*.d)

# fuzz_pair: fuzz_hypercalls again in pair mode (tests/guests/run gives it
# its arguments): two fuzzers at once (seeds 1 and 2, 2·10^4 calls each)
# beside a victim domU whose memory and timer latency are checked throughout.
GUEST_FUZZ_PAIR := $(GUEST_BUILD)/fuzz_pair.elf
$(GUEST_FUZZ_PAIR): $(GUEST_BUILD)/fuzz_hypercalls.elf
	ln -sf fuzz_hypercalls.elf $@
guests: $(GUEST_FUZZ_PAIR)
# fuzz_wreck: fuzz_hypercalls (2000 calls of seed 1) whose children wreck
# their own progress record at call 1000 (wreck=, tests/guests/README.md,
# Fuzzing): the parent must still get through every call but that one.
GUEST_FUZZ_WRECK := $(GUEST_BUILD)/fuzz_wreck.elf
$(GUEST_FUZZ_WRECK): $(GUEST_BUILD)/fuzz_hypercalls.elf
	ln -sf fuzz_hypercalls.elf $@
guests: $(GUEST_FUZZ_WRECK)

check-guests: guests $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run
	$(GUEST_DIR)/run --hypervisor $(BUILD)/pvkit.elf --launcher $(BUILD)/bin/pvkit-run \
	    $(GUEST_ELFS) $(GUEST_FUZZ_PAIR) $(GUEST_FUZZ_WRECK)

# The kernels with several vCPUs or domains again with maxcpus=1: the time
# slicing every vCPU shares one physical CPU with (pvkit-run always gives
# QEMU two CPUs or more). smp_parallel/smp_tlb/smp_ipi_spin need two CPUs.
GUEST_1CPU_KERNELS := smp_vcpus smp_hostile sched sched_fair sched_poll multi_pingpong \
                      multi_smp multi_console multi_crash evt_basic time_timer time_runstate \
                      time_huge_timer smp_stats_remap multi_stats_own
check-guests-1cpu: guests $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run
	$(GUEST_DIR)/run --hypervisor $(BUILD)/pvkit.elf --launcher $(BUILD)/bin/pvkit-run \
	    --hv-args maxcpus=1 --logs $(GUEST_BUILD)/logs/pvkit-1cpu \
	    $(GUEST_1CPU_KERNELS:%=$(GUEST_BUILD)/%.elf)

check-guests-xen: guests $(BUILD)/bin/pvkit-run $(BUILD)/xen/xen
	$(GUEST_DIR)/run --xen $(BUILD)/xen/xen --launcher $(BUILD)/bin/pvkit-run \
	    $(GUEST_ELFS)

# The hypercall fuzzer at length (part of make check-all): GUEST_FUZZ_SEEDS
# seeds from GUEST_FUZZ_SEED, GUEST_FUZZ_CALLS calls each (10^7 in all by
# default), with the frame-table audit at every child's end. Fails on a
# failed check, a hypervisor fault or hang (the launcher's status) or an
# audit mismatch. make check runs it at 10^5 calls among the check-guests
# kernels.
GUEST_FUZZ_SEED  ?= 1
GUEST_FUZZ_SEEDS ?= 4
GUEST_FUZZ_CALLS ?= 2500000
GUEST_FUZZ_LOG   := $(GUEST_BUILD)/logs/fuzz-guests.log
# Then the pair mode at length: fuzz_pair_long (seeds 3 and 4, 10^6 calls
# each, at once, beside the victim).
GUEST_FUZZ_PAIR_LONG := $(GUEST_BUILD)/fuzz_pair_long.elf
$(GUEST_FUZZ_PAIR_LONG): $(GUEST_BUILD)/fuzz_hypercalls.elf
	ln -sf fuzz_hypercalls.elf $@
.PHONY: fuzz-guests
check-all: fuzz-guests
fuzz-guests: $(GUEST_BUILD)/fuzz_hypercalls.elf $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run \
             $(GUEST_FUZZ_PAIR_LONG)
	@mkdir -p $(dir $(GUEST_FUZZ_LOG))
	$(BUILD)/bin/pvkit-run --hypervisor $(BUILD)/pvkit.elf --hv-args audit=on-death \
	    --kernel $< --initrd $< --timeout 7200 </dev/null \
	    --cmdline "fuzz_hypercalls calls=$(GUEST_FUZZ_CALLS) seed=$(GUEST_FUZZ_SEED) seeds=$(GUEST_FUZZ_SEEDS)" \
	    >$(GUEST_FUZZ_LOG) 2>&1 || { tail -n 20 $(GUEST_FUZZ_LOG); exit 1; }
	@grep -a 'fuzz: seed' $(GUEST_FUZZ_LOG)
	@! grep -aF '(pvkit) audit mismatch' $(GUEST_FUZZ_LOG)
	@tr -d '\r' <$(GUEST_FUZZ_LOG) | grep -aqE '^[1-9][0-9]* passed, 0 failed$$'
	$(GUEST_DIR)/run --hypervisor $(BUILD)/pvkit.elf --launcher $(BUILD)/bin/pvkit-run \
	    --timeout 7200 --logs $(GUEST_BUILD)/logs/fuzz-pair $(GUEST_FUZZ_PAIR_LONG)

# PVH test kernels (pvh/kernels/*.c -> $(GUEST_BUILD)/pvh/<name>.elf): the
# PV framework's guest.c, string.c and notes.S built with -DGUEST_PVH
# (hypercalls by VMMCALL), plus pvh/lib (the 32-bit entry, long mode, an
# IDT for probes). They run under a CPU model with SVM and nested paging
# (TCG emulates both): PVH_CPU, as Xen 4.17 runs PVH under TCG.
GUEST_PVH_DIR     := $(GUEST_DIR)/pvh
GUEST_PVH_BUILD   := $(GUEST_BUILD)/pvh
GUEST_PVH_KERNELS := $(basename $(notdir $(wildcard $(GUEST_PVH_DIR)/kernels/*.c)))
# Runs of pvh_hello under other launcher arguments (tests/guests/run picks
# them by name): beside a PV domain, and on a CPU without SVM.
GUEST_PVH_ALIASES := pvh_pair pvh_refused
GUEST_PVH_ELFS    := $(GUEST_PVH_KERNELS:%=$(GUEST_PVH_BUILD)/%.elf) \
                     $(GUEST_PVH_ALIASES:%=$(GUEST_PVH_BUILD)/%.elf)
GUEST_PVH_CFLAGS  := $(GUEST_CFLAGS) -DGUEST_PVH -I$(GUEST_PVH_DIR)/lib
GUEST_PVH_LIB     := $(addprefix $(GUEST_PVH_BUILD)/obj/,guest.o string.o notes.o pvh.o pvh_entry.o)
PVH_CPU           := EPYC,-monitor,-rdtscp,-smap,-smep

# One compile rule per source directory and suffix: $(1) object prefix, $(2) directory, $(3) suffix.
define GUEST_PVH_COMPILE
$(GUEST_PVH_BUILD)/obj/$(1)%.o: $(2)/%.$(3)
	@mkdir -p $$(@D)
	$(GUEST_CC) $(GUEST_PVH_CFLAGS) -c $$< -o $$@
endef
$(foreach d,$(GUEST_DIR)/lib $(GUEST_PVH_DIR)/lib,$(foreach x,c S,$(eval $(call GUEST_PVH_COMPILE,,$(d),$(x)))))
$(eval $(call GUEST_PVH_COMPILE,kernels/,$(GUEST_PVH_DIR)/kernels,c))
$(GUEST_PVH_BUILD)/%.elf: $(GUEST_PVH_BUILD)/obj/kernels/%.o $(GUEST_PVH_LIB) $(GUEST_DIR)/lib/guest.ld
	$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)
$(GUEST_PVH_ALIASES:%=$(GUEST_PVH_BUILD)/%.elf): $(GUEST_PVH_BUILD)/pvh_hello.elf
	ln -sf pvh_hello.elf $@
.SECONDARY: $(GUEST_PVH_LIB)
-include $(wildcard $(GUEST_PVH_BUILD)/obj/*.d $(GUEST_PVH_BUILD)/obj/kernels/*.d)

guests-pvh: $(GUEST_PVH_ELFS)
guests: guests-pvh

# The PVH kernels on pvkit (tests/guests/run knows their launcher arguments:
# the CPU model, the domain type, a PV domain beside a PVH one), and the
# PV+PVH pairs again on one CPU (maxcpus=1: the two time-share it).
check-guests-pvh: guests $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run
	PVH_CPU='$(PVH_CPU)' $(GUEST_DIR)/run --hypervisor $(BUILD)/pvkit.elf \
	    --launcher $(BUILD)/bin/pvkit-run --logs $(GUEST_BUILD)/logs/pvkit-pvh $(GUEST_PVH_ELFS)
	PVH_CPU='$(PVH_CPU)' $(GUEST_DIR)/run --hypervisor $(BUILD)/pvkit.elf \
	    --launcher $(BUILD)/bin/pvkit-run --logs $(GUEST_BUILD)/logs/pvkit-pvh-1cpu \
	    --hv-args maxcpus=1 $(GUEST_PVH_BUILD)/pvh_pair.elf $(GUEST_PVH_BUILD)/pvh_debugregs.elf

# Fake hypervisors: one per exit byte of the protocol, a triple fault, a hang.
GUEST_FAKEHV_DIR   := $(GUEST_BUILD)/fakehv
GUEST_FAKEHV_BYTES := 10 11 12 13 1e
GUEST_FAKEHV       := $(GUEST_FAKEHV_BYTES:%=$(GUEST_FAKEHV_DIR)/exit_%.elf) \
                      $(GUEST_FAKEHV_DIR)/triple.elf $(GUEST_FAKEHV_DIR)/hang.elf
GUEST_FAKEHV_LINK  := -m32 -nostdlib -static -no-pie -Wl,-Ttext=0x100000 -Wl,--build-id=none

$(GUEST_FAKEHV_DIR)/exit_%.elf: $(GUEST_DIR)/launcher/fakehv.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_FAKEHV_LINK) -DFAKEHV_EXIT=0x$* $< -o $@
$(GUEST_FAKEHV_DIR)/triple.elf: $(GUEST_DIR)/launcher/fakehv.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_FAKEHV_LINK) -DFAKEHV_TRIPLE $< -o $@
$(GUEST_FAKEHV_DIR)/hang.elf: $(GUEST_DIR)/launcher/fakehv.S
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_FAKEHV_LINK) -DFAKEHV_HANG $< -o $@

# console_keys: a kernel that stays up reading console input until 'q', for
# the self-test's console-key cases on real pvkit (not a check-guests kernel).
GUEST_KEYS_ELF := $(GUEST_BUILD)/launcher/console_keys.elf
$(GUEST_BUILD)/obj/launcher/console_keys.o: $(GUEST_DIR)/launcher/console_keys.c
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@
$(GUEST_KEYS_ELF): $(GUEST_BUILD)/obj/launcher/console_keys.o $(GUEST_LIB_SYSCALL) \
    $(GUEST_EVT_OBJS) $(GUEST_DIR)/lib/guest.ld
	@mkdir -p $(@D)
	$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^)
guests: $(GUEST_KEYS_ELF)

check-launcher: $(GUEST_FAKEHV) $(BUILD)/bin/pvkit-run $(GUEST_BUILD)/hello.elf \
    $(BUILD)/pvkit.elf $(GUEST_KEYS_ELF)
	$(GUEST_DIR)/launcher/selftest $(BUILD)/bin/pvkit-run $(GUEST_FAKEHV_DIR) \
	    $(GUEST_BUILD)/hello.elf $(BUILD)/pvkit.elf $(GUEST_KEYS_ELF)
