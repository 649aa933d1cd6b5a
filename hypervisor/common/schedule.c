/*
 * The scheduler: round robin over the runnable vCPUs of all running domains,
 * with a fixed time slice, on every physical CPU.
 *
 * Decisions are taken at one place, the exit to a guest: a vCPU that
 * blocked, polled, yielded, went down or used up its slice is switched away
 * from there, and an idle CPU waits there (lock dropped, interrupts on, HLT)
 * until a timer or a kick makes a vCPU runnable. Each CPU walks the one
 * global round-robin order from its own vCPU and takes the next runnable one
 * that no other CPU has loaded. A vCPU spinning in the guest cannot starve
 * the others: when more vCPUs are runnable than CPUs are online, every CPU's
 * APIC timer ends its slice. When no domain is left running the machine
 * powers off.
 *
 * Waking: a vCPU that becomes runnable is handed to the CPU that has it
 * loaded (idle there), else to this CPU if it has nothing to run, else to an
 * idle CPU, else to the CPU it last ran on, which switches to it at once;
 * remote CPUs are kicked.
 *
 * Invariant: a loaded vCPU's registers are in its CPU's cpu_info.guest_regs;
 * every other vCPU's are in its struct vcpu (context_save/context_restore).
 */
#include "pvkit/sched.h"
#include "pvkit/context.h"
#include "pvkit/smp.h"
#include "pvkit/time.h"
#include "pvkit/timer.h"
#include "pvkit/vcpu.h"
#include "pvkit/x86.h"

#define TIME_SLICE_NS 10000000ull  /* 10 ms */

/* Statistics of all CPUs; hypervisor lock. */
static uint64_t context_switches, idle_waits, migrations, wakeups;

void raise_resched(void)
{
    cpu_set_need_resched(this_cpu(), true);
}


/* Runnable and not loaded on a CPU other than `cpu`. */
static bool can_run_on(const struct vcpu *v, unsigned int cpu)
{
    return vcpu_can_run(v) && (!v->loaded || v->cpu == cpu);
}

/* The next vCPU after `after` in (domain slot, vcpu) order, wrapping, that CPU `cpu` may run. */
static struct vcpu *next_runnable(const struct vcpu *after, unsigned int cpu)
{
    unsigned int total = MAX_DOMAINS * MAX_VCPUS_PER_DOM, start = 0;

    if (after) {
        unsigned int slot = 0;
        while (domain_slot(slot) != after->domain)
            slot++;
        start = slot * MAX_VCPUS_PER_DOM + after->id + 1;
    }
    for (unsigned int k = 0; k < total; k++) {
        unsigned int idx = (start + k) % total;
        struct domain *d = domain_slot(idx / MAX_VCPUS_PER_DOM);
        unsigned int id = idx % MAX_VCPUS_PER_DOM;
        if (d && id < d->nr_vcpus && can_run_on(&d->vcpus[id], cpu))
            return &d->vcpus[id];
    }
    return NULL;
}

static unsigned int runnable_count(void)
{
    struct domain *d;
    unsigned int n = 0;
    for_each_domain(d, slot)
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            n += vcpu_can_run(&d->vcpus[i]);
    return n;
}

/*
 * Whether some domain can still run: running and not paused. Paused domains
 * alone keep nothing going (no one is left to unpause them; Xen likewise
 * goes down with its hardware domain).
 */
static bool any_domain_running(void)
{
    struct domain *d;
    for_each_domain(d, slot)
        if (d->state == DOMAIN_RUNNING && !d->paused)
            return true;
    return false;
}

uint64_t schedule_next_deadline(unsigned int cpu)
{
    uint64_t next = runnable_count() > nr_cpus_online ? percpu[cpu].slice_end : 0;
    struct domain *d;
    for_each_domain(d, slot)
        for (unsigned int i = 0; i < d->nr_vcpus; i++) {
            const struct vcpu *v = &d->vcpus[i];
            uint64_t t = v->state == VCPU_BLOCKED && v->cpu == cpu ? v->poll_deadline : 0;
            if (t && (!next || t < next))
                next = t;
        }
    return next;
}

