/*
 * Event channels (see pvkit/event.h) and the event_channel_op hypercall.
 *
 * Pending and mask bits are set with atomic operations because the guest
 * changes the same words concurrently on other vCPUs (and Linux clears
 * pending bits while the hypervisor may set others). An upcall for a vCPU
 * running on another physical CPU kicks that CPU, whose exit path enters the
 * event callback.
 */
#include "pvkit/event.h"
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "pvkit/sched.h"

#define BITS_PER_WORD 64

static bool test_and_set(uint64_t *word, unsigned int bit)
{
    return __atomic_fetch_or(word, 1ull << bit, __ATOMIC_SEQ_CST) & (1ull << bit);
}

static bool test(const uint64_t *word, unsigned int bit)
{
    return __atomic_load_n(word, __ATOMIC_SEQ_CST) & (1ull << bit);
}

static struct evtchn *port_of(struct domain *d, uint64_t port)
{
    return port && port < NR_EVTCHN_PORTS ? &d->evtchn[port] : NULL;
}

static void raise_upcall(struct vcpu *v, unsigned int port)
{
    if (!v->vcpu_info)
        return;
    if (!test_and_set(&v->vcpu_info->evtchn_pending_sel, port / BITS_PER_WORD))
        __atomic_store_n(&v->vcpu_info->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
    v->domain->event_stats.delivered++;
    vcpu_wake(v);
    vcpu_kick(v); /* running on another CPU: make it look */
}

void evtchn_set_pending(struct domain *d, unsigned int port)
{
    struct shared_info *s = d->shared_info;
    uint64_t *pending = (uint64_t *)s->evtchn_pending, *mask = (uint64_t *)s->evtchn_mask;

    if (test_and_set(&pending[port / BITS_PER_WORD], port % BITS_PER_WORD))
        return;
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        if (d->vcpus[i].nr_poll_ports)
            vcpu_wake(&d->vcpus[i]); /* polls see masked ports too */
    if (test(&mask[port / BITS_PER_WORD], port % BITS_PER_WORD))
        return;
    raise_upcall(&d->vcpus[d->evtchn[port].notify_vcpu], port);
}

void send_virq(struct vcpu *v, unsigned int virq)
{
    unsigned int port = v->virq_port[virq];
    if (port)
        evtchn_set_pending(v->domain, port);
}

/*
 * Also called without the lock (kick_served_without_lock, PV vCPUs only);
 * the guest changes the bits at will. A PVH vCPU has no upcall mask (its
 * RFLAGS.IF masks the callback vector, as on Xen) and its local APIC may
 * have an interrupt for it too.
 */
bool vcpu_event_pending(const struct vcpu *v)
{
    struct vcpu_info *vi = __atomic_load_n(&v->vcpu_info, __ATOMIC_ACQUIRE);
    bool upcall = vi && __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_RELAXED);
    if (is_pvh(v->domain))
        return upcall || vlapic_deliverable(v) >= 0;
    return upcall && !__atomic_load_n(&vi->evtchn_upcall_mask, __ATOMIC_RELAXED);
}

/* A free port of d, or -errno; as Xen, a dying domain gets no new port (-EINVAL). */
static int alloc_port(struct domain *d)
{
    if (domain_state(d) == DOMAIN_DYING)
        return -XEN_EINVAL;
    for (unsigned int p = 1; p < NR_EVTCHN_PORTS; p++)
        if (d->evtchn[p].state == EVTCHNSTAT_closed)
            return (int)p;
    return -XEN_ENOSPC;
}

/*
 * The last step of every bind: finds a free port, reports it to the guest
 * (writing `*port_field` inside the op structure `op` of `size` bytes back to
 * `arg`), and only then gives it its state -- so a bad pointer leaves no
 * half-made channel. Returns the port, or -errno.
 */
static int commit_new_port(struct domain *d, uint64_t arg, void *op, size_t size,
                           evtchn_port_t *port_field, struct evtchn state)
{
    int port = alloc_port(d);
    if (port < 0)
        return port;
    *port_field = (evtchn_port_t)port;
    if (copy_to_guest(arg, op, size))
        return -XEN_EFAULT;
    d->evtchn[port] = state;
    return port;
}

int evtchn_alloc_xen_port(struct domain *d, xen_port_handler *handler)
{
    int port = alloc_port(d);
    if (port < 0)
        return port;
    d->evtchn[port] = (struct evtchn){ .state = EVTCHNSTAT_interdomain,
                                       .remote_dom = DOMID_XEN, .xen_handler = handler };
    return port;
}

int evtchn_alloc_unbound_port(struct domain *d, uint16_t remote)
{
    int port = alloc_port(d);
    if (port < 0)
        return port;
    d->evtchn[port] = (struct evtchn){ .state = EVTCHNSTAT_unbound, .remote_dom = remote };
    return port;
}

/* The domain an op names: DOMID_SELF or ourselves; others only if privileged. */
static struct domain *target_domain(struct vcpu *v, domid_t dom)
{
    if (dom == DOMID_SELF || dom == v->domain->id)
        return v->domain;
    return v->domain->privileged ? domain_find_built(dom) : NULL;
}

