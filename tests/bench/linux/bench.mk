# Make fragment for the Linux benchmark of issues 5 and 16, included by the
# top-level Makefile (which sets BUILD): `make bench-linux` (also part of
# `make bench`) runs tests/bench/linux/run-bench.sh once per kernel
# (BENCH_LINUX_KERNELS: Debian's generic and cloud bzImages) and QEMU CPU
# model (BENCH_LINUX_CPUS: max and qemu64), each booting the workload
# initramfs natively under QEMU, on pvkit and, where it can run it, on Xen
# 4.17 (fetched by tools/fetch-xen), with one guest CPU; each writes
# docs/bench/linux-KERNEL-CPU.md and .png, and tests/bench/linux/summarize
# gathers them into docs/bench/linux.md. `make bench-linux-smp` (also part
# of `make bench`) runs the generic kernel under -cpu Haswell-noTSX with
# --vcpus 2 and writes docs/bench/linux-smp2.md and docs/bench/linux-smp2.png.
# BENCH_LINUX_ARGS passes extra options to the script in both (e.g.
# --params "pvkit.forks=500 pvkit.mib=256" or --qemu-args "-icount shift=0").
# Every QEMU boot is the caller's to serialise (flock /tmp/qemu.lock make ...).
# Only BENCH_LINUX_-prefixed variables.

BENCH_LINUX_DIR     := tests/bench/linux
BENCH_LINUX_ARGS    ?=
BENCH_LINUX_KERNELS ?= generic cloud
BENCH_LINUX_CPUS    ?= max qemu64

.PHONY: bench-linux bench-linux-smp
bench-linux: $(BUILD)/pvkit.elf tools
	@set -e; for k in $(BENCH_LINUX_KERNELS); do for c in $(BENCH_LINUX_CPUS); do \
	    echo "bench-linux: $$k kernel, -cpu $$c" >&2; \
	    $(BENCH_LINUX_DIR)/run-bench.sh --no-build --out docs/bench --kernel $$k --cpu $$c \
	        $(BENCH_LINUX_ARGS); \
	done; done
	$(BENCH_LINUX_DIR)/summarize --out docs/bench --kernels "$(BENCH_LINUX_KERNELS)" \
	    --cpus "$(BENCH_LINUX_CPUS)"

bench-linux-smp: $(BUILD)/pvkit.elf tools
	$(BENCH_LINUX_DIR)/run-bench.sh --no-build --out docs/bench --vcpus 2 $(BENCH_LINUX_ARGS)

bench: bench-linux bench-linux-smp
