/*
 * bench_common.h: timing helpers shared by the bench_* kernels (make bench-hv).
 *
 * What they measure with: RDTSC in the guest (it runs natively at CPL 3).
 * Cycles are converted to nanoseconds with the TSC frequency found by
 * bench_tsc_khz(), in this order:
 *   1. CPUID 0x40000003 (the Xen time leaf): sub-leaf 0 ECX (guest TSC kHz),
 *      else sub-leaf 2 EAX (host TSC kHz; what Xen 4.17 reports for PV);
 *   2. CPUID 0x15 (crystal ratio) / 0x16 (base MHz), if the CPU reports them;
 *   3. the pvclock scale in vcpu_info[0].time (shared_info, mapped with
 *      update_va_mapping): kHz = ((10^6 << 32) / tsc_to_system_mul), shifted
 *      back by tsc_shift — the frequency the hypervisor itself calibrated.
 * Results go out as `name: value unit` lines that tests/bench/hv/run-bench.sh
 * parses. No floating point (the kernels are built -mgeneral-regs-only), so
 * fractions are printed from fixed-point integers.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#include "guest.h"
#include "pt.h"

/* Reads the time-stamp counter (ordered after earlier loads by LFENCE). */
static inline uint64_t bench_rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static uint32_t bench_khz;
static const char *bench_khz_source = "none";

/* TSC kHz from the pvclock scale of vcpu_info[0] (SI may be NULL). */
static inline uint32_t bench_pvclock_khz(shared_info_t *si)
{
    volatile struct vcpu_time_info *t;
    uint64_t khz;

    if (!si)
        return 0;
    t = &si->vcpu_info[0].time;
    if (!t->tsc_to_system_mul)
        return 0;
    khz = (1000000ULL << 32) / t->tsc_to_system_mul;
    if (t->tsc_shift >= 0)
        khz >>= t->tsc_shift;
    else
        khz <<= -t->tsc_shift;
    return (uint32_t)khz;
}

/*
 * Finds the TSC frequency (order above), prints `tsc_khz: N kHz` and the
 * source, and keeps it for the reports. SI: mapped shared_info or NULL.
 */
static inline uint32_t bench_tsc_init(shared_info_t *si)
{
    uint32_t r[4];

    guest_cpuid(0x40000000, 0, r);
    if (r[0] >= 0x40000003) {
        guest_cpuid(0x40000003, 0, r);
        if (r[2]) {
            bench_khz = r[2];
            bench_khz_source = "cpuid-0x40000003.0";
        } else {
            guest_cpuid(0x40000003, 2, r);
            if (r[0]) {
                bench_khz = r[0];
                bench_khz_source = "cpuid-0x40000003.2";
            }
        }
    }
    if (!bench_khz) {
        guest_cpuid(0, 0, r);
        if (r[0] >= 0x15) {
            guest_cpuid(0x15, 0, r);
            if (r[0] && r[1] && r[2]) {
                bench_khz = (uint32_t)((uint64_t)r[2] / 1000 * r[1] / r[0]);
                bench_khz_source = "cpuid-0x15";
            }
        }
        if (!bench_khz && r[0] >= 0x16) {
            guest_cpuid(0x16, 0, r);
            if (r[0] & 0xffff) {
                bench_khz = (r[0] & 0xffff) * 1000;
                bench_khz_source = "cpuid-0x16";
            }
        }
    }
    if (!bench_khz) {
        bench_khz = bench_pvclock_khz(si);
        if (bench_khz)
            bench_khz_source = "pvclock";
    }
    guest_printf("tsc_khz: %u kHz\n", bench_khz);
    guest_printf("tsc_source: %s\n", bench_khz_source);
    return bench_khz;
}

/* Prints VAL/1000 with three decimals. */
static inline void bench_print_milli(const char *name, uint64_t milli, const char *unit)
{
    guest_printf("%s: %lu.%03lu %s\n", name, (unsigned long)(milli / 1000),
                 (unsigned long)(milli % 1000), unit);
}

/* Prints `NAME: c cycles` and `NAME_ns: n ns` for TOTAL cycles over OPS ops. */
static inline void bench_report_cost(const char *name, uint64_t total, uint64_t ops)
{
    char buf[64];
    size_t n = guest_strlen(name);

    if (n > sizeof(buf) - 8)
        n = sizeof(buf) - 8;
    memcpy(buf, name, n);
    memcpy(buf + n, "_ns", 4);
    bench_print_milli(name, total * 1000 / ops, "cycles");
    if (bench_khz)
        bench_print_milli(buf, total * 1000000ULL / bench_khz * 1000 / ops, "ns");
}

/* Prints `NAME: r UNIT/s`: OPS ops in TOTAL cycles as a rate. */
static inline void bench_report_rate(const char *name, uint64_t total, uint64_t ops,
                                     const char *unit)
{
    if (bench_khz && total)
        guest_printf("%s: %lu %s/s\n", name,
                     (unsigned long)(ops * bench_khz * 1000ULL / total), unit);
}
#endif