static long alloc_unbound(struct vcpu *v, uint64_t arg)
{
    struct evtchn_alloc_unbound op;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    struct domain *d = target_domain(v, op.dom);
    if (!d)
        return op.dom == DOMID_SELF || v->domain->privileged ? -XEN_ESRCH : -XEN_EPERM;
    domid_t remote = op.remote_dom == DOMID_SELF ? d->id : op.remote_dom;
    int port = commit_new_port(d, arg, &op, sizeof(op), &op.port,
                               (struct evtchn){ .state = EVTCHNSTAT_unbound,
                                                .remote_dom = remote });
    return port < 0 ? port : 0;
}

static long bind_interdomain(struct vcpu *v, uint64_t arg)
{
    struct evtchn_bind_interdomain op;
    struct domain *d = v->domain;

    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    struct domain *rd = op.remote_dom == DOMID_SELF ? d : domain_find(op.remote_dom);
    if (!rd)
        return -XEN_ESRCH;
    struct evtchn *rc = port_of(rd, op.remote_port);
    if (!rc || rc->state != EVTCHNSTAT_unbound || rc->remote_dom != d->id)
        return -XEN_EINVAL;
    int port = commit_new_port(d, arg, &op, sizeof(op), &op.local_port,
                               (struct evtchn){ .state = EVTCHNSTAT_interdomain,
                                                .remote_dom = rd->id,
                                                .remote_port = op.remote_port });
    if (port < 0)
        return port;
    *rc = (struct evtchn){ .state = EVTCHNSTAT_interdomain, .remote_dom = d->id,
                           .remote_port = (uint32_t)port, .notify_vcpu = rc->notify_vcpu };
    /* As Xen: the new local end starts pending, so a notification sent
     * before the bind completed is not lost. */
    evtchn_set_pending(d, (unsigned int)port);
    return 0;
}

static bool virq_is_global(uint32_t virq)
{
    return virq != VIRQ_TIMER && virq != VIRQ_DEBUG && virq != VIRQ_XENOPROF &&
           virq != VIRQ_XENPMU;
}

static long bind_virq(struct vcpu *v, uint64_t arg)
{
    struct evtchn_bind_virq op;
    struct domain *d = v->domain;

    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (op.virq >= NR_VIRQS || (virq_is_global(op.virq) && op.vcpu != 0))
        return -XEN_EINVAL;
    if (op.vcpu >= d->nr_vcpus)
        return -XEN_ENOENT;
    struct vcpu *target = &d->vcpus[op.vcpu];
    if (target->virq_port[op.virq])
        return -XEN_EEXIST;
    int port = commit_new_port(d, arg, &op, sizeof(op), &op.port,
                               (struct evtchn){ .state = EVTCHNSTAT_virq, .virq = op.virq,
                                                .notify_vcpu = (uint16_t)op.vcpu });
    if (port < 0)
        return port;
    target->virq_port[op.virq] = (uint16_t)port;
    return 0;
}

/* Alike by shape (copy the op in, check its vCPU), each handler stays its own: the op types differ. */
static long bind_ipi(struct vcpu *v, uint64_t arg)
{
    struct evtchn_bind_ipi op;
    struct domain *d = v->domain;

    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (op.vcpu >= d->nr_vcpus)
        return -XEN_ENOENT;
    int port = commit_new_port(d, arg, &op, sizeof(op), &op.port,
                               (struct evtchn){ .state = EVTCHNSTAT_ipi,
                                                .notify_vcpu = (uint16_t)op.vcpu });
    return port < 0 ? port : 0;
}

/*
 * Frees a port: its VIRQ slot, its peer's end (back to unbound), and, as
 * Xen, its pending bit, so a later binding of the same port number does not
 * start with a stale event. A global VIRQ's slot is vCPU 0's, wherever
 * bind_vcpu has since sent its events.
 */
static void close_port(struct domain *d, unsigned int port)
{
    struct evtchn *c = &d->evtchn[port];
    uint64_t *pending = d->shared_info ? (uint64_t *)d->shared_info->evtchn_pending : NULL;

    if (c->state == EVTCHNSTAT_virq) {
        struct vcpu *owner = &d->vcpus[virq_is_global(c->virq) ? 0 : c->notify_vcpu];
        if (owner->virq_port[c->virq] == port)
            owner->virq_port[c->virq] = 0;
    }
    if (c->state == EVTCHNSTAT_interdomain && !c->xen_handler) {
        struct domain *rd = domain_find(c->remote_dom);
        struct evtchn *rc = rd ? port_of(rd, c->remote_port) : NULL;
        /* The peer's end goes back to waiting for us. */
        if (rc && rc->state == EVTCHNSTAT_interdomain && rc->remote_dom == d->id &&
            rc->remote_port == port)
            *rc = (struct evtchn){ .state = EVTCHNSTAT_unbound, .remote_dom = d->id,
                                   .notify_vcpu = rc->notify_vcpu };
    }
    if (pending) /* none once destroy has let shared_info go */
        __atomic_fetch_and(&pending[port / BITS_PER_WORD], ~(1ull << (port % BITS_PER_WORD)),
                           __ATOMIC_SEQ_CST);
    *c = (struct evtchn){ .state = EVTCHNSTAT_closed };
}

