# Make fragment for the hypervisor benchmark (issues 2, 3, 4 and 13), included by
# the top-level Makefile (which sets BUILD): `make bench-hv` builds pvkit,
# the launcher and the bench_* guests (tests/guests/kernels/), fetches
# Debian's Xen 4.17 into $(BUILD)/xen/xen with tools/fetch-xen when it can
# (without it the benchmark runs on pvkit alone), and runs
# tests/bench/hv/run-bench.sh: `name: value unit` lines on stdout (pvkit,
# Xen, and the ratio = how many times faster pvkit is) and the Markdown
# table docs/bench/hv.md. BENCH_HV_ARGS passes extra options to the script
# (e.g. --boot-runs 3 --runs 1). Only BENCH_HV_-prefixed variables.

BENCH_HV_DIR    := tests/bench/hv
BENCH_HV_GUESTS := $(addprefix $(BUILD)/guests/,bench_hypercall.elf bench_mmu.elf bench_cpu.elf \
                   bench_evt.elf bench_grant.elf bench_pingpong.elf)
BENCH_HV_ARGS   ?=
# The issue-4 bench guests use the event library (tests/guests/lib/evt).
$(BUILD)/guests/bench_evt.elf $(BUILD)/guests/bench_pingpong.elf: $(GUEST_EVT_OBJS)

.PHONY: bench-hv
bench-hv: $(BENCH_HV_GUESTS) $(BUILD)/pvkit.elf $(BUILD)/bin/pvkit-run
	tools/fetch-xen $(BUILD) || echo "bench-hv: Xen 4.17 could not be fetched; pvkit only" >&2
	$(BENCH_HV_DIR)/run-bench.sh --hypervisor $(BUILD)/pvkit.elf \
	    --launcher $(BUILD)/bin/pvkit-run --guests $(BUILD)/guests \
	    --xen $(BUILD)/xen/xen --out docs/bench/hv.md $(BENCH_HV_ARGS)
