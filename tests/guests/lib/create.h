/*
 * Creating children at run time, for the test kernels that act as a
 * toolstack with pvkit's PVKIT_DOMCTL_create_pv (multi_create*): the child
 * is built from the image the runner passed as our initrd (our own, so one
 * kernel holds both roles). Include domctl.h before any Xen header.
 */
#ifndef GUEST_CREATE_H
#define GUEST_CREATE_H

#include "domctl.h"
#include "evt/evt.h"
#include "public/pvkit.h"

/* The create arguments inside *op. */
static inline struct pvkit_domctl_create_pv *create_args(struct xen_domctl *op)
{
    return (struct pvkit_domctl_create_pv *)&op->u;
}

/*
 * Fills *op to create a child from our initrd: id (0: the next free), kb
 * KiB of memory, command line cmd, one vCPU.
 */
static inline void create_child_op(struct xen_domctl *op, domid_t id, uint64_t kb,
                                   const char *cmd)
{
    *op = (struct xen_domctl){ .cmd = PVKIT_DOMCTL_create_pv, .domain = id,
                               .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    struct pvkit_domctl_create_pv *c = create_args(op);
    c->kernel = guest_start_info->mod_start;
    c->kernel_size = guest_start_info->mod_len;
    c->cmdline = (uint64_t)cmd;
    c->mem_kb = kb;
    c->max_vcpus = 1;
}

/*
 * Unpauses domain id and waits (20 s at most) for its shutdown, woken by
 * VIRQ_DOM_EXC on port dom_exc; returns its shutdown reason, or -1.
 */
static inline int create_run_to_shutdown(long dom_exc, domid_t id)
{
    struct xen_domctl op;
    unsigned int seen = evt_count[dom_exc];
    uint64_t end = evt_now() + 20000000000ull;

    if (dctl(XEN_DOMCTL_unpausedomain, id, &op))
        return -1;
    for (;;) {
        if (dctl(XEN_DOMCTL_getdomaininfo, id, &op) || op.domain != id)
            return -1;
        if (op.u.getdomaininfo.flags & XEN_DOMINF_shutdown)
            return (int)((op.u.getdomaininfo.flags >> XEN_DOMINF_shutdownshift) &
                         XEN_DOMINF_shutdownmask);
        if (evt_now() > end)
            return -1;
        evt_wait((evtchn_port_t)dom_exc, ++seen, 100000000ull);
    }
}

#endif