/* Has a CPU halted in the idle loop (if any) look for work; true if one was found. */
static bool wake_idle_cpu(void)
{
    for (unsigned int c = 0; c < nr_cpus_online; c++)
        if (percpu[c].in_idle) {
            cpu_raise_resched(c);
            return true;
        }
    return false;
}

/* Hands a vCPU that just became runnable to a CPU (see the file comment). */
void vcpu_place(struct vcpu *v)
{
    struct vcpu *cur = current_vcpu();

    wakeups++;
    if (v->loaded) {
        cpu_raise_resched(v->cpu);
        return;
    }
    if (!cur || !vcpu_can_run(cur)) { /* this CPU is idle (a timer woke it) */
        raise_resched();
        return;
    }
    if (!wake_idle_cpu())
        cpu_raise_resched(v->cpu);
}

/* A vCPU that was blocked or down runs again: its runstate follows, and a CPU gets it. */
static void set_runnable(struct vcpu *v)
{
    vcpu_set_state(v, VCPU_RUNNABLE);
    vcpu_refresh_runstate(v);
    vcpu_place(v);
}

void schedule_tick(uint64_t now)
{
    struct percpu *pc = this_cpu();
    struct domain *d;

    if (pc->slice_end && now >= pc->slice_end)
        cpu_set_need_resched(pc, true);
    for_each_domain(d, slot)
        for (unsigned int i = 0; i < d->nr_vcpus; i++) {
            struct vcpu *v = &d->vcpus[i];
            if (v->state == VCPU_BLOCKED && v->poll_deadline && now >= v->poll_deadline) {
                v->nr_poll_ports = 0;
                v->poll_deadline = 0;
                set_runnable(v);
            }
        }
}

static bool poll_satisfied(const struct vcpu *v)
{
    const uint64_t *pending = (const uint64_t *)v->domain->shared_info->evtchn_pending;
    for (unsigned int i = 0; i < v->nr_poll_ports; i++) {
        evtchn_port_t p = v->poll_ports[i];
        if (__atomic_load_n(&pending[p / 64], __ATOMIC_SEQ_CST) & (1ull << (p % 64)))
            return true;
    }
    return false;
}

void vcpu_wake(struct vcpu *v)
{
    if (v->state != VCPU_BLOCKED)
        return;
    if (v->nr_poll_ports ? !poll_satisfied(v) : !vcpu_event_pending(v))
        return;
    v->nr_poll_ports = 0;
    v->poll_deadline = 0;
    set_runnable(v);
}

void vcpu_make_runnable(struct vcpu *v)
{
    if (v->state == VCPU_RUNNABLE)
        return;
    set_runnable(v);
}

void vcpu_force_reschedule(struct vcpu *v)
{
    if (v->loaded)
        cpu_raise_resched(v->cpu);
}

void vcpu_kick(struct vcpu *v)
{
    if (v->loaded && v->cpu != this_cpu_id() && v->state == VCPU_RUNNABLE)
        cpu_kick(v->cpu);
}

void vcpu_block(struct vcpu *v)
{
    if (vcpu_state(v) != VCPU_RUNNABLE || vcpu_event_pending(v))
        return;
    vcpu_set_state(v, VCPU_BLOCKED);
    vcpu_set_runstate(v, RUNSTATE_blocked);
    raise_resched();
}

void vcpu_poll(struct vcpu *v, const evtchn_port_t *ports, unsigned int n, uint64_t until_ns)
{
    if (vcpu_state(v) != VCPU_RUNNABLE)
        return;
    memcpy(v->poll_ports, ports, n * sizeof(*ports));
    v->nr_poll_ports = n;
    if (poll_satisfied(v)) {
        v->nr_poll_ports = 0;
        return;
    }
    v->poll_deadline = until_ns;
    vcpu_set_state(v, VCPU_BLOCKED);
    vcpu_set_runstate(v, RUNSTATE_blocked);
    raise_resched();
}

