/*
 * pvh_lapic: the x2APIC a PVH vCPU has (hypervisor/arch/x86/vlapic.c).
 *
 * Checks: CPUID shows the APIC and x2APIC with APIC id 0, Xen's leaf 4 the
 * vCPU id, no host topology in leaf 0xb; APIC_BASE reads enabled + x2APIC
 * + BSP and refuses any other value (#GP); ID, version and LDR; a self-IPI
 * (SELF_IPI and ICR) waits in IRR while IF is clear, is taken when it is
 * set, sits in ISR (PPR follows) until EOI; TPR holds back a vector of its
 * class or below; the one-shot timer fires once after its count (TMCCT
 * counts down, reads 0 after), the periodic one again and again until
 * stopped; a masked timer counts but raises nothing. Hostile: reads of
 * write-only registers, writes of read-only ones, reserved registers and
 * bits, a non-zero EOI, ICR delivery modes not emulated (NMI, SMI, the
 * reserved ones): all #GP; an INIT de-assert, Startup IPIs to itself
 * (running) and to APIC ids nobody has change nothing; illegal vectors
 * (below 16) are not delivered and show in ESR.
 */
#include "pvh.h"

#define APIC_BASE   0x1b
#define X2(reg)     (0x800u + (reg))
#define ID          X2(0x02)
#define VERSION     X2(0x03)
#define TPR         X2(0x08)
#define PPR         X2(0x0a)
#define EOI         X2(0x0b)
#define LDR         X2(0x0d)
#define SVR         X2(0x0f)
#define ISR(n)      X2(0x10 + (n))
#define IRR(n)      X2(0x20 + (n))
#define ESR         X2(0x28)
#define ICR         X2(0x30)
#define LVT_TIMER   X2(0x32)
#define LVT_LINT0   X2(0x35)
#define TMICT       X2(0x38)
#define TMCCT       X2(0x39)
#define TDCR        X2(0x3e)
#define SELF_IPI    X2(0x3f)

#define V_SELF      0x40
#define V_LOW       0x45
#define V_ICR       0x46
#define V_ONESHOT   0x50
#define V_PERIODIC  0x51
#define V_MASKED    0x52

static uint64_t rd(uint32_t msr)
{
    uint64_t v = 0;
    EXPECT_EQ(pvh_rdmsr(msr, &v), PVH_NO_TRAP);
    return v;
}

static void wr(uint32_t msr, uint64_t v)
{
    EXPECT_EQ(pvh_wrmsr(msr, v), PVH_NO_TRAP);
}

/* Is vector v set in the 256-bit register starting at msr (ISR(0) or IRR(0))? */
static int bit(uint32_t msr, unsigned int v)
{
    return (rd(msr + v / 32) >> (v % 32)) & 1;
}

static void check_cpuid(void)
{
    TEST("CPUID: APIC and x2APIC, id 0");
    uint32_t r[4];
    pvh_cpuid(1, 0, r);
    EXPECT(r[2] & (1u << 21));   /* x2APIC */
    EXPECT(r[3] & (1u << 9));    /* APIC */
    EXPECT(!(r[2] & (1u << 24))); /* no TSC-deadline timer */
    EXPECT_EQ(r[1] >> 24, 0);
    pvh_cpuid(0x40000004, 0, r);
    EXPECT(r[0] & (1u << 3));    /* vCPU id present ... */
    EXPECT_EQ(r[1], 0);          /* ... and 0 */
    pvh_cpuid(0xb, 0, r);
    EXPECT_EQ(r[0] | r[1] | r[2] | r[3], 0);
}

static void check_registers(void)
{
    TEST("APIC_BASE, ID, version, LDR");
    EXPECT_EQ(rd(APIC_BASE), 0xfee00000ul | (1u << 11) | (1u << 10) | (1u << 8));
    wr(APIC_BASE, rd(APIC_BASE));                                   /* the same value: fine */
    EXPECT_EQ(pvh_wrmsr(APIC_BASE, 0xfee00000ul | (1u << 11) | (1u << 8)), PVH_GP); /* xAPIC */
    EXPECT_EQ(pvh_wrmsr(APIC_BASE, 0xfee00000ul | (1u << 10) | (1u << 8)), PVH_GP); /* off */
    EXPECT_EQ(pvh_wrmsr(APIC_BASE, 0xfed00000ul | (3u << 10) | (1u << 8)), PVH_GP); /* moved */
    EXPECT_EQ(rd(ID), 0);
    EXPECT_EQ(rd(VERSION), 0x50014);
    EXPECT_EQ(rd(LDR), 1);
    EXPECT_EQ(rd(SVR), 0xff);    /* software-disabled at reset */
    EXPECT_EQ(rd(LVT_TIMER), 1u << 16);
    wr(SVR, 0x1ff);
    wr(TPR, 0);
    EXPECT_EQ(rd(PPR), 0);
}

