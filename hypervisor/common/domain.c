/*
 * Domain life cycle: allocation from a fixed pool, pause, shutdown, crash,
 * kill, free, and per-domain statistics. A domain that is no longer running
 * is never entered again (its vCPUs are down and their CPUs reschedule).
 * When no domain is left running the machine powers off with the reason of
 * the domain that ended last. Everything here runs with the hypervisor lock
 * held.
 */
#include "pvkit/audit.h"
#include "pvkit/domain.h"
#include "pvkit/mm.h"
#include "pvkit/npt.h"
#include "pvkit/svm.h"
#include "pvkit/sched.h"
#include "pvkit/vcpu.h"
#include "pvkit/x86.h"

/* The domain pool and the last shutdown reason: hypervisor lock. */
static struct domain domain_pool[MAX_DOMAINS];
static bool domain_used[MAX_DOMAINS];
static unsigned int last_shutdown_reason = SHUTDOWN_poweroff;

struct domain *domain_alloc(domid_t id)
{
    if (domain_find(id))
        return NULL;
    for (unsigned int i = 0; i < MAX_DOMAINS; i++) {
        if (domain_used[i])
            continue;
        struct domain *d = &domain_pool[i];
        memset(d, 0, sizeof(*d));
        domain_used[i] = true;
        d->id = id;
        domain_set_state(d, DOMAIN_RUNNING);
        d->shutdown_code = -1;
        d->console_at_line_start = true;
        d->release_head = FRAME_NO_NEXT;
        return d;
    }
    return NULL;
}

struct domain *domain_slot(unsigned int i)
{
    return i < MAX_DOMAINS && domain_used[i] ? &domain_pool[i] : NULL;
}

struct domain *domain_find(domid_t id)
{
    for (unsigned int i = 0; i < MAX_DOMAINS; i++)
        if (domain_used[i] && domain_pool[i].id == id)
            return &domain_pool[i];
    return NULL;
}

struct domain *domain_find_built(domid_t id)
{
    struct domain *d = domain_find(id);
    return d && !d->building ? d : NULL;
}

/* No vCPU waits any more for d's vCPUs to stop (pausedomain): d is going. */
static void forget_pause_waits(const struct domain *d)
{
    struct domain *w;
    for_each_domain(w, slot)
        for (unsigned int i = 0; i < w->nr_vcpus; i++)
            if (w->vcpus[i].pause_wait == d)
                w->vcpus[i].pause_wait = NULL;
}

void domain_free(struct domain *d)
{
    forget_pause_waits(d);
    evtchn_close_all(d); /* peers' ends go back to unbound, never to a later domain */
    grant_table_free(d);
    if (is_pvh(d)) { /* its VMCBs and nested tables are the hypervisor's frames */
        for (unsigned int i = 0; i < MAX_VCPUS_PER_DOM; i++)
            svm_vcpu_destroy(&d->vcpus[i]);
        npt_destroy(d);
    }
    /* Whatever d still owns (nothing, after a full destroy): stops once all are met. */
    for (uint64_t mfn = 0; frames_owned(&frame_table, d->id) && mfn < frame_table.nr_frames; mfn++)
        if (frame_table.frames[mfn].owner == d->id)
            frame_reclaim(mfn);
    domain_used[d - domain_pool] = false;
    audit_domain_freed(d->id);
}

void domain_kill(struct domain *d)
{
    domain_set_state(d, DOMAIN_DYING);
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        vcpu_set_state(&d->vcpus[i], VCPU_DOWN);
        vcpu_force_reschedule(&d->vcpus[i]);
    }
    evtchn_close_all(d);
}

void domain_pause(struct domain *d)
{
    d->paused++;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        vcpu_refresh_runstate(&d->vcpus[i]);
        vcpu_force_reschedule(&d->vcpus[i]);
    }
}

void domain_unpause(struct domain *d)
{
    if (--d->paused)
        return;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        vcpu_refresh_runstate(&d->vcpus[i]);
        if (vcpu_state(&d->vcpus[i]) == VCPU_RUNNABLE)
            vcpu_place(&d->vcpus[i]);
    }
}

void notify_dom0(void)
{
    struct domain *d0 = domain_find(0);
    if (d0 && domain_state(d0) == DOMAIN_RUNNING)
        send_virq(&d0->vcpus[0], VIRQ_DOM_EXC);
}

static const char *shutdown_reason_name(unsigned int reason)
{
    static const char *const names[] = {
        [SHUTDOWN_poweroff] = "poweroff", [SHUTDOWN_reboot] = "reboot",
        [SHUTDOWN_suspend] = "suspend",   [SHUTDOWN_crash] = "crash",
        [SHUTDOWN_watchdog] = "watchdog", [SHUTDOWN_soft_reset] = "soft_reset",
    };
    return reason < ARRAY_SIZE(names) ? names[reason] : "unknown";
}

