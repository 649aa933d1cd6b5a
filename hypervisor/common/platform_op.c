/*
 * platform_op (7): the privileged domain's view of the machine. pvkit keeps
 * the hardware to itself, so of Xen's sub-ops it implements only setting
 * the wall clock (XENPF_settime64 / settime32, which Linux's dom0 issues
 * whenever its clock is set); the others are -ENOSYS, which every caller in
 * Linux 6.1 takes as "feature absent". Unprivileged domains get -EPERM, a
 * structure of another interface version -EACCES, as from Xen.
 */
#include "pvkit/domain.h"
#include "pvkit/hypercall.h"
#include "pvkit/time.h"

/*
 * Publishes the wall clock at system time 0 in the shared_info of every
 * domain not being destroyed (a dying domain's shared_info frame may
 * already belong to another domain).
 */
static void publish_wallclock(void)
{
    struct domain *d;

    for_each_domain(d, slot) {
        struct shared_info *s = d->shared_info;
        if (domain_state(d) == DOMAIN_DYING || !s)
            continue;
        __atomic_store_n(&s->wc_version, s->wc_version + 1, __ATOMIC_RELEASE); /* odd: updating */
        time_boot_wallclock(&s->wc_sec, &s->wc_nsec);
        __atomic_store_n(&s->wc_version, s->wc_version + 1, __ATOMIC_RELEASE);
    }
}

long do_platform_op(struct vcpu *v, const uint64_t args[5])
{
    struct xen_platform_op op;
    long rc = CONTROL_OP_COPY_IN(v, args[0], op, XENPF_INTERFACE_VERSION);

    if (rc)
        return rc;
    switch (op.cmd) {
    case XENPF_settime64:
        if (op.u.settime64.mbz)
            return -XEN_EINVAL;
        time_set_wallclock(op.u.settime64.secs, op.u.settime64.nsecs,
                           op.u.settime64.system_time);
        break;
    case XENPF_settime32:
        time_set_wallclock(op.u.settime32.secs, op.u.settime32.nsecs,
                           op.u.settime32.system_time);
        break;
    default:
        return -XEN_ENOSYS;
    }
    publish_wallclock();
    return 0;
}