static void check_self_ipi(void)
{
    TEST("self-IPI: IRR, then ISR and PPR until EOI");
    wr(SELF_IPI, V_SELF);
    EXPECT(bit(IRR(0), V_SELF));
    EXPECT_EQ(pvh_irq_count[V_SELF], 0);    /* IF clear: it waits */
    pvh_irq_window();
    EXPECT_EQ(pvh_irq_count[V_SELF], 1);
    EXPECT(!bit(IRR(0), V_SELF));
    EXPECT(bit(ISR(0), V_SELF));
    EXPECT_EQ(rd(PPR), V_SELF & 0xf0);
    wr(EOI, 0);
    EXPECT(!bit(ISR(0), V_SELF));
    EXPECT_EQ(rd(PPR), 0);

    TEST("TPR holds back a vector of its class");
    wr(TPR, 0x50);
    wr(SELF_IPI, V_LOW);
    pvh_irq_window();
    EXPECT_EQ(pvh_irq_count[V_LOW], 0);
    EXPECT(bit(IRR(0), V_LOW));
    wr(TPR, 0);
    pvh_irq_window();
    EXPECT_EQ(pvh_irq_count[V_LOW], 1);
    wr(EOI, 0);

    TEST("ICR: fixed, to ourselves (shorthand and destination 0)");
    wr(ICR, (1u << 18) | V_ICR);            /* shorthand: self */
    pvh_irq_window();
    EXPECT_EQ(pvh_irq_count[V_ICR], 1);
    wr(EOI, 0);
    wr(ICR, V_ICR);                         /* physical destination 0: us */
    pvh_irq_window();
    EXPECT_EQ(pvh_irq_count[V_ICR], 2);
    wr(EOI, 0);
    wr(ICR, ((uint64_t)5 << 32) | V_ICR);   /* destination 5: nobody */
    pvh_irq_window();
    EXPECT_EQ(pvh_irq_count[V_ICR], 2);
    EXPECT_EQ(rd(ICR), ((uint64_t)5 << 32) | V_ICR);
}

static void check_timers(void)
{
    TEST("one-shot timer: counts down, fires once");
    wr(TDCR, 0xb);                          /* divide by 1: 1 ns per count */
    wr(LVT_TIMER, V_ONESHOT);
    wr(TMICT, 2000000);                     /* 2 ms */
    uint64_t left = rd(TMCCT);
    EXPECT(left > 0 && left <= 2000000);
    EXPECT_EQ(pvh_halt_until(V_ONESHOT, 1, 1000), 1);
    wr(EOI, 0);
    EXPECT_EQ(rd(TMCCT), 0);

    TEST("periodic timer: fires until stopped");
    wr(LVT_TIMER, (1u << 17) | V_PERIODIC);
    wr(TMICT, 1000000);                     /* 1 ms */
    for (unsigned int i = 1; i <= 3; i++) {
        EXPECT_EQ(pvh_halt_until(V_PERIODIC, i, 1000), i);
        wr(EOI, 0);
    }
    wr(TMICT, 0);
    EXPECT_EQ(rd(TMCCT), 0);
    uint64_t seen = pvh_irq_count[V_PERIODIC];
    wr(LVT_TIMER, V_ONESHOT);
    wr(TMICT, 5000000);                     /* wait 5 ms on a one-shot: the periodic stays quiet */
    EXPECT_EQ(pvh_halt_until(V_ONESHOT, 2, 1000), 2);
    wr(EOI, 0);
    EXPECT_EQ(pvh_irq_count[V_PERIODIC], seen);
    EXPECT_EQ(pvh_irq_count[V_ONESHOT], 2);  /* the first one-shot fired once */

    TEST("masked timer counts, raises nothing");
    wr(LVT_TIMER, (1u << 16) | V_MASKED);
    wr(TMICT, 100000);
    for (unsigned int i = 0; i < 100000 && rd(TMCCT); i++)
        pvh_irq_window();
    EXPECT_EQ(rd(TMCCT), 0);
    pvh_irq_window();
    EXPECT_EQ(pvh_irq_count[V_MASKED], 0);
    EXPECT(!bit(IRR(0), V_MASKED));
}

