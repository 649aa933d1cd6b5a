/*
 * bench_hypercall: the hypervisor benchmark guest of issue 2 (make bench-hv).
 *
 * What it measures, and how:
 *   - start-up: the very first thing test_main does is write the marker line
 *     "bench_first_instruction" with one console_io call (no stack or page
 *     set-up before it beyond the framework's two-instruction entry), so
 *     tests/bench/hv/run-bench.sh can timestamp the marker's arrival on the
 *     console relative to QEMU's start. It also prints the guest-entry TSC
 *     (guest_entry_tsc: cycles; under QEMU TCG the TSC is the host's, so it
 *     is informational only).
 *   - null_hypercall: the round trip of xen_version(XENVER_version) — the
 *     call Linux itself uses to force event delivery — timed with RDTSC over
 *     BENCH_CALLS calls after BENCH_WARMUP, printed as average cycles and ns
 *     (TSC frequency: bench_common.h).
 * It is a test kernel too: it checks the hypercalls succeeded and the clock
 * advanced, then ends with the framework's verdict and poweroff.
 */
#include "bench_common.h"

#define BENCH_WARMUP 1000
#define BENCH_CALLS  100000

static char pool[2][4096] __attribute__((aligned(4096)));

/* Issues N null hypercalls; returns how many failed. */
static unsigned long null_hypercalls(unsigned long n)
{
    unsigned long failed = 0;

    for (unsigned long i = 0; i < n; i++)
        failed += hyp_xen_version(XENVER_version, NULL) <= 0;
    return failed;
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    static const char marker[] = "bench_first_instruction\n";
    uint64_t entry, t0, t1;
    unsigned long failed;

    guest_write(marker, sizeof(marker) - 1);
    entry = bench_rdtsc();
    pt_pool_init(pool, 2);
    bench_tsc_init(pt_map_shared_info());
    guest_printf("guest_entry_tsc: %lu cycles\n", (unsigned long)entry);

    TEST("null hypercall round trip");
    failed = null_hypercalls(BENCH_WARMUP);
    t0 = bench_rdtsc();
    failed += null_hypercalls(BENCH_CALLS);
    t1 = bench_rdtsc();
    EXPECT_EQ(failed, 0);
    EXPECT(t1 > t0);
    bench_report_cost("null_hypercall", t1 - t0, BENCH_CALLS);
}
