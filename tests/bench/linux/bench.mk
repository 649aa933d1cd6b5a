# Make fragment for the Linux benchmark of issue 5, included by the top-level
# Makefile (which sets BUILD): `make bench-linux` (also part of `make bench`)
# runs tests/bench/linux/run-bench.sh, which boots Debian's generic kernel
# with the workload initramfs natively under QEMU, on pvkit and on Xen 4.17
# (fetched by tools/fetch-xen), and writes docs/bench/linux.md and
# docs/bench/linux.png. BENCH_LINUX_ARGS passes extra options to the script
# (e.g. --params "pvkit.forks=500 pvkit.mib=256" or --cpu qemu64).
# Only BENCH_LINUX_-prefixed variables.

BENCH_LINUX_DIR  := tests/bench/linux
BENCH_LINUX_ARGS ?=

.PHONY: bench-linux
bench-linux: $(BUILD)/pvkit.elf tools
	$(BENCH_LINUX_DIR)/run-bench.sh --no-build --out docs/bench $(BENCH_LINUX_ARGS)

bench: bench-linux
