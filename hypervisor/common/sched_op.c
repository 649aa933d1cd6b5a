/*
 * sched_op: yield, block, shutdown.
 *
 * With one vCPU per machine there is nothing to yield to, and nothing can
 * wake a blocked vCPU but an event; events arrive with issue 4, so until then
 * SCHEDOP_block does what Xen does first -- re-enable event delivery -- and
 * returns at once (a guest must treat block as "may return spuriously").
 * Shutdown stops the domain for good; the reason becomes the machine's exit
 * status when it was the last one running. As in Xen, a reason outside the
 * SHUTDOWN_* set is accepted and reported as "unknown" (an "other" exit).
 */
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"

static long sched_shutdown(struct vcpu *v, uint64_t arg)
{
    struct sched_shutdown sd;
    if (copy_from_guest(&sd, arg, sizeof(sd)))
        return -XEN_EFAULT;
    domain_shutdown(v->domain, sd.reason);
    return 0;
}

static long sched_shutdown_code(struct vcpu *v, uint64_t arg)
{
    struct sched_shutdown sd;
    if (copy_from_guest(&sd, arg, sizeof(sd)))
        return -XEN_EFAULT;
    if (sd.reason > SHUTDOWN_MAX)
        return -XEN_EINVAL;
    v->domain->shutdown_code = (int)sd.reason;
    return 0;
}

static long sched_remote_shutdown(struct vcpu *v, uint64_t arg)
{
    struct sched_remote_shutdown rs;
    if (!v->domain->privileged)
        return -XEN_EPERM;
    if (copy_from_guest(&rs, arg, sizeof(rs)))
        return -XEN_EFAULT;
    struct domain *target = domain_find(rs.domain_id);
    if (!target)
        return -XEN_ESRCH;
    domain_shutdown(target, rs.reason);
    return 0;
}

long do_sched_op(struct vcpu *v, const uint64_t args[5])
{
    switch (args[0]) {
    case SCHEDOP_yield:
        return 0;
    case SCHEDOP_block:
        if (v->vcpu_info)
            v->vcpu_info->evtchn_upcall_mask = 0;
        return 0;
    case SCHEDOP_shutdown:
        return sched_shutdown(v, args[1]);
    case SCHEDOP_shutdown_code:
        return sched_shutdown_code(v, args[1]);
    case SCHEDOP_remote_shutdown:
        return sched_remote_shutdown(v, args[1]);
    default:
        return -XEN_ENOSYS;
    }
}
