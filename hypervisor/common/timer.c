/*
 * Timers: the guests' timers and each CPU's local APIC timer that serves
 * them, the scheduler's time slices and CPU 0's console poll.
 *
 * Each vCPU has one single-shot deadline (set_timer_op, VCPUOP_*singleshot*)
 * and an optional period (VCPUOP_*periodic*), in system time ns, served by
 * the APIC timer of the CPU it last ran on (vcpu.cpu). Each CPU's timer is
 * armed for the earliest deadline it serves: its vCPUs' timers, its time
 * slice and poll deadlines (schedule_next_deadline), on CPU 0 the console
 * poll. Any CPU's timer interrupt fires every expired vCPU timer
 * (VIRQ_TIMER; a PVH vCPU's local APIC timer too, arch/x86/vlapic.c)
 * and re-arms its own timer from scratch; a deadline moved
 * later is left to the armed interrupt (at most one early interrupt).
 * Everything here runs with the hypervisor lock held; percpu.timer_armed
 * is written only by its own CPU.
 */
#include "pvkit/timer.h"
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "pvkit/sched.h"
#include "pvkit/smp.h"
#include "pvkit/time.h"
#include "pvkit/timer_calc.h"

/* When CPU 0 next polls the serial console (system time ns); hypervisor lock. */
static uint64_t next_console_poll;

/*
 * The earliest deadline CPU `cpu` serves: its scheduler's, the timers of the
 * vCPUs that last ran there, and (CPU 0) the console poll.
 */
static uint64_t earliest_deadline(unsigned int cpu)
{
    uint64_t next = schedule_next_deadline(cpu);
    if (cpu == 0) {
        if (!next_console_poll)
            next_console_poll = system_time_ns() + CONSOLE_POLL_NS;
        if (!next || next_console_poll < next)
            next = next_console_poll;
    }
    struct domain *d;

    for_each_domain(d, slot) {
        if (d->state != DOMAIN_RUNNING)
            continue;
        for (unsigned int i = 0; i < d->nr_vcpus; i++) {
            if (d->vcpus[i].cpu != cpu)
                continue;
            uint64_t t = d->vcpus[i].timer_deadline, p = d->vcpus[i].periodic_next;
            uint64_t a = d->vcpus[i].lapic.timer_next; /* 0 but for a PVH vCPU's */
            if (t && (!next || t < next))
                next = t;
            if (p && (!next || p < next))
                next = p;
            if (a && (!next || a < next))
                next = a;
        }
    }
    return next;
}

/* Programs this CPU's timer and remembers the deadline (0: disarmed). */
static void program_timer(struct percpu *pc, uint64_t deadline)
{
    pc->timer_armed = deadline;
    timer_program(deadline);
}

/*
 * A deadline that is not earlier than the one armed is left to the armed
 * one: it fires first, and timer_interrupt re-arms from scratch. So moving
 * a deadline later (a new time slice, a stopped timer) costs no timer write,
 * at the price of at most one early interrupt.
 */
void rearm_hardware_timer(void)
{
    struct percpu *pc = this_cpu();
    uint64_t next = earliest_deadline(pc->id);
    if (pc->timer_armed && (!next || next >= pc->timer_armed))
        return;
    program_timer(pc, next);
}

void timer_arm_for_idle(uint64_t until_ns)
{
    struct percpu *pc = this_cpu();
    uint64_t next = earliest_deadline(pc->id);
    if (until_ns && (!next || until_ns < next))
        next = until_ns;
    program_timer(pc, next);
}

static void fire_vcpu_timers(struct vcpu *v, uint64_t now)
{
    bool fire = false;
    if (v->timer_deadline && v->timer_deadline <= now) {
        v->timer_deadline = 0;
        fire = true;
    }
    if (v->periodic_next && v->periodic_next <= now) {
        v->periodic_next = periodic_next_after(v->periodic_next, v->timer_period, now);
        fire = true;
    }
    if (fire) {
        v->domain->event_stats.timer_fires++;
        send_virq(v, VIRQ_TIMER);
    }
    if (is_pvh(v->domain))
        vlapic_timer_check(v, now);
}

