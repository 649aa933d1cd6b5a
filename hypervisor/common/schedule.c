/*
 * The scheduler: round robin over the runnable vCPUs of all running domains,
 * with a fixed time slice, on one physical CPU.
 *
 * Decisions are taken at one place, the exit to a guest: a vCPU that
 * blocked, polled, yielded, went down or used up its slice is switched away
 * from there, and an idle CPU waits there (interrupts on, HLT) until a
 * timer or an event makes a vCPU runnable. A vCPU spinning in the guest
 * cannot starve the others: the APIC timer ends its slice. When no domain is
 * left running the machine powers off.
 *
 * Invariant: the current vCPU's registers are in cpu_info.guest_regs; every
 * other vCPU's are in its struct vcpu (context_save / context_restore).
 */
#include "pvkit/domain.h"
#include "pvkit/time.h"
#include "pvkit/x86.h"

#define TIME_SLICE_NS 10000000ull  /* 10 ms */

static bool need_resched;
static uint64_t slice_end;
static uint64_t context_switches, idle_waits;

void raise_resched(void)
{
    need_resched = true;
}

static bool can_run(const struct vcpu *v)
{
    return v->state == VCPU_RUNNABLE && v->domain->state == DOMAIN_RUNNING;
}

/* The next runnable vCPU after `after` in (domain slot, vcpu) order, wrapping. */
static struct vcpu *next_runnable(const struct vcpu *after)
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
        if (d && id < d->nr_vcpus && can_run(&d->vcpus[id]))
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
            n += can_run(&d->vcpus[i]);
    return n;
}

static bool any_domain_running(unsigned int *last_reason)
{
    struct domain *d;
    bool running = false;
    for_each_domain(d, slot)
        running |= d->state == DOMAIN_RUNNING;
    (void)last_reason;
    return running;
}

uint64_t schedule_next_deadline(void)
{
    uint64_t next = runnable_count() > 1 ? slice_end : 0;
    struct domain *d;
    for_each_domain(d, slot)
        for (unsigned int i = 0; i < d->nr_vcpus; i++) {
            uint64_t t = d->vcpus[i].state == VCPU_BLOCKED ? d->vcpus[i].poll_deadline : 0;
            if (t && (!next || t < next))
                next = t;
        }
    return next;
}

void schedule_tick(uint64_t now)
{
    struct domain *d;
    if (slice_end && now >= slice_end)
        need_resched = true;
    for_each_domain(d, slot)
        for (unsigned int i = 0; i < d->nr_vcpus; i++) {
            struct vcpu *v = &d->vcpus[i];
            if (v->state == VCPU_BLOCKED && v->poll_deadline && now >= v->poll_deadline) {
                v->nr_poll_ports = 0;
                v->poll_deadline = 0;
                v->state = VCPU_RUNNABLE;
                need_resched = true;
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
    v->state = VCPU_RUNNABLE;
    need_resched = true;
}

void vcpu_block(struct vcpu *v)
{
    if (vcpu_event_pending(v))
        return;
    v->state = VCPU_BLOCKED;
    vcpu_set_runstate(v, RUNSTATE_blocked);
    need_resched = true;
}

void vcpu_poll(struct vcpu *v, const evtchn_port_t *ports, unsigned int n, uint64_t until_ns)
{
    memcpy(v->poll_ports, ports, n * sizeof(*ports));
    v->nr_poll_ports = n;
    if (poll_satisfied(v)) {
        v->nr_poll_ports = 0;
        return;
    }
    v->poll_deadline = until_ns;
    v->state = VCPU_BLOCKED;
    vcpu_set_runstate(v, RUNSTATE_blocked);
    need_resched = true;
}

static void wait_for_work(void)
{
    idle_waits++;
    idle_once(0);
}

void schedule(void)
{
    struct vcpu *cur = current_vcpu();

    if (cur && can_run(cur) && !need_resched)
        return;
    for (;;) {
        need_resched = false;
        struct vcpu *next = next_runnable(cur);
        if (next) {
            if (next != cur) {
                if (cur && cur->domain->state == DOMAIN_RUNNING)
                    context_save(cur);
                vcpu_switch_runstate(cur, next);
                context_restore(cur, next);
                context_switches++;
            } else if (cur->runstate.state != RUNSTATE_running) {
                vcpu_set_runstate(cur, RUNSTATE_running); /* woke up where it blocked */
            }
            slice_end = system_time_ns() + TIME_SLICE_NS;
            return;
        }
        if (!any_domain_running(NULL))
            power_off_machine();
        wait_for_work();
    }
}

void schedule_print_stats(void)
{
    printk(LOG_INFO, "(pvkit) scheduler: %lu context switches, %lu idle waits, "
           "%u runnable vCPUs, %lu timer programmings\n", (unsigned long)context_switches,
           (unsigned long)idle_waits, runnable_count(), (unsigned long)timer_program_count());
}
