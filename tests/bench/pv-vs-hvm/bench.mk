# Make fragment for issue 18's PV-against-PVH benchmark, included by the
# top-level Makefile. Only BENCH_PVHVM_-prefixed variables.
#
#   make bench-pv-vs-hvm   one Debian kernel natively, as a pvkit PV domU, as
#                          a pvkit PVH domU and (where ../shared/xen-io-reference
#                          is built in /tmp/xref-pv and /tmp/xref-pvh) as Xen
#                          4.17's PV and PVH domUs, all under QEMU -cpu
#                          EPYC,-monitor,-rdtscp,-smap,-smep; writes
#                          docs/bench/pv-vs-hvm.md and .png.
#                          BENCH_PVHVM_ARGS passes options to
#                          tests/bench/pv-vs-hvm/run-bench.sh (--no-xen,
#                          --no-run, --params "...", --kernel PATH).
# Every QEMU boot is the caller's to serialise (flock /tmp/qemu.lock make ...).


BENCH_PVHVM_ARGS ?=

.PHONY: bench-pv-vs-hvm
bench-pv-vs-hvm: $(BUILD)/pvkit.elf tools
	tests/bench/pv-vs-hvm/run-bench.sh --out docs/bench $(BENCH_PVHVM_ARGS)

bench: bench-pv-vs-hvm