/*
 * Records how late the work of the interrupt armed for ARMED runs at NOW,
 * and logs one line for a delay of TIMER_LATE_NS or more, saying whether
 * the interrupt came while the CPU halted in the idle loop or ran a guest.
 */
static void note_timer_lateness(struct percpu *pc, uint64_t armed, uint64_t now, bool while_idle)
{
    if (!armed || now <= armed)
        return;
    uint64_t late = now - armed;
    struct cpu_stats *s = &pc->stats;
    if (late > s->timer_late_max_ns)
        __atomic_store_n(&s->timer_late_max_ns, late, __ATOMIC_RELAXED);
    if (late < TIMER_LATE_NS)
        return;
    cpu_stat_add(&s->timers_late, 1);
    const struct vcpu *v = current_vcpu();
    const char *where = while_idle ? "halted" : "in a guest";
    if (v)
        printk(LOG_WARN, "(pvkit) cpu%u: timer work ran %lu ms late (%s, vCPU d%u.%u loaded, "
               "last hypercall %lu)\n", pc->id, (unsigned long)(late / 1000000), where,
               v->domain->id, v->id, (unsigned long)get_cpu_info()->last_hypercall);
    else
        printk(LOG_WARN, "(pvkit) cpu%u: timer work ran %lu ms late (%s, no vCPU loaded)\n",
               pc->id, (unsigned long)(late / 1000000), where);
}

void timer_interrupt(bool while_idle)
{
    uint64_t now = system_time_ns();
    note_timer_lateness(this_cpu(), this_cpu()->timer_armed, now, while_idle);
    this_cpu()->timer_armed = 0; /* it fired: re-armed below from scratch */
    schedule_tick(now);
    if (this_cpu_id() == 0 && now >= next_console_poll) {
        console_poll();
        next_console_poll = now + CONSOLE_POLL_NS;
    }
    struct domain *d;

    for_each_domain(d, slot) {
        if (d->state != DOMAIN_RUNNING)
            continue;
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            fire_vcpu_timers(&d->vcpus[i], now);
    }
    rearm_hardware_timer();
}

/*
 * Arms the vCPU's single-shot timer (0 disarms). Deadlines are signed system
 * times, as in Xen: one in the past (including "negative" ones such as ~0)
 * fires at once.
 */
static long set_singleshot(struct vcpu *v, uint64_t timeout_ns, bool future_only)
{
    bool past = deadline_is_past(timeout_ns, system_time_ns());

    if (future_only && past)
        return -XEN_ETIME;
    v->timer_deadline = 0;
    if (timeout_ns && past)
        send_virq(v, VIRQ_TIMER);
    else if (timeout_ns)
        v->timer_deadline = timeout_ns;
    rearm_hardware_timer();
    return 0;
}

/* set_timer_op: the single-shot timer, with Xen's treatment of huge deadlines. */
long do_set_timer_op(struct vcpu *v, const uint64_t args[5])
{
    uint64_t timeout = args[0];
    return set_singleshot(v, timeout ? timer_op_deadline(timeout, system_time_ns()) : 0, false);
}

long vcpu_timer_op(struct vcpu *v, unsigned int cmd, uint64_t arg)
{
    switch (cmd) {
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer t;
        if (copy_from_guest(&t, arg, sizeof(t)))
            return -XEN_EFAULT;
        return set_singleshot(v, t.timeout_abs_ns, t.flags & VCPU_SSHOTTMR_future);
    }
    case VCPUOP_stop_singleshot_timer:
        v->timer_deadline = 0;
        rearm_hardware_timer();
        return 0;
    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer p;
        if (copy_from_guest(&p, arg, sizeof(p)))
            return -XEN_EFAULT;
        if (p.period_ns < TIMER_PERIOD_MIN_NS || p.period_ns > TIMER_PERIOD_MAX_NS)
            return -XEN_EINVAL;
        v->timer_period = p.period_ns;
        v->periodic_next = time_add_sat(system_time_ns(), p.period_ns);
        rearm_hardware_timer();
        return 0;
    }
    case VCPUOP_stop_periodic_timer:
        v->timer_period = v->periodic_next = 0;
        rearm_hardware_timer();
        return 0;
    default:
        return -XEN_ENOSYS;
    }
}
