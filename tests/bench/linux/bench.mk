# Make fragment for the Linux benchmark of issue 5, included by the top-level
# Makefile (which sets BUILD): `make bench-linux` (also part of `make bench`)
# runs tests/bench/linux/run-bench.sh, which boots Debian's generic kernel
# with the workload initramfs natively under QEMU, on pvkit and on Xen 4.17
# (fetched by tools/fetch-xen), and writes docs/bench/linux.md and
# docs/bench/linux.png, with one guest CPU. `make bench-linux-smp` (also part
# of `make bench`) runs it with --vcpus 2 and writes docs/bench/linux-smp2.md
# and docs/bench/linux-smp2.png. BENCH_LINUX_ARGS passes extra options to the
# script in both (e.g. --params "pvkit.forks=500 pvkit.mib=256" or --cpu qemu64).
# Only BENCH_LINUX_-prefixed variables.

BENCH_LINUX_DIR  := tests/bench/linux
BENCH_LINUX_ARGS ?=

.PHONY: bench-linux bench-linux-smp
bench-linux: $(BUILD)/pvkit.elf tools
	$(BENCH_LINUX_DIR)/run-bench.sh --no-build --out docs/bench $(BENCH_LINUX_ARGS)

bench-linux-smp: $(BUILD)/pvkit.elf tools
	$(BENCH_LINUX_DIR)/run-bench.sh --no-build --out docs/bench --vcpus 2 $(BENCH_LINUX_ARGS)

bench: bench-linux bench-linux-smp
