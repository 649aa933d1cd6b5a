/*
 * The hypervisor's end of a domU's console ring (xen/io/console.h): until a
 * console daemon in dom0 takes the ring over (PVKIT_DOMCTL_console_takeover,
 * common/domctl.c), the hypervisor is the backend. When the
 * guest notifies the console event channel we drain `out` to the serial
 * console (prefixed with the domain id) and notify back so the guest knows
 * there is room. Indices come from the guest and are not trusted: a producer
 * more than a ring ahead of the consumer resynchronises the ring instead of
 * reading outside it.
 */
#include "pvkit/console.h"
#include "pvkit/domain.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include <xen/io/console.h>

static void console_ring_notify(struct domain *d)
{
    struct xencons_interface *ring = frame_page(d->console_ring_mfn);
    XENCONS_RING_IDX cons = ring->out_cons;
    XENCONS_RING_IDX prod = __atomic_load_n(&ring->out_prod, __ATOMIC_ACQUIRE);
    char buf[64];
    size_t n = 0;

    if (prod - cons > sizeof(ring->out))
        cons = prod - sizeof(ring->out); /* bogus indices: keep the newest ring-full */
    for (; cons != prod; cons++) {
        buf[n++] = ring->out[MASK_XENCONS_IDX(cons, ring->out)];
        if (n == sizeof(buf)) {
            console_emit_guest_text(d, buf, n);
            n = 0;
        }
    }
    console_emit_guest_text(d, buf, n);
    __atomic_store_n(&ring->out_cons, cons, __ATOMIC_RELEASE);
    evtchn_set_pending(d, d->console_port);
}

int console_ring_attach(struct domain *d, uint64_t ring_mfn)
{
    /* We write out_cons and the input ring: the page must stay a plain page. */
    int rc = get_page_and_type(d, ring_mfn, FRAME_TYPE_WRITABLE);
    if (rc)
        return rc;
    int port = evtchn_alloc_xen_port(d, console_ring_notify);
    if (port < 0) {
        put_page_and_type(d, ring_mfn);
        return port;
    }
    d->console_ring_mfn = d->console_mfn = ring_mfn;
    d->console_port = (unsigned int)port;
    return port;
}
