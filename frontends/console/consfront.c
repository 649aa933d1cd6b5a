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

/*
 * Moves up to len bytes through one ring of size bytes (a power of two):
 * from `from` into the ring when from is set, else out of it into `to`.
 * *own is the index this side advances (out_prod when writing, in_cons when
 * reading), *peer the other side's, read with acquire. A ring whose indices
 * are more than size apart is corrupt: nothing moves. Publishes *own with
 * release and notifies the backend when anything moved; returns the count.
 */
static unsigned ring_move(struct consfront *c, char *ring, unsigned size,
                          XENCONS_RING_IDX *own, XENCONS_RING_IDX *peer,
                          const char *from, char *to, unsigned len)
{
    XENCONS_RING_IDX theirs = __atomic_load_n(peer, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX mine = *own;
    XENCONS_RING_IDX filled = from ? mine - theirs : theirs - mine;
    unsigned n = 0;

    if (filled > size)
        return 0;
    for (; n < len && n < (from ? size - filled : filled); n++, mine++) {
        if (from)
            ring[mine & (size - 1)] = from[n];
        else
            to[n] = ring[mine & (size - 1)];
    }
    __atomic_store_n(own, mine, __ATOMIC_RELEASE);
    if (n)
        c->os->evtchn_notify(c->os->ctx, c->port);
    return n;
}

unsigned consfront_write(struct consfront *c, const char *buf, unsigned len)
{
    struct xencons_interface *i = c->intf;

    return ring_move(c, i->out, sizeof(i->out), &i->out_prod, &i->out_cons, buf, 0, len);
}

unsigned consfront_read(struct consfront *c, char *buf, unsigned len)
{
    struct xencons_interface *i = c->intf;

    return ring_move(c, i->in, sizeof(i->in), &i->in_cons, &i->in_prod, 0, buf, len);
}
