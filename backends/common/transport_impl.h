/*
 * transport_impl.h - the operations table behind transport.h.  Each
 * implementation (transport_xen.c here, ../../hosted/transport_hosted.c)
 * fills one table; transport.c dispatches through it.  Private to the
 * transport implementations.
 */
#ifndef PVK_TRANSPORT_IMPL_H
#define PVK_TRANSPORT_IMPL_H

#include "transport.h"

struct pvk_transport_ops {
    const char *name;
    int (*open)(struct pvk_transport *t);
    void (*close)(struct pvk_transport *t);
    void *(*map)(struct pvk_transport *t, domid_t domid, uint32_t count,
                 const grant_ref_t *refs, int writable);
    int (*unmap)(struct pvk_transport *t, void *addr, uint32_t count);
    int (*copy)(struct pvk_transport *t, uint32_t count,
                struct pvk_copy_seg *segs);
    struct pvk_evtchn *(*bind)(struct pvk_transport *t, domid_t domid,
                               evtchn_port_t remote);
    int (*ev_fd)(struct pvk_evtchn *ev);
    void (*ev_notify)(struct pvk_evtchn *ev);
    void (*ev_ack)(struct pvk_evtchn *ev);
    void (*ev_unbind)(struct pvk_evtchn *ev);
    struct xs_handle *(*store_open)(struct pvk_transport *t);
};

/* Records what a failing open/store_open was about (see transport.h). */
void pvk_transport_set_failed_on(const char *what);

struct pvk_transport {
    const struct pvk_transport_ops *ops;
    domid_t self;
    void *priv;             /* implementation state */
};

/* Every event channel object starts with this header. */
struct pvk_evtchn_hdr {
    const struct pvk_transport_ops *ops;
};

extern const struct pvk_transport_ops pvk_transport_xen_ops;
extern const struct pvk_transport_ops pvk_transport_hosted_ops;

#endif
