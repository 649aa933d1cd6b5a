/*
 * The local APIC of a PVH vCPU (arch/x86/vlapic.c): an x2APIC reached only
 * through its MSRs (0x800-0x8ff, and APIC_BASE 0x1b, which reads
 * "enabled, x2APIC mode" from the start: there is no xAPIC MMIO page), with
 * its timer (one-shot and periodic, a 1 GHz clock before the divider; no
 * TSC-deadline mode), fixed-mode IPIs between the domain's vCPUs, INIT and
 * Startup IPIs (the start-up protocol is arch/x86/svm.c's), TPR/PPR,
 * IRR/ISR and EOI. All edge-triggered: there is no I/O APIC and no device.
 *
 * Rules: the state is touched with the hypervisor lock held only. A vector
 * becomes pending through vlapic_accept (the timer, an IPI), which wakes
 * and kicks the vCPU; the exit path (arch/x86/svm.c) takes the highest
 * deliverable one with vlapic_ack once the guest can take it. A write the
 * hardware would refuse in x2APIC mode (a read-only or absent register,
 * reserved bits, a non-zero EOI) fails and the caller injects #GP.
 */
#ifndef PVKIT_VLAPIC_H
#define PVKIT_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* LVT entries, in x2APIC MSR order from 0x832: timer, thermal, perf, LINT0, LINT1, error. */
#define VLAPIC_NR_LVT 6

struct vlapic {
    uint32_t irr[8], isr[8];    /* 256 vector bits each */
    uint32_t tpr, svr, esr;
    uint64_t icr;               /* the last ICR written (delivery status always idle) */
    uint32_t lvt[VLAPIC_NR_LVT];
    uint32_t tmict, tdcr;       /* timer initial count, divide configuration */
    uint64_t timer_next;        /* system time ns of the next expiry; 0: stopped */
    uint64_t timer_period;      /* periodic mode: ns per period */
};

/* The reset state: software-disabled (SVR 0xff), every LVT masked, nothing pending. */
void vlapic_reset(struct vcpu *v);
/* True for the MSRs vlapic_rdmsr/vlapic_wrmsr own (APIC_BASE and 0x800-0x8ff). */
bool vlapic_msr(uint32_t msr);
/* RDMSR/WRMSR of an APIC MSR; false where the hardware raises #GP. */
bool vlapic_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *value);
bool vlapic_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value);
/* Makes vector pending on v (vectors below 16 are refused, as illegal, in the ESR). */
void vlapic_accept(struct vcpu *v, unsigned int vector);
/* The highest vector the guest may take now (above PPR, APIC enabled), or -1. */
int vlapic_deliverable(const struct vcpu *v);
/* The guest takes vector (from vlapic_deliverable): IRR -> ISR. */
void vlapic_ack(struct vcpu *v, unsigned int vector);
/* The timer's work at time now (common/timer.c): fires it if it expired. */
void vlapic_timer_check(struct vcpu *v, uint64_t now);

#endif
