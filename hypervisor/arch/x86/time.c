/*
 * TSC calibration, wall clock, and the local APIC timer (see pvkit/time.h).
 *
 * The TSC is calibrated against the PIT (channel 2, gated by port 0x61),
 * which every PC and QEMU machine has. The APIC timer runs in TSC-deadline
 * mode when available; otherwise in one-shot mode, its rate calibrated
 * against the TSC. The wall clock comes from the CMOS RTC, once.
 */
#include "pvkit/console.h"
#include "pvkit/cpuid.h"
#include "pvkit/mm.h"
#include "pvkit/time.h"
#include "pvkit/timer_calc.h"
#include "pvkit/x86.h"

#define PIT_HZ              1193182u
#define CALIBRATE_MS        20u
#define APIC_ID             0x020
#define APIC_SVR            0x0f0
#define APIC_ICR_LOW        0x300
#define APIC_ICR_HIGH       0x310
#define ICR_PENDING         (1u << 12)
#define APIC_EOI            0x0b0
#define APIC_LVT_TIMER      0x320
#define APIC_TIMER_INIT     0x380
#define APIC_TIMER_CURRENT  0x390
#define APIC_TIMER_DIVIDE   0x3e0
#define LVT_TSC_DEADLINE    (2u << 17)
#define LVT_MASKED          (1u << 16)
#define MSR_TSC_DEADLINE    0x6e0

/* Calibration: set by the boot CPU before the APs start; read-only afterwards. */
static uint64_t tsc_hz, boot_tsc, apic_ticks_per_ms;
static uint32_t scale_mul;
static int8_t scale_shift;
static bool tsc_deadline;
static volatile uint32_t *apic;
/* Hypervisor lock. */
static uint32_t boot_wc_sec, boot_wc_nsec;     /* wall clock at system time 0 */
static uint64_t timer_programmings;            /* all CPUs */

uint64_t timer_program_count(void)
{
    return timer_programmings;
}

static void apic_write(unsigned int reg, uint32_t v)
{
    apic[reg / 4] = v;
}

static uint32_t apic_read(unsigned int reg)
{
    return apic[reg / 4];
}

/* Busy-waits `ms` milliseconds on PIT channel 2; returns TSC ticks elapsed. */
static uint64_t pit_wait_tsc(unsigned int ms)
{
    uint32_t count = PIT_HZ / 1000 * ms;
    outb(0x61, (inb(0x61) & ~0x02) | 0x01);  /* gate on, speaker off */
    outb(0x43, 0xb0);                        /* channel 2, lo/hi, mode 0 */
    outb(0x42, count & 0xff);
    outb(0x42, (count >> 8) & 0xff);
    uint64_t start = rdtsc();
    while (!(inb(0x61) & 0x20))
        cpu_relax();
    return rdtsc() - start;
}

static void compute_scale(void)
{
    uint64_t hz = tsc_hz;
    int shift = 0;
    while (hz <= 1000000000ull) {
        hz <<= 1;
        shift++;
    }
    while (hz > 2000000000ull) {
        hz >>= 1;
        shift--;
    }
    scale_mul = (uint32_t)((1000000000ull << 32) / hz);
    scale_shift = (int8_t)shift;
}

uint64_t system_time_ns(void)
{
    uint64_t delta = rdtsc() - boot_tsc;
    delta = scale_shift >= 0 ? delta << scale_shift : delta >> -scale_shift;
    return (uint64_t)(((unsigned __int128)delta * scale_mul) >> 32);
}

uint64_t time_tsc_hz(void)
{
    return tsc_hz;
}

void time_scale(uint32_t *mul, int8_t *shift)
{
    *mul = scale_mul;
    *shift = scale_shift;
}

static unsigned int cmos_read(unsigned int reg)
{
    outb(0x70, (uint8_t)reg);
    return inb(0x71);
}

