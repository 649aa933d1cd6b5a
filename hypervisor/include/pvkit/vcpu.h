/*
 * Per-vCPU services (common/vcpu.c): runstate accounting and the pvclock
 * time information published to the guest. vcpu_op itself is a hypercall
 * (pvkit/hypercall.h). Hypervisor lock held.
 */
#ifndef PVKIT_VCPU_H
#define PVKIT_VCPU_H

#include "pvkit/domain.h"

/* Moves a vCPU to a RUNSTATE_*, accounting the time and publishing it (if current). */
void vcpu_set_runstate(struct vcpu *v, int state);
/* Nanoseconds v has run, including the current stretch if it is running now. */
uint64_t vcpu_running_time(const struct vcpu *v);
/*
 * Ends v's running stretch (if it has one and its domain runs): v left its
 * CPU, or its CPU idles under it (v stays loaded while blocked or paused).
 */
void vcpu_stop_running(struct vcpu *v);
/*
 * Brings the runstate of a vCPU that is not running in line with its state
 * after a wake, a pause or an unpause (as Xen: a woken vCPU is runnable, or
 * offline while its domain is paused; a paused runnable one is offline).
 */
void vcpu_refresh_runstate(struct vcpu *v);
/* Runstate bookkeeping for a switch from prev (may be NULL) to next. */
void vcpu_switch_runstate(struct vcpu *prev, struct vcpu *next);
/* Publishes the current pvclock parameters (and runstate) in the vCPU's vcpu_info. */
void update_vcpu_time(struct vcpu *v);

#endif
