/*
 * The x2APIC of a PVH vCPU (see pvkit/vlapic.h for what it offers and its
 * rules). Register numbers are x2APIC MSRs; the checks are those the SDM
 * gives for x2APIC mode (vol. 3, 11.12): reserved bits, read-only and
 * write-only registers, a non-zero EOI all raise #GP.
 *
 * Invariants: irr/isr hold only vectors 16-255; a stopped timer has
 * timer_next 0; a periodic timer's period is at least VLAPIC_PERIOD_MIN_NS
 * (a guest cannot make its timer fire more often than that).
 */
#include "pvkit/vlapic.h"
#include "pvkit/domain.h"
#include "pvkit/sched.h"
#include "pvkit/svm.h"
#include "pvkit/time.h"
#include "pvkit/timer.h"
#include "pvkit/timer_calc.h"
#include "pvkit/x86.h"

#define X2APIC_MSR_FIRST    0x800u
#define X2APIC_MSR_LAST     0x8ffu
/* Registers, as MSR - 0x800 (the xAPIC offset >> 4). */
#define REG_ID              0x02
#define REG_VERSION         0x03
#define REG_TPR             0x08
#define REG_PPR             0x0a
#define REG_EOI             0x0b
#define REG_LDR             0x0d
#define REG_SVR             0x0f
#define REG_ISR0            0x10
#define REG_TMR0            0x18
#define REG_IRR0            0x20
#define REG_ESR             0x28
#define REG_ICR             0x30
#define REG_LVT_TIMER       0x32
#define REG_LVT_LAST        (REG_LVT_TIMER + VLAPIC_NR_LVT - 1)
#define REG_TMICT           0x38
#define REG_TMCCT           0x39
#define REG_TDCR            0x3e
#define REG_SELF_IPI        0x3f

/* Version 0x14 (integrated), six LVT entries (max LVT index 5), no EOI-broadcast suppression. */
#define APIC_VERSION        0x00050014u
#define APIC_BASE_VALUE     (0xfee00000ull | (1ull << 10) /* x2APIC */ | (1ull << 11) /* on */)
#define APIC_BASE_BSP       (1ull << 8)
#define SVR_ENABLE          (1u << 8)
#define SVR_VALID           0x1ffu
#define LVT_MASKED          (1u << 16)
#define LVT_TIMER_PERIODIC  (1u << 17)
#define LVT_TIMER_VALID     (0xffu | LVT_MASKED | LVT_TIMER_PERIODIC)
#define LVT_LINT_VALID      (0x7ffu | (1u << 13) | (1u << 15) | LVT_MASKED)
#define LVT_OTHER_VALID     (0x7ffu | LVT_MASKED)
#define TDCR_VALID          0xbu
#define ESR_SEND_ILLEGAL    (1u << 5)
#define ESR_RECV_ILLEGAL    (1u << 6)
/* ICR: vector, delivery mode (8-10), destination mode (11), level (14), trigger (15), shorthand (18-19). */
#define ICR_VALID_LOW       (0x7ffu | (1u << 11) | (1u << 14) | (1u << 15) | (3u << 18))
#define ICR_MODE(icr)       (((icr) >> 8) & 7)
#define ICR_LOGICAL         (1u << 11)
#define ICR_SHORTHAND(icr)  (((icr) >> 18) & 3)
#define ICR_MODE_FIXED      0
#define ICR_MODE_LOWEST     1
#define ICR_MODE_INIT       5
#define ICR_MODE_STARTUP    6
#define ICR_LEVEL_ASSERT    (1u << 14)
#define DEST_BROADCAST      0xffffffffu
/* The shortest period a periodic APIC timer gets (shorter counts are stretched to it). */
#define VLAPIC_PERIOD_MIN_NS 100000ull

static void set_bit256(uint32_t *map, unsigned int vector)
{
    map[vector / 32] |= 1u << (vector % 32);
}

static void clear_bit256(uint32_t *map, unsigned int vector)
{
    map[vector / 32] &= ~(1u << (vector % 32));
}

/* The highest vector set in map, or -1. */
static int highest_bit256(const uint32_t *map)
{
    for (int i = 7; i >= 0; i--)
        if (map[i])
            return i * 32 + 31 - __builtin_clz(map[i]);
    return -1;
}

/* PPR: the TPR, or the class of the highest vector in service if that is higher. */
static uint32_t ppr(const struct vlapic *l)
{
    int isr = highest_bit256(l->isr);
    uint32_t isr_class = isr < 0 ? 0 : (uint32_t)isr & 0xf0;
    return (l->tpr & 0xf0) >= isr_class ? l->tpr : isr_class;
}

/* x2APIC logical destination of vCPU id: cluster in bits 31:16, one bit of 16 below. */
static uint32_t ldr(unsigned int id)
{
    return ((id >> 4) << 16) | (1u << (id & 15));
}

/* The divider TDCR selects: bits 3,1:0 = 0..6 -> 2^(n+1), 7 -> 1. */
static uint32_t divider(const struct vlapic *l)
{
    uint32_t n = ((l->tdcr >> 1) & 4) | (l->tdcr & 3);
    return n == 7 ? 1 : 2u << n;
}