static unsigned int bcd(unsigned int v, bool binary)
{
    return binary ? v : (v & 0x0f) + (v >> 4) * 10;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static uint64_t days_since_epoch(unsigned int y, unsigned int m, unsigned int d)
{
    if (m <= 2) {
        y--;
        m += 12;
    }
    return 365ull * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + d - 719469;
}

static void read_rtc(void)
{
    while (cmos_read(0x0a) & 0x80) /* update in progress */
        cpu_relax();
    bool binary = cmos_read(0x0b) & 0x04;
    unsigned int sec = bcd(cmos_read(0x00), binary), min = bcd(cmos_read(0x02), binary);
    unsigned int hour = bcd(cmos_read(0x04) & 0x7f, binary), day = bcd(cmos_read(0x07), binary);
    unsigned int mon = bcd(cmos_read(0x08), binary), year = bcd(cmos_read(0x09), binary);
    boot_wc_sec = (uint32_t)(days_since_epoch(2000 + year, mon, day) * 86400 +
                             hour * 3600 + min * 60 + sec);
}

void time_boot_wallclock(uint32_t *sec, uint32_t *nsec)
{
    *sec = boot_wc_sec;
    *nsec = boot_wc_nsec;
}

void time_set_wallclock(uint64_t secs, uint32_t nsecs, uint64_t system_time)
{
    const uint64_t ns_per_s = 1000000000ull;
    uint64_t now = secs * ns_per_s + nsecs;
    uint64_t at_zero = now > system_time ? now - system_time : 0;
    boot_wc_sec = (uint32_t)(at_zero / ns_per_s);
    boot_wc_nsec = (uint32_t)(at_zero % ns_per_s);
}

/* Enables this CPU's local APIC and puts its timer in the calibrated mode. */
void apic_init_cpu(void)
{
    wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1u << 11));
    apic_write(APIC_SVR, 0x100 | SPURIOUS_VECTOR);   /* software-enable */
    apic_write(APIC_TIMER_DIVIDE, 0x3);                /* divide by 16 */
    apic_write(APIC_LVT_TIMER, tsc_deadline ? LVT_TSC_DEADLINE | TIMER_VECTOR : TIMER_VECTOR);
}

/* Finds the APIC timer mode and, for one-shot mode, its rate (boot CPU). */
static void apic_calibrate(void)
{
    uint32_t r[4];

    apic = phys_to_virt(LAPIC_PHYS);
    cpuid_count(1, 0, r);
    tsc_deadline = r[CPUID_ECX] & (1u << 24);
    apic_init_cpu();
    if (tsc_deadline)
        return;
    apic_write(APIC_LVT_TIMER, LVT_MASKED | TIMER_VECTOR);
    apic_write(APIC_TIMER_INIT, 0xffffffff);
    pit_wait_tsc(CALIBRATE_MS);
    apic_ticks_per_ms = (0xffffffffu - apic_read(APIC_TIMER_CURRENT)) / CALIBRATE_MS;
    apic_write(APIC_TIMER_INIT, 0);
    apic_write(APIC_LVT_TIMER, TIMER_VECTOR);          /* one-shot */
}

uint32_t apic_self_id(void)
{
    return apic_read(APIC_ID) >> 24;
}

void apic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    while (apic_read(APIC_ICR_LOW) & ICR_PENDING)
        cpu_relax();
    apic_write(APIC_ICR_HIGH, apic_id << 24);
    apic_write(APIC_ICR_LOW, icr_low);
}

/* TSC ticks in ns nanoseconds (ns <= TIMER_PROGRAM_MAX_NS: no overflow). */
static uint64_t ns_to_tsc(uint64_t ns)
{
    return ns / 1000000000ull * tsc_hz + ns % 1000000000ull * tsc_hz / 1000000000ull;
}

/*
 * A deadline further than TIMER_PROGRAM_MAX_NS is programmed at that
 * distance (the interrupt then re-arms), which keeps every product below in
 * 64 bits: a guest deadline of years would otherwise wrap the TSC value.
 */
void timer_program(uint64_t deadline_ns)
{
    timer_programmings++;
    if (tsc_deadline) {
        if (!deadline_ns) {
            wrmsr(MSR_TSC_DEADLINE, 0);
            return;
        }
        uint64_t delta_ns = timer_wait_ns(deadline_ns, system_time_ns());
        wrmsr(MSR_TSC_DEADLINE, rdtsc() + ns_to_tsc(delta_ns) + 1);
        return;
    }
    if (!deadline_ns) {
        apic_write(APIC_TIMER_INIT, 0);
        return;
    }
    uint64_t delta_ns = timer_wait_ns(deadline_ns, system_time_ns());
    uint64_t ticks = delta_ns * apic_ticks_per_ms / 1000000ull + 1;
    apic_write(APIC_TIMER_INIT, (uint32_t)MIN(ticks, 0xffffffffull));
}

void apic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

void time_init(void)
{
    tsc_hz = pit_wait_tsc(CALIBRATE_MS) * (1000 / CALIBRATE_MS);
    boot_tsc = rdtsc();
    compute_scale();
    cpuid_set_tsc_khz((uint32_t)(tsc_hz / 1000));
    read_rtc();
    apic_calibrate();
    printk(LOG_INFO, "(pvkit) time: TSC %lu kHz, APIC timer %s, wall clock %u\n",
           (unsigned long)(tsc_hz / 1000), tsc_deadline ? "TSC-deadline" : "one-shot",
           boot_wc_sec);
}
