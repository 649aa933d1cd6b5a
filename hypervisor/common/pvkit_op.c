/*
 * pvkit_op (__HYPERVISOR_pvkit_op, pvkit's own hypercall; public/pvkit.h):
 * what any domain may ask pvkit about itself. Its one sub-op,
 * PVKIT_OP_get_own_stats, copies out a snapshot of the calling domain's
 * always-on statistics; the call names no domain, so a domain can read its
 * own and no other's (the privileged domain reads others' with
 * PVKIT_DOMCTL_get_stats, which takes the same snapshot).
 *
 * Invariant: the snapshot has public/pvkit.h's layout (checked at compile
 * time) and is taken under the hypervisor lock, so its counters are from
 * one instant; every argument is checked before anything is written.
 */
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "public/pvkit.h"

_Static_assert(NR_HYPERCALLS == PVKIT_STATS_HYPERCALLS && BATCH_BUCKETS == PVKIT_STATS_BUCKETS &&
               EMUL_COUNT == 8 && PT_REJECT_KINDS == 8, "public/pvkit.h stats layout");
_Static_assert(__HYPERVISOR_pvkit_op < NR_HYPERCALLS, "pvkit_op is counted like the others");

void domain_stats_snapshot(const struct domain *d, struct pvkit_domain_stats *st)
{
    const struct mm_stats *ms = &d->mm_stats;

    memcpy(st->hypercalls, d->hc_stats.calls, sizeof(st->hypercalls));
    memcpy(st->hypercall_errors, d->hc_stats.errors, sizeof(st->hypercall_errors));
    st->hypercalls_unknown = d->hc_stats.unknown;
    memcpy(st->emulated, d->emu_stats.done, sizeof(st->emulated));
    st->exceptions_bounced = d->emu_stats.exceptions_bounced;
    st->exceptions_fatal = d->emu_stats.exceptions_fatal;
    st->validations = ms->validations;
    st->pte_updates = ms->pte_updates;
    memcpy(st->rejects, ms->rejects, sizeof(st->rejects));
    memcpy(st->mmu_update_batches, ms->mmu_update_batches, sizeof(st->mmu_update_batches));
    memcpy(st->mmuext_batches, ms->mmuext_batches, sizeof(st->mmuext_batches));
    memcpy(st->multicall_batches, ms->multicall_batches, sizeof(st->multicall_batches));
    st->events_sent = d->event_stats.sent;
    st->events_delivered = d->event_stats.delivered;
    st->timer_fires = d->event_stats.timer_fires;
}

long do_pvkit_op(struct vcpu *v, const uint64_t args[5])
{
    uint64_t cmd = args[0], buffer = args[1], size = args[2];
    static struct pvkit_domain_stats st; /* hypervisor lock */

    if (cmd != PVKIT_OP_get_own_stats || size == 0)
        return -XEN_EINVAL;
    size = MIN(size, (uint64_t)sizeof(st));
    domain_stats_snapshot(v->domain, &st);
    return copy_to_guest(buffer, &st, size) ? -XEN_EFAULT : (long)size;
}
