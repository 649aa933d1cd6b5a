/*
 * consfront.c - implementation of consfront.h (freestanding).
 */
#include "consfront.h"

void consfront_init(struct consfront *c, const struct pvf_os *os,
                    struct xencons_interface *intf, evtchn_port_t port)
{
    c->os = os;
    c->intf = intf;
    c->port = port;
}

unsigned consfront_write(struct consfront *c, const char *buf, unsigned len)
{
    struct xencons_interface *i = c->intf;
    XENCONS_RING_IDX cons = __atomic_load_n(&i->out_cons, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX prod = i->out_prod;
    unsigned n = 0;

    if (prod - cons > sizeof(i->out))
        return 0;
    while (n < len && prod - cons < sizeof(i->out))
        i->out[MASK_XENCONS_IDX(prod++, i->out)] = buf[n++];
    __atomic_store_n(&i->out_prod, prod, __ATOMIC_RELEASE);
    if (n)
        c->os->evtchn_notify(c->os->ctx, c->port);
    return n;
}

/* The mirror of consfront_write on the in ring: each side owns the other index, kept apart on purpose. */
unsigned consfront_read(struct consfront *c, char *buf, unsigned len)
{
    struct xencons_interface *i = c->intf;
    XENCONS_RING_IDX prod = __atomic_load_n(&i->in_prod, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX cons = i->in_cons;
    unsigned n = 0;

    if (prod - cons > sizeof(i->in))
        return 0;
    while (n < len && cons != prod)
        buf[n++] = i->in[MASK_XENCONS_IDX(cons++, i->in)];
    __atomic_store_n(&i->in_cons, cons, __ATOMIC_RELEASE);
    if (n)
        c->os->evtchn_notify(c->os->ctx, c->port);
    return n;
}
