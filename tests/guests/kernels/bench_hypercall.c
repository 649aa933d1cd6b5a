/*
 * bench_hypercall: the hypervisor benchmark guest (issue 2's bench-hv). It
 * times BENCH_CALLS null hypercalls (xen_version(XENVER_version), the call
 * Linux itself uses to force event delivery) with RDTSC and prints, as
 * `name: value unit` lines for scripts:
 *   guest_entry_tsc: TSC when our main started (QEMU's TSC counts from
 *                    machine start, so this is start-to-guest time in cycles)
 *   tsc_khz:         TSC frequency from the Xen time leaf 0x40000003: the
 *                    guest frequency (sub-leaf 0 ECX), else the host's
 *                    (sub-leaf 2 EAX; Xen 4.17 leaves ECX 0 for PV), else 0
 *   null_hypercall:  average cycles per round trip (and ns if tsc_khz known)
 * It is a test kernel too: it checks the hypercalls succeeded and the clock
 * advanced. RDTSC runs natively at CPL 3 unless the hypervisor sets
 * CR4.TSD, which a PV hypervisor must not do by default.
 */
#include "guest.h"

#define BENCH_WARMUP 1000
#define BENCH_CALLS  20000

/* Reads the time-stamp counter. */
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* TSC frequency in kHz from the Xen time leaf, or 0 if not available. */
static uint32_t tsc_khz(void)
{
    uint32_t r[4];

    guest_cpuid(0x40000000, 0, r);
    if (r[0] < 0x40000003)
        return 0;
    guest_cpuid(0x40000003, 0, r);
    if (r[2])
        return r[2];
    guest_cpuid(0x40000003, 2, r);
    return r[0];
}

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
    uint64_t entry = rdtsc(), t0, t1, per_call;
    uint32_t khz = tsc_khz();
    unsigned long failed;

    TEST("null hypercall round trip");
    failed = null_hypercalls(BENCH_WARMUP);
    t0 = rdtsc();
    failed += null_hypercalls(BENCH_CALLS);
    t1 = rdtsc();
    per_call = (t1 - t0) / BENCH_CALLS;
    EXPECT_EQ(failed, 0);
    EXPECT(t1 > t0);
    guest_printf("guest_entry_tsc: %lu cycles\n", (unsigned long)entry);
    guest_printf("tsc_khz: %u kHz\n", khz);
    guest_printf("null_hypercall: %lu cycles\n", (unsigned long)per_call);
    if (khz) {
        guest_printf("guest_entry: %lu ms\n", (unsigned long)(entry / khz));
        guest_printf("null_hypercall_ns: %lu ns\n",
                     (unsigned long)(per_call * 1000000 / khz));
    }
}
