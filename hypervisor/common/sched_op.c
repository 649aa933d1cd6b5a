/*
 * sched_op: yield, block, shutdown.
 *
 * yield, block and poll hand the decision to the scheduler, which switches
 * on the way back to the guest (common/schedule.c); block re-enables event
 * delivery first, as Linux expects.
 * Shutdown stops the domain for good; the reason becomes the machine's exit
 * status when it was the last one running. As in Xen, a reason outside the
 * SHUTDOWN_* set is accepted and reported as "unknown" (an "other" exit).
 */
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "pvkit/sched.h"
#include "pvkit/time.h"
#include "pvkit/timer_calc.h"

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

/*
 * Waits until one of the ports is pending or the timeout passes: a signed
 * system time as in Xen, so one with bit 63 set is past and returns at once.
 */
static long sched_poll(struct vcpu *v, uint64_t arg)
{
    struct sched_poll poll;
    evtchn_port_t ports[MAX_POLL_PORTS];

    if (copy_from_guest(&poll, arg, sizeof(poll)))
        return -XEN_EFAULT;
    if (poll.nr_ports > ARRAY_SIZE(ports))
        return -XEN_EINVAL;
    if (copy_from_guest(ports, GUEST_HANDLE_VA(poll.ports), poll.nr_ports * sizeof(ports[0])))
        return -XEN_EFAULT;
    for (unsigned int i = 0; i < poll.nr_ports; i++)
        if (ports[i] == 0 || ports[i] >= NR_EVTCHN_PORTS ||
            v->domain->evtchn[ports[i]].state == EVTCHNSTAT_closed)
            return -XEN_EINVAL;
    if (poll.timeout && deadline_is_past(poll.timeout, system_time_ns()))
        return 0;
    vcpu_poll(v, ports, poll.nr_ports, poll.timeout);
    return 0;
}

long do_sched_op(struct vcpu *v, const uint64_t args[5])
{
    switch (args[0]) {
    case SCHEDOP_yield:
        raise_resched();
        return 0;
    case SCHEDOP_block:
        if (v->vcpu_info)
            v->vcpu_info->evtchn_upcall_mask = 0;
        vcpu_block(v);
        return 0;
    case SCHEDOP_poll:
        return sched_poll(v, args[1]);
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