void vlapic_reset(struct vcpu *v)
{
    struct vlapic *l = &v->lapic;
    memset(l, 0, sizeof(*l));
    l->svr = 0xff;
    for (unsigned int i = 0; i < VLAPIC_NR_LVT; i++)
        l->lvt[i] = LVT_MASKED;
}

bool vlapic_msr(uint32_t msr)
{
    return msr == MSR_APIC_BASE || (msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST);
}

void vlapic_accept(struct vcpu *v, unsigned int vector)
{
    if (vector < 16) {
        v->lapic.esr |= ESR_RECV_ILLEGAL;
        return;
    }
    set_bit256(v->lapic.irr, vector);
    vcpu_wake(v);
    vcpu_kick(v);
}

int vlapic_deliverable(const struct vcpu *v)
{
    const struct vlapic *l = &v->lapic;
    int vector = highest_bit256(l->irr);
    if (!(l->svr & SVR_ENABLE) || vector < 0 || ((uint32_t)vector & 0xf0) <= (ppr(l) & 0xf0))
        return -1;
    return vector;
}

void vlapic_ack(struct vcpu *v, unsigned int vector)
{
    clear_bit256(v->lapic.irr, vector);
    set_bit256(v->lapic.isr, vector);
}

/* --- the timer ----------------------------------------------------------- */

/* Loads the count: the timer runs from now (a count of 0 stops it). */
static void timer_start(struct vcpu *v)
{
    struct vlapic *l = &v->lapic;
    uint64_t ns = (uint64_t)l->tmict * divider(l);
    l->timer_next = 0;
    l->timer_period = 0;
    if (!l->tmict)
        return;
    if (l->lvt[0] & LVT_TIMER_PERIODIC)
        l->timer_period = ns = MAX(ns, VLAPIC_PERIOD_MIN_NS);
    l->timer_next = system_time_ns() + ns;
    rearm_hardware_timer();
}

/* The current count: what is left of this period, in ticks (0 once a one-shot expired). */
static uint32_t timer_current(const struct vlapic *l)
{
    uint64_t now = system_time_ns();
    if (!l->timer_next || l->timer_next <= now)
        return 0;
    return (uint32_t)MIN((l->timer_next - now) / divider(l), (uint64_t)l->tmict);
}

void vlapic_timer_check(struct vcpu *v, uint64_t now)
{
    struct vlapic *l = &v->lapic;
    if (!l->timer_next || l->timer_next > now)
        return;
    l->timer_next = l->timer_period ? periodic_next_after(l->timer_next, l->timer_period, now) : 0;
    if (!(l->lvt[0] & LVT_MASKED))
        vlapic_accept(v, l->lvt[0] & 0xff);
}

/* --- IPIs ---------------------------------------------------------------- */

/* Does vCPU id match the ICR's destination (field dest, logical or physical)? */
static bool ipi_matches(unsigned int id, uint32_t dest, bool logical)
{
    if (dest == DEST_BROADCAST)
        return true;
    if (!logical)
        return dest == id;
    return (dest >> 16) == (ldr(id) >> 16) && (dest & ldr(id) & 0xffff);
}

/* One IPI of delivery mode `mode` reaching vCPU t. */
static void deliver_ipi(struct vcpu *t, unsigned int mode, uint8_t vector)
{
    if (mode == ICR_MODE_INIT)
        svm_vcpu_init_signal(t);
    else if (mode == ICR_MODE_STARTUP)
        svm_vcpu_startup_ipi(t, vector);
    else
        vlapic_accept(t, vector);
}

/*
 * An ICR write: fixed (and lowest-priority, given to the first vCPU that
 * matches) interrupts, INIT and Startup IPIs (svm.c: the start-up
 * protocol; an INIT level de-assert does nothing, as on any CPU since the
 * Pentium 4) to the domain's vCPUs; a destination no vCPU has reaches
 * nobody. False (#GP) for reserved bits and for the delivery modes not
 * emulated (SMI, NMI, the reserved 3 and 7).
 */
static bool send_ipi(struct vcpu *v, uint64_t icr)
{
    uint32_t low = (uint32_t)icr, dest = (uint32_t)(icr >> 32), vector = low & 0xff;
    unsigned int mode = ICR_MODE(low), shorthand = ICR_SHORTHAND(low);
    struct domain *d = v->domain;

    if ((low & ~ICR_VALID_LOW) || (mode != ICR_MODE_FIXED && mode != ICR_MODE_LOWEST &&
                                   mode != ICR_MODE_INIT && mode != ICR_MODE_STARTUP))
        return false;
    v->lapic.icr = icr;
    if (mode == ICR_MODE_INIT && !(low & ICR_LEVEL_ASSERT))
        return true;
    if (vector < 16 && (mode == ICR_MODE_FIXED || mode == ICR_MODE_LOWEST)) {
        v->lapic.esr |= ESR_SEND_ILLEGAL;
        return true;
    }
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        struct vcpu *t = &d->vcpus[i];
        bool hit = shorthand == 1 ? t == v : shorthand == 2 ? true : shorthand == 3 ? t != v :
                   ipi_matches(t->id, dest, low & ICR_LOGICAL);
        if (!hit)
            continue;
        deliver_ipi(t, mode, (uint8_t)vector);
        if (mode == ICR_MODE_LOWEST)
            break;
    }
    return true;
}