static void check_hostile(void)
{
    static const uint32_t write_only[] = { EOI, SELF_IPI };
    static const uint32_t read_only[] = { ID, VERSION, PPR, LDR, ISR(0), ISR(7), IRR(3), X2(0x18), TMCCT };
    static const uint32_t absent[] = { X2(0x00), X2(0x04), X2(0x09), X2(0x0c), X2(0x2f), X2(0x31),
                                       X2(0x3a), X2(0x40), X2(0xff) };
    uint64_t v;

    TEST("hostile: write-only, read-only and absent registers #GP");
    for (unsigned int i = 0; i < sizeof(write_only) / sizeof(write_only[0]); i++)
        EXPECT_EQ(pvh_rdmsr(write_only[i], &v), PVH_GP);
    for (unsigned int i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++)
        EXPECT_EQ(pvh_wrmsr(read_only[i], 0), PVH_GP);
    for (unsigned int i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        EXPECT_EQ(pvh_rdmsr(absent[i], &v), PVH_GP);
        EXPECT_EQ(pvh_wrmsr(absent[i], 0), PVH_GP);
    }

    TEST("hostile: reserved bits and values #GP");
    EXPECT_EQ(pvh_wrmsr(EOI, 1), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(TPR, 0x100), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(TPR, 1ull << 32), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(SVR, 0x1000 | 0x1ff), PVH_GP);      /* EOI-broadcast suppression: not offered */
    EXPECT_EQ(pvh_wrmsr(LVT_TIMER, (2u << 17) | 0x60), PVH_GP); /* TSC-deadline mode */
    EXPECT_EQ(pvh_wrmsr(LVT_LINT0, 1u << 12), PVH_GP);       /* delivery status is read-only */
    EXPECT_EQ(pvh_wrmsr(TDCR, 0x4), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(ESR, 1), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(SELF_IPI, 0x100), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(ICR, (1u << 12) | V_ICR), PVH_GP);   /* reserved bit 12 */
    EXPECT_EQ(pvh_wrmsr(ICR, (4u << 8) | V_ICR), PVH_GP);    /* NMI: not emulated */
    EXPECT_EQ(pvh_wrmsr(ICR, (2u << 8)), PVH_GP);            /* SMI */
    EXPECT_EQ(pvh_wrmsr(ICR, (3u << 8) | V_ICR), PVH_GP);    /* reserved mode 3 */
    EXPECT_EQ(pvh_wrmsr(ICR, (7u << 8) | V_ICR), PVH_GP);    /* reserved mode 7 */
    /* INIT de-assert, a Startup IPI to us (running) and to an APIC id nobody has: nothing (pvh_smp starts a vCPU) */
    EXPECT_EQ(pvh_wrmsr(ICR, (5u << 8)), PVH_NO_TRAP);
    EXPECT_EQ(pvh_wrmsr(ICR, (6u << 8) | 0x10), PVH_NO_TRAP);
    EXPECT_EQ(pvh_wrmsr(ICR, (6u << 8) | 0x10 | (7ull << 32)), PVH_NO_TRAP);
    EXPECT_EQ(pvh_wrmsr(ICR, (5u << 8) | (1u << 14) | (9ull << 32)), PVH_NO_TRAP);
    EXPECT_EQ(rd(TPR), 0);
    EXPECT_EQ(rd(SVR), 0x1ff);

    TEST("hostile: illegal vectors go to ESR, not to us");
    wr(ESR, 0);
    wr(SELF_IPI, 3);
    wr(ICR, (1u << 18) | 7);
    pvh_irq_window();
    EXPECT_EQ(rd(ESR), (1u << 6) | (1u << 5));
    EXPECT(!bit(IRR(0), 3) && !bit(IRR(0), 7));
    wr(ESR, 0);
    EXPECT_EQ(rd(ESR), 0);
}

void test_main(void)
{
    check_cpuid();
    check_registers();
    check_self_ipi();
    check_timers();
    check_hostile();
}