void evtchn_close_all(struct domain *d)
{
    for (unsigned int port = 1; port < NR_EVTCHN_PORTS; port++)
        if (d->evtchn[port].state != EVTCHNSTAT_closed)
            close_port(d, port);
}

static long send(struct vcpu *v, uint64_t arg)
{
    struct evtchn_send op;
    struct domain *d = v->domain;

    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    struct evtchn *c = port_of(d, op.port);
    if (!c)
        return -XEN_EINVAL;
    d->event_stats.sent++;
    switch (c->state) {
    case EVTCHNSTAT_interdomain:
        if (c->xen_handler) {
            c->xen_handler(d);
            return 0;
        }
        {
            struct domain *rd = domain_find(c->remote_dom);
            if (rd && rd->state == DOMAIN_RUNNING)
                evtchn_set_pending(rd, c->remote_port);
        }
        return 0;
    case EVTCHNSTAT_ipi:
        evtchn_set_pending(d, op.port);
        return 0;
    case EVTCHNSTAT_unbound:
        return 0; /* nobody listens yet: dropped, as Xen does */
    default:
        return -XEN_EINVAL;
    }
}

static long status(struct vcpu *v, uint64_t arg)
{
    struct evtchn_status op;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    struct domain *d = target_domain(v, op.dom);
    if (!d)
        return v->domain->privileged ? -XEN_ESRCH : -XEN_EPERM;
    if (op.port >= NR_EVTCHN_PORTS)
        return -XEN_EINVAL;
    struct evtchn *c = &d->evtchn[op.port]; /* port 0 exists, always closed */
    op.status = c->state;
    op.vcpu = c->notify_vcpu;
    if (c->state == EVTCHNSTAT_unbound)
        op.u.unbound.dom = c->remote_dom;
    else if (c->state == EVTCHNSTAT_interdomain) {
        op.u.interdomain.dom = c->remote_dom;
        op.u.interdomain.port = c->remote_port;
    } else if (c->state == EVTCHNSTAT_virq)
        op.u.virq = c->virq;
    return copy_to_guest(arg, &op, sizeof(op));
}

static long bind_vcpu(struct vcpu *v, uint64_t arg)
{
    struct evtchn_bind_vcpu op;
    struct domain *d = v->domain;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    struct evtchn *c = port_of(d, op.port);
    if (!c)
        return -XEN_EINVAL;
    if (op.vcpu >= d->nr_vcpus)
        return -XEN_ENOENT;
    if (c->state == EVTCHNSTAT_virq ? !virq_is_global(c->virq)
                                    : c->state != EVTCHNSTAT_unbound &&
                                      c->state != EVTCHNSTAT_interdomain)
        return -XEN_EINVAL;
    c->notify_vcpu = (uint16_t)op.vcpu;
    return 0;
}

static long unmask(struct vcpu *v, uint64_t arg)
{
    struct evtchn_unmask op;
    struct domain *d = v->domain;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (op.port >= NR_EVTCHN_PORTS)
        return -XEN_EINVAL;
    if (op.port == 0)
        return 0; /* as Xen: port 0 is never in use, unmasking it is harmless */
    uint64_t *mask = (uint64_t *)d->shared_info->evtchn_mask;
    uint64_t *pending = d->shared_info ? (uint64_t *)d->shared_info->evtchn_pending : NULL;
    unsigned int w = op.port / BITS_PER_WORD, b = op.port % BITS_PER_WORD;
    __atomic_fetch_and(&mask[w], ~(1ull << b), __ATOMIC_SEQ_CST);
    if (test(&pending[w], b) && d->vcpus[d->evtchn[op.port].notify_vcpu].vcpu_info)
        raise_upcall(&d->vcpus[d->evtchn[op.port].notify_vcpu], op.port);
    return 0;
}

static long close_op(struct vcpu *v, uint64_t arg)
{
    struct evtchn_close op;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    struct evtchn *c = port_of(v->domain, op.port);
    if (!c || c->xen_handler || c->state == EVTCHNSTAT_closed)
        return -XEN_EINVAL;
    close_port(v->domain, op.port);
    return 0;
}

long do_event_channel_op(struct vcpu *v, const uint64_t args[5])
{
    switch (args[0]) {
    case EVTCHNOP_alloc_unbound: return alloc_unbound(v, args[1]);
    case EVTCHNOP_bind_interdomain: return bind_interdomain(v, args[1]);
    case EVTCHNOP_bind_virq: return bind_virq(v, args[1]);
    case EVTCHNOP_bind_ipi: return bind_ipi(v, args[1]);
    case EVTCHNOP_close: return close_op(v, args[1]);
    case EVTCHNOP_send: return send(v, args[1]);
    case EVTCHNOP_status: return status(v, args[1]);
    case EVTCHNOP_bind_vcpu: return bind_vcpu(v, args[1]);
    case EVTCHNOP_unmask: return unmask(v, args[1]);
    default: return -XEN_ENOSYS; /* incl. init_control: FIFO is not supported */
    }
}
