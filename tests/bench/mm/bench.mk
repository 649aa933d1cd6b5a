# Make fragment for the memory-management benchmark of the research kernel
# (issue 16 item 3), included by the top-level Makefile after
# tests/integration/research.mk (it uses RESEARCH_VMLINUX). Only BENCH_MM_-prefixed
# variables.
#
#   make bench-mm   boots the research kernel on pvkit twice (xen_pt.write=
#                   hypercall, then emulate), each boot sweeping xen_mc.batch
#                   over fork+exec, mmap/mprotect churn and page faults with
#                   pvkit's statistics read around every run; writes
#                   docs/bench/mm.md, mm-cycles.png, mm-fork.png, mm-time.png.
#                   Each boot takes /tmp/qemu.lock itself: do not wrap it in
#                   flock. BENCH_MM_ARGS passes options to
#                   tests/bench/mm/run-bench.sh (--cpu MODEL, --params "...",
#                   --hypervisor ELF, --no-run).

BENCH_MM_DIR  := tests/bench/mm
BENCH_MM_ARGS ?=

.PHONY: bench-mm
bench-mm: $(BUILD)/pvkit.elf tools $(RESEARCH_VMLINUX)
	BENCH_MM_ARGS='$(BENCH_MM_ARGS)' $(BENCH_MM_DIR)/run-bench.sh --out docs/bench $(BENCH_MM_ARGS)