/*
 * One wait of the idle loop in schedule(). While in_idle is set, lock
 * holders know this CPU is halted with the lock dropped: they leave it
 * flush requests without a kick (served here once it has the lock again)
 * and wake it with cpu_raise_resched.
 */
void idle_once(uint64_t until_ns)
{
    struct percpu *pc = this_cpu();
    timer_arm_for_idle(until_ns);
    uint64_t start = system_time_ns();
    pc->in_idle = true;
    hv_unlock();
    wait_for_interrupt();
    hv_lock();
    pc->in_idle = false;
    serve_flush_request(); /* left for us while we were halted */
    cpu_stat_add(&pc->stats.idle_ns, system_time_ns() - start);
    serve_pending_timer(true);
}

void serve_pending_timer(bool while_idle)
{
    struct percpu *pc = this_cpu();
    if (__atomic_load_n(&pc->timer_pending, __ATOMIC_RELAXED)) {
        __atomic_store_n(&pc->timer_pending, false, __ATOMIC_RELAXED);
        timer_interrupt(while_idle);
    }
}

/*
 * Takes `cur` (may be NULL) off this CPU and loads `next`. A `cur` that
 * could still run (its slice ended) is offered to an idle CPU.
 */
static void switch_to(struct vcpu *cur, struct vcpu *next)
{
    if (cur) {
        if (cur->domain->state == DOMAIN_RUNNING)
            context_save(cur);
        cur->loaded = false;
        if (vcpu_can_run(cur))
            wake_idle_cpu();
    }
    if (next->cpu != this_cpu_id())
        migrations++;
    vcpu_switch_runstate(cur, next);
    context_restore(cur, next);
    context_switches++;
}

/* Picks the next vCPU to run here, or idles until there is one. */
void schedule_next(struct vcpu *cur)
{
    struct percpu *pc = this_cpu();

    for (;;) {
        cpu_set_need_resched(pc, false);
        struct vcpu *next = next_runnable(cur, pc->id);
        if (next) {
            if (next != cur)
                switch_to(cur, next);
            else if (cur->runstate.state != RUNSTATE_running)
                vcpu_set_runstate(cur, RUNSTATE_running); /* woke up where it blocked */
            pc->slice_end = system_time_ns() + TIME_SLICE_NS;
            rearm_hardware_timer();
            return;
        }
        if (!any_domain_running())
            power_off_machine();
        /* A destroyed domain's vCPU leaves this CPU before it idles (domctl.c waits). */
        if (cur && domain_state(cur->domain) == DOMAIN_DYING) {
            context_unload(cur);
            cur = NULL;
        }
        if (cur)
            vcpu_stop_running(cur); /* paused or blocked: loaded, not running */
        idle_waits++;
        idle_once(0);
    }
}

/* Every vCPU a CPU runs has a slice, the first one too: else it would never be preempted. */
void schedule_first_vcpu(struct vcpu *v)
{
    vcpu_switch_runstate(NULL, v);
    context_restore(NULL, v);
    this_cpu()->slice_end = system_time_ns() + TIME_SLICE_NS;
    rearm_hardware_timer();
}

void schedule_print_stats(void)
{
    printk(LOG_INFO, "(pvkit) scheduler: %u CPUs, %lu context switches, %lu migrations, "
           "%lu wake-ups, %lu idle waits, %u runnable vCPUs, %lu timer programmings\n",
           nr_cpus_online, (unsigned long)context_switches, (unsigned long)migrations,
           (unsigned long)wakeups, (unsigned long)idle_waits, runnable_count(),
           (unsigned long)timer_program_count());
    smp_print_stats();
}
