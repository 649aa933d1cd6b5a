/*
 * transport_xen.c - the "xen" transport for a backend running in the
 * management domain: grants through libxengnttab (/dev/xen/gntdev), event
 * channels through libxenevtchn (/dev/xen/evtchn), the store through
 * libxenstore (socket or /dev/xen/xenbus).  Each bound channel owns its own
 * xenevtchn handle so that every queue thread can poll its own fd.
 * Cannot run without a Xen-ABI hypervisor and dom0 kernel drivers; on a
 * plain host pvk_transport_open("xen") fails with the library's errno.
 * The libraries' own error lines go through guest_logger: a guest decides
 * how often they happen (libxengnttab prints "mmap failed" for every grant
 * it cannot map), so they are rate-limited like every guest complaint.
 */
#include "transport_impl.h"
#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xentoollog.h>

struct xen_ev {
    struct pvk_evtchn_hdr hdr;
    xenevtchn_handle *xce;
    evtchn_port_t local;
};

/* Contract: one library message, errors and worse only, rate-limited. */
static void guest_vmessage(struct xentoollog_logger *l, xentoollog_level level,
                           int errnoval, const char *context, const char *format,
                           va_list al)
{
    char msg[256];

    (void)l;
    if (level < XTL_ERROR)
        return;
    vsnprintf(msg, sizeof(msg), format, al);
    if (errnoval >= 0)
        pvk_log_guest("%s: %s: %s", context ? context : "xen", msg, strerror(errnoval));
    else
        pvk_log_guest("%s: %s", context ? context : "xen", msg);
}

/* Contract: the logger outlives every handle; nothing to free. */
static void guest_logger_destroy(struct xentoollog_logger *l)
{
    (void)l;
}

static struct xentoollog_logger guest_logger = {
    .vmessage = guest_vmessage,
    .destroy = guest_logger_destroy,
};

/* Contract: opens /dev/xen/gntdev through libxengnttab; dom0 is domain 0. */
static int xen_open(struct pvk_transport *t)
{
    xengnttab_handle *xgt = xengnttab_open(&guest_logger, 0);

    if (!xgt) {
        pvk_transport_set_failed_on("/dev/xen/gntdev");
        return -1;
    }
    t->priv = xgt;
    t->self = 0;
    return 0;
}

/* Contract: closes the gnttab handle. */
static void xen_close(struct pvk_transport *t)
{
    xengnttab_close(t->priv);
}

/* Contract: that of pvk_grant_map (xengnttab_map_domain_grant_refs). */
static void *xen_map(struct pvk_transport *t, domid_t domid, uint32_t count,
                     const grant_ref_t *refs, int writable)
{
    return xengnttab_map_domain_grant_refs(t->priv, count, domid,
                                           (uint32_t *)refs,
                                           PROT_READ | (writable ? PROT_WRITE : 0));
}

/* Contract: that of pvk_grant_unmap. */
static int xen_unmap(struct pvk_transport *t, void *addr, uint32_t count)
{
    return xengnttab_unmap(t->priv, addr, count) < 0 ? -errno : 0;
}

/* Contract: translates one pvkit copy segment to libxengnttab's form. */
static void to_xen_seg(const struct pvk_copy_seg *s,
                       xengnttab_grant_copy_segment_t *x)
{
    if (s->to_foreign) {
        x->source.virt = s->local;
        x->dest.foreign.ref = s->ref;
        x->dest.foreign.offset = s->offset;
        x->dest.foreign.domid = s->domid;
        x->flags = GNTCOPY_dest_gref;
    } else {
        x->source.foreign.ref = s->ref;
        x->source.foreign.offset = s->offset;
        x->source.foreign.domid = s->domid;
        x->dest.virt = s->local;
        x->flags = GNTCOPY_source_gref;
    }
    x->len = s->len;
}

/* Contract: that of pvk_grant_copy (xengnttab_grant_copy). */
static int xen_copy(struct pvk_transport *t, uint32_t count,
                    struct pvk_copy_seg *segs)
{
    xengnttab_grant_copy_segment_t *x = calloc(count, sizeof(*x));
    int rc;

    if (!x)
        return -ENOMEM;
    for (uint32_t i = 0; i < count; i++)
        to_xen_seg(&segs[i], &x[i]);
    rc = xengnttab_grant_copy(t->priv, count, x);
    for (uint32_t i = 0; i < count; i++)
        segs[i].status = rc < 0 ? GNTST_general_error : x[i].status;
    free(x);
    return rc < 0 ? -errno : 0;
}

/* Contract: that of pvk_evtchn_bind, one xenevtchn handle per channel. */
static struct pvk_evtchn *xen_bind(struct pvk_transport *t, domid_t domid,
                                   evtchn_port_t remote)
{
    struct xen_ev *ev = calloc(1, sizeof(*ev));
    xenevtchn_port_or_error_t port;

    (void)t;
    if (!ev)
        return NULL;
    ev->hdr.ops = &pvk_transport_xen_ops;
    ev->xce = xenevtchn_open(&guest_logger, 0);
    if (!ev->xce)
        goto fail;
    port = xenevtchn_bind_interdomain(ev->xce, domid, remote);
    if (port < 0) {
        xenevtchn_close(ev->xce);
        goto fail;
    }
    ev->local = (evtchn_port_t)port;
    return (struct pvk_evtchn *)ev;
fail:
    free(ev);
    return NULL;
}

/* Contract: that of pvk_evtchn_fd. */
static int xen_ev_fd(struct pvk_evtchn *e)
{
    return xenevtchn_fd(((struct xen_ev *)e)->xce);
}

/* Contract: that of pvk_evtchn_notify. */
static void xen_ev_notify(struct pvk_evtchn *e)
{
    struct xen_ev *ev = (struct xen_ev *)e;

    xenevtchn_notify(ev->xce, ev->local);
}

/*
 * Contract: called once the fd polled readable: reads the pending port and
 * unmasks it.  The handle holds exactly one port, and its fd is blocking,
 * so exactly one read is made (a second would block until the next event).
 */
static void xen_ev_ack(struct pvk_evtchn *e)
{
    struct xen_ev *ev = (struct xen_ev *)e;
    xenevtchn_port_or_error_t p = xenevtchn_pending(ev->xce);

    if (p >= 0)
        xenevtchn_unmask(ev->xce, (evtchn_port_t)p);
}

/* Contract: that of pvk_evtchn_unbind. */
static void xen_ev_unbind(struct pvk_evtchn *e)
{
    struct xen_ev *ev = (struct xen_ev *)e;

    xenevtchn_unbind(ev->xce, ev->local);
    xenevtchn_close(ev->xce);
    free(ev);
}

/* Contract: xs_open(0): the socket if present, else /dev/xen/xenbus. */
static struct xs_handle *xen_store_open(struct pvk_transport *t)
{
    (void)t;
    struct xs_handle *h = xs_open(0);
    char what[600];

    if (!h) {
        int e = errno;

        snprintf(what, sizeof(what), "%s or /dev/xen/xenbus",
                 pvk_store_socket_path());
        pvk_transport_set_failed_on(what);
        errno = e;
    }
    return h;
}

const struct pvk_transport_ops pvk_transport_xen_ops = {
    .name = "xen",
    .open = xen_open,
    .close = xen_close,
    .map = xen_map,
    .unmap = xen_unmap,
    .copy = xen_copy,
    .bind = xen_bind,
    .ev_fd = xen_ev_fd,
    .ev_notify = xen_ev_notify,
    .ev_ack = xen_ev_ack,
    .ev_unbind = xen_ev_unbind,
    .store_open = xen_store_open,
};
