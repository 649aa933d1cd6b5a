/*
 * xs_ring.h: the XenStore ring client of the dom0 checks' test kernels
 * (xs_domu.c, hostile_domu.c), the way Linux's xenbus_comms speaks it:
 * requests into req[], replies and watch events out of rsp[], an event
 * after each step, polling with a timeout (never blocking for good).
 *
 * Invariants: one ring per kernel (the file-scope xs_ring, set up once by
 * xs_ring_init before any other call); every wait ends after
 * xs_ring.timeout; a watch event read on the way to a reply is recorded in
 * xs_ring.watch_path / watch_events, never returned as the reply.
 * Header-only (static inline): each kernel is its own ELF with its own ring.
 * Include after evt/evt.h and pt.h.
 */
#ifndef PVKIT_DOM0_XS_RING_H
#define PVKIT_DOM0_XS_RING_H

#include <xen/io/xs_wire.h>

static struct {
    volatile struct xenstore_domain_interface *intf;
    evtchn_port_t port;
    uint32_t next_req;          /* the req_id of the next request */
    uint64_t timeout;           /* ns each read or write may wait */
    char watch_path[64];        /* the last watch event's path */
    int watch_events;
} xs_ring;

/* Contract: attaches to start_info's store ring, each wait bounded by
 * timeout_ns; 0, or -1 if the ring or its port is missing. */
static inline int xs_ring_init(const start_info_t *si, uint64_t timeout_ns)
{
    xs_ring.intf = pt_va_of_mfn(si->store_mfn);
    xs_ring.port = si->store_evtchn;
    xs_ring.next_req = 1;
    xs_ring.timeout = timeout_ns;
    return xs_ring.intf && xs_ring.port ? 0 : -1;
}

/* Contract: moves len bytes between buf and the ring: into req[] if out
 * (advancing req_prod), else out of rsp[] (advancing rsp_cons), waiting
 * for space or data; 0, or -1 on a timeout. The two directions are one
 * loop: only which index is ours and which way memcpy goes differ. */
static inline int xs_ring_xfer(int out, char *buf, size_t len)
{
    volatile struct xenstore_domain_interface *intf = xs_ring.intf;
    volatile uint32_t *ours = out ? &intf->req_prod : &intf->rsp_cons;
    volatile uint32_t *theirs = out ? &intf->req_cons : &intf->rsp_prod;
    char *ring = out ? (char *)intf->req : (char *)intf->rsp;
    uint64_t end = evt_now() + xs_ring.timeout;

    while (len) {
        uint32_t other = __atomic_load_n(theirs, __ATOMIC_ACQUIRE), idx = *ours;
        uint32_t ready = out ? XENSTORE_RING_SIZE - (idx - other) : other - idx;
        uint32_t off = MASK_XENSTORE_IDX(idx), n = XENSTORE_RING_SIZE - off;

        n = n < ready ? n : ready;
        n = n < len ? n : (uint32_t)len;
        if (n == 0) {
            if (evt_now() > end)
                return -1;
            if (out)
                evt_send(xs_ring.port);
            evt_sleep_ms(1);
            continue;
        }
        if (out)
            memcpy(ring + off, buf, n);
        else
            memcpy(buf, ring + off, n);
        __atomic_store_n(ours, idx + n, __ATOMIC_RELEASE);
        buf += n;
        len -= n;
        evt_send(xs_ring.port);
    }
    return 0;
}

/* Contract: copies len bytes into the request ring (xs_ring_xfer). */
static inline int xs_ring_write(const void *buf, size_t len)
{
    return xs_ring_xfer(1, (char *)buf, len);
}

/* Contract: copies len bytes out of the response ring (xs_ring_xfer). */
static inline int xs_ring_read(void *buf, size_t len)
{
    return xs_ring_xfer(0, buf, len);
}

/* Contract: reads one message into *h and body (at least
 * XENSTORE_PAYLOAD_MAX + 1 bytes, NUL-terminated); a watch event is
 * recorded. 0, or -1 on a timeout or a length beyond the protocol's. */
static inline int xs_read_msg(struct xsd_sockmsg *h, char *body)
{
    if (xs_ring_read(h, sizeof(*h)) || h->len > XENSTORE_PAYLOAD_MAX ||
        xs_ring_read(body, h->len))
        return -1;
    body[h->len] = '\0';
    if (h->type == XS_WATCH_EVENT) {
        size_t n = guest_strnlen(body, sizeof(xs_ring.watch_path) - 1);

        memcpy(xs_ring.watch_path, body, n);
        xs_ring.watch_path[n] = '\0';
        xs_ring.watch_events++;
    }
    return 0;
}

/* Contract: sends a request of type with the len-byte payload a and
 * returns the reply's type (the request's, or XS_ERROR), its body in out
 * (as xs_read_msg's); watch events meanwhile are recorded, and so is
 * skipped the late reply of an earlier request that timed out (another
 * req_id), as Linux's xenbus matches replies to requests. -1 if the ring
 * failed. */
static inline int xs_req(uint32_t type, const char *a, size_t len, char *out)
{
    uint32_t id = xs_ring.next_req++;
    struct xsd_sockmsg h = { .type = type, .req_id = id, .len = (uint32_t)len };

    if (xs_ring_write(&h, sizeof(h)) || xs_ring_write(a, len))
        return -1;
    for (;;) {
        if (xs_read_msg(&h, out))
            return -1;
        if (h.type != XS_WATCH_EVENT && h.req_id == id)
            return (int)h.type;
    }
}

#endif
