/*
 * Timers (common/timer.c): the guests' single-shot and periodic timers, and
 * each CPU's local APIC timer armed for the earliest deadline it serves
 * (guest timers, time slices, poll timeouts, CPU 0's console poll).
 * set_timer_op itself is a hypercall (pvkit/hypercall.h). Hypervisor lock
 * held.
 */
#ifndef PVKIT_TIMER_H
#define PVKIT_TIMER_H

#include "pvkit/domain.h"

/* Arms this CPU's timer for the earliest guest, scheduler or console deadline it serves. */
void rearm_hardware_timer(void);
/*
 * Arms this CPU's timer for the earliest deadline it serves, or until_ns if
 * that is earlier (0: no extra deadline), before the idle loop halts.
 */
void timer_arm_for_idle(uint64_t until_ns);
/*
 * Runs expired guest timers (of every vCPU) and re-arms this CPU's timer;
 * while_idle: the interrupt came while the CPU halted in the idle loop.
 */
void timer_interrupt(bool while_idle);
/*
 * The timer commands of vcpu_op for v itself: VCPUOP_set/stop_singleshot_timer,
 * VCPUOP_set/stop_periodic_timer, argument at guest address arg. 0 or -errno.
 */
long vcpu_timer_op(struct vcpu *v, unsigned int cmd, uint64_t arg);

#endif