/* --- the MSRs ------------------------------------------------------------ */

/* A read of register reg (MSR - 0x800); false where it is absent or write-only. */
static bool read_reg(const struct vcpu *v, unsigned int reg, uint64_t *value)
{
    const struct vlapic *l = &v->lapic;
    if (reg >= REG_ISR0 && reg < REG_ISR0 + 8) {
        *value = l->isr[reg - REG_ISR0];
        return true;
    }
    if (reg >= REG_TMR0 && reg < REG_TMR0 + 8) {
        *value = 0;               /* everything is edge-triggered */
        return true;
    }
    if (reg >= REG_IRR0 && reg < REG_IRR0 + 8) {
        *value = l->irr[reg - REG_IRR0];
        return true;
    }
    if (reg >= REG_LVT_TIMER && reg <= REG_LVT_LAST) {
        *value = l->lvt[reg - REG_LVT_TIMER];
        return true;
    }
    switch (reg) {
    case REG_ID: *value = v->id; return true;
    case REG_VERSION: *value = APIC_VERSION; return true;
    case REG_TPR: *value = l->tpr; return true;
    case REG_PPR: *value = ppr(l); return true;
    case REG_LDR: *value = ldr(v->id); return true;
    case REG_SVR: *value = l->svr; return true;
    case REG_ESR: *value = l->esr; return true;
    case REG_ICR: *value = l->icr; return true;
    case REG_TMICT: *value = l->tmict; return true;
    case REG_TMCCT: *value = timer_current(l); return true;
    case REG_TDCR: *value = l->tdcr; return true;
    default: return false;        /* EOI, SELF_IPI (write-only), reserved */
    }
}

bool vlapic_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    if (msr == MSR_APIC_BASE) {
        *value = APIC_BASE_VALUE | (v->id == 0 ? APIC_BASE_BSP : 0);
        return true;
    }
    return read_reg(v, msr - X2APIC_MSR_FIRST, value);
}

/* An LVT write: bits the entry does not have are refused; a disabled APIC keeps them masked. */
static bool write_lvt(struct vlapic *l, unsigned int i, uint32_t value)
{
    static const uint32_t valid[VLAPIC_NR_LVT] = {
        LVT_TIMER_VALID, LVT_OTHER_VALID, LVT_OTHER_VALID,
        LVT_LINT_VALID, LVT_LINT_VALID, LVT_OTHER_VALID,
    };
    if (value & ~valid[i])
        return false;
    l->lvt[i] = (l->svr & SVR_ENABLE) ? value : value | LVT_MASKED;
    return true;
}

/* A write of register reg with a 32-bit value (ICR aside); false: #GP. */
static bool write_reg(struct vcpu *v, unsigned int reg, uint32_t value)
{
    struct vlapic *l = &v->lapic;
    if (reg >= REG_LVT_TIMER && reg <= REG_LVT_LAST)
        return write_lvt(l, reg - REG_LVT_TIMER, value);
    switch (reg) {
    case REG_TPR:
        if (value & ~0xffu)
            return false;
        l->tpr = value;
        return true;
    case REG_EOI: {
        int vector = highest_bit256(l->isr);
        if (value)
            return false;
        if (vector >= 0)
            clear_bit256(l->isr, (unsigned int)vector);
        return true;
    }
    case REG_SVR:
        if (value & ~SVR_VALID)
            return false;
        l->svr = value;
        if (!(value & SVR_ENABLE))
            for (unsigned int i = 0; i < VLAPIC_NR_LVT; i++)
                l->lvt[i] |= LVT_MASKED;
        return true;
    case REG_ESR:
        if (value)
            return false;
        l->esr = 0;
        return true;
    case REG_TMICT:
        l->tmict = value;
        timer_start(v);
        return true;
    case REG_TDCR:
        if (value & ~TDCR_VALID)
            return false;
        l->tdcr = value;
        return true;
    case REG_SELF_IPI:
        if (value & ~0xffu)
            return false;
        vlapic_accept(v, value);
        return true;
    default:
        return false;             /* read-only (ID, version, LDR, PPR, ISR, TMR, IRR, TMCCT), reserved */
    }
}

bool vlapic_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value)
{
    if (msr == MSR_APIC_BASE)     /* x2APIC mode stays on: no xAPIC page, no disabling */
        return value == (APIC_BASE_VALUE | (v->id == 0 ? APIC_BASE_BSP : 0));
    unsigned int reg = msr - X2APIC_MSR_FIRST;
    if (reg == REG_ICR)
        return send_ipi(v, value);
    if (value >> 32)
        return false;
    return write_reg(v, reg, (uint32_t)value);
}
