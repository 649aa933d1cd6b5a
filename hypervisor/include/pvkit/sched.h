/*
 * The scheduler (common/schedule.c): round robin over the runnable vCPUs of
 * all running domains, on every CPU, decided on the way out to a guest.
 *
 * A vCPU that blocks or polls is marked and the switch happens on the way
 * out of the hypervisor, so hypercalls that block still return normally
 * (their result is in RAX when the vCPU runs again). Everything here runs
 * with the hypervisor lock held; idle_once drops it while the CPU halts.
 */
#ifndef PVKIT_SCHED_H
#define PVKIT_SCHED_H

#include "pvkit/domain.h"
#include "pvkit/smp.h"

/*
 * Blocks v until an event is pending for it (at once if one is). Nothing if
 * v is no longer runnable: another vCPU took it down (VCPUOP_down, INIT)
 * while its hypercall waited for the lock, and down it stays.
 */
void vcpu_block(struct vcpu *v);
/* Blocks until one of the ports is pending or until_ns (if not 0) passes; as vcpu_block if v is not runnable. */
void vcpu_poll(struct vcpu *v, const evtchn_port_t *ports, unsigned int n, uint64_t until_ns);
/*
 * Waits for one interrupt with the hypervisor lock dropped, this CPU's
 * timer armed no later than until_ns (if not 0); runs the timer work if the
 * timer fired. Lock held on entry and return.
 */
void idle_once(uint64_t until_ns);
/*
 * Runs the timer work of a timer interrupt this CPU took in the hypervisor
 * (lock dropped: the idle halt, while_idle, or right after a PVH guest's
 * VMEXIT, the interrupt having come while the guest ran), if one is
 * pending. Lock held.
 */
void serve_pending_timer(bool while_idle);
/* Makes a blocked vCPU runnable if what it waits for has happened. */
void vcpu_wake(struct vcpu *v);
/* Makes a down or blocked vCPU runnable (VCPUOP_up) and finds it a CPU. */
void vcpu_make_runnable(struct vcpu *v);
/* Hands runnable vCPU v to a CPU: the one it is loaded on, this one if idle, an idle one. */
void vcpu_place(struct vcpu *v);
/* Has the CPU that has v loaded (if any) take a scheduling decision soon. */
void vcpu_force_reschedule(struct vcpu *v);
/* Kicks the remote CPU running v, so that it notices a new event. */
void vcpu_kick(struct vcpu *v);
/* Asks for a scheduling decision on this CPU's next exit to a guest. */
void raise_resched(void);
/* True if v may run: runnable, its domain running and not paused. */
static inline bool vcpu_can_run(const struct vcpu *v)
{
    return v->state == VCPU_RUNNABLE && v->domain->state == DOMAIN_RUNNING && !v->domain->paused;
}
/* schedule's work when the current vCPU (cur, may be NULL) cannot go on. */
void schedule_next(struct vcpu *cur);
/*
 * Picks what runs next (on every exit to a guest); idles or powers off if
 * nothing can. Inline: the rule is that the current vCPU goes on.
 */
static inline void schedule(void)
{
    struct vcpu *cur = current_vcpu();
    if (!cur || !vcpu_can_run(cur) || cpu_need_resched(this_cpu()))
        schedule_next(cur);
}
/*
 * Boot: makes v the first vCPU this CPU runs, with a full time slice, and
 * arms the timer; its page tables and registers are loaded into
 * cpu_info.guest_regs. Call exit_to_guest() afterwards (lock held).
 */
void schedule_first_vcpu(struct vcpu *v);
/* The timer interrupt's scheduling work: time slices, poll timeouts. */
void schedule_tick(uint64_t now);
/* The earliest time the scheduler needs CPU `cpu`'s timer (0: none). */
uint64_t schedule_next_deadline(unsigned int cpu);
/* Prints the scheduler's statistics and every CPU's (smp_print_stats). */
void schedule_print_stats(void);

#endif