void domain_shutdown(struct domain *d, unsigned int reason)
{
    if (d->state != DOMAIN_RUNNING)
        return;
    /* A code declared earlier with SCHEDOP_shutdown_code takes precedence. */
    if (d->shutdown_code >= 0)
        reason = (unsigned int)d->shutdown_code;
    domain_set_state(d, DOMAIN_SHUTDOWN);
    d->shutdown_reason = reason;
    for (unsigned int i = 0; i < d->nr_vcpus; i++) {
        vcpu_set_state(&d->vcpus[i], VCPU_DOWN);
        vcpu_force_reschedule(&d->vcpus[i]);
    }
    last_shutdown_reason = reason;
    printk(LOG_INFO, "(pvkit) d%u: shut down: %s\n", d->id, shutdown_reason_name(reason));
    domain_print_stats(d);
    if (d->id != 0)
        notify_dom0();
}

void domain_crash(struct domain *d, const char *why, const struct cpu_regs *regs)
{
    if (d->state != DOMAIN_RUNNING)
        return;
    printk(LOG_ERR, "(pvkit) d%u: crashed: %s\n", d->id, why);
    if (regs) {
        char who[16];
        snprintf(who, sizeof(who), "(d%u)", d->id);
        dump_regs(LOG_ERR, who, regs);
    }
    domain_shutdown(d, SHUTDOWN_crash);
}

static uint8_t exit_code_for(unsigned int reason)
{
    switch (reason) {
    case SHUTDOWN_poweroff: return EXIT_POWEROFF;
    case SHUTDOWN_reboot: return EXIT_REBOOT;
    case SHUTDOWN_crash: return EXIT_CRASH;
    default: return EXIT_OTHER;
    }
}

void power_off_machine(void)
{
    schedule_print_stats();
    printk(LOG_INFO, "(pvkit) no domain left running: machine off (%s)\n",
           shutdown_reason_name(last_shutdown_reason));
    audit_machine_off();
    machine_exit(exit_code_for(last_shutdown_reason));
}

static void print_histogram(const char *name, const uint64_t *buckets)
{
    printk(LOG_INFO, "(pvkit)   %s batches (log2 size: count):", name);
    for (unsigned int b = 0; b < BATCH_BUCKETS; b++)
        if (buckets[b])
            printk(LOG_INFO, " %u:%lu", b, (unsigned long)buckets[b]);
    printk(LOG_INFO, "\n");
}

void domain_print_stats(const struct domain *d)
{
    static const char *const emul_names[EMUL_COUNT] = {
        "cpuid", "rdmsr", "wrmsr", "cr-read", "cr-write", "port-io", "wbinvd", "pt-write",
    };
    static const char *const reject_names[PT_REJECT_KINDS] = {
        "not-owned", "hv-frame", "reserved-bits", "superpage", "writable-pt",
        "wrong-type", "hv-slot", "bad-descriptor",
    };
    const struct hypercall_stats *hs = &d->hc_stats;
    const struct emulation_stats *es = &d->emu_stats;
    const struct mm_stats *ms = &d->mm_stats;

    printk(LOG_INFO, "(pvkit) d%u stats: hypercalls (nr:calls/errors)", d->id);
    for (unsigned int i = 0; i < NR_HYPERCALLS; i++)
        if (hs->calls[i])
            printk(LOG_INFO, " %u:%lu/%lu", i, (unsigned long)hs->calls[i],
                   (unsigned long)hs->errors[i]);
    printk(LOG_INFO, " unknown:%lu\n", (unsigned long)hs->unknown);
    printk(LOG_INFO, "(pvkit)   emulated:");
    for (unsigned int i = 0; i < EMUL_COUNT; i++)
        printk(LOG_INFO, " %s:%lu", emul_names[i], (unsigned long)es->done[i]);
    printk(LOG_INFO, "; exceptions bounced:%lu fatal:%lu\n",
           (unsigned long)es->exceptions_bounced, (unsigned long)es->exceptions_fatal);
    printk(LOG_INFO, "(pvkit)   mm: validations:%lu pte-updates:%lu rejected:",
           (unsigned long)ms->validations, (unsigned long)ms->pte_updates);
    for (unsigned int i = 0; i < PT_REJECT_KINDS; i++)
        printk(LOG_INFO, " %s:%lu", reject_names[i], (unsigned long)ms->rejects[i]);
    printk(LOG_INFO, "\n");
    printk(LOG_INFO, "(pvkit)   events: sent:%lu delivered:%lu timer-fires:%lu\n",
           (unsigned long)d->event_stats.sent, (unsigned long)d->event_stats.delivered,
           (unsigned long)d->event_stats.timer_fires);
    print_histogram("mmu_update", ms->mmu_update_batches);
    print_histogram("mmuext_op", ms->mmuext_batches);
    print_histogram("multicall", ms->multicall_batches);
}
