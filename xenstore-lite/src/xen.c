/*
 * xen: the hyp.h table over libxengnttab, libxenforeignmemory,
 * libxenevtchn and libxencall, and the event-channel loop (see xen.h).
 * Invariants: d->hyp points at this table exactly between xen_open and
 * xen_close; every event read with xenevtchn_pending is unmasked at once,
 * before its ring is served, so a notification that arrives meanwhile
 * makes the descriptor readable again rather than being lost.
 */
/* domctl.h is for control tools; xen.h must see this first. */
#define __XEN_TOOLS__ 1
#include "xen.h"

#include <errno.h>

#ifdef XSL_HAVE_XEN

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xencall.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xen/domctl.h>
#include <xen/grant_table.h>
#include "dom0.h"
#include "domain.h"
#include "hyp.h"

struct xen {
	struct xsd *d;
	struct hyp hyp;
	xenevtchn_handle *xce;
	xengnttab_handle *xgt;
	xenforeignmemory_handle *xfm;	/* NULL: grant mappings only */
	xencall_handle *xcall;
	struct xen_domctl *dc;		/* a hypercall-safe buffer */
	evtchn_port_t virq;		/* VIRQ_DOM_EXC, 0 if not bound */
	struct event *ev, *again;
};

/* hyp map: dom0 from xenfs, others by grant reference 1, else the mfn. */
static int xen_map(void *ctx, unsigned domid, unsigned long mfn, struct hyp_page *pg)
{
	struct xen *x = ctx;
	xen_pfn_t pfn = mfn;
	int err, ferr = 0;

	if (domid == 0) {
		pg->kind = HYP_MAP_XENFS;
		return dom0_map(DOM0_XENFS, &pg->intf);
	}
	pg->kind = HYP_MAP_GRANT;
	pg->intf = xengnttab_map_grant_ref(x->xgt, domid, GNTTAB_RESERVED_XENSTORE,
					   PROT_READ | PROT_WRITE);
	if (pg->intf)
		return 0;
	err = -errno;
	if (!x->xfm)
		return err;
	pg->kind = HYP_MAP_FOREIGN;
	pg->intf = xenforeignmemory_map(x->xfm, domid, PROT_READ | PROT_WRITE, 1, &pfn, &ferr);
	if (pg->intf && ferr == 0) {
		xsd_log(x->d, LOG_WARN, "d%u: grant reference %u not mappable (%s), "
			"mfn %lu mapped instead", domid, GNTTAB_RESERVED_XENSTORE,
			strerror(-err), mfn);
		return 0;
	}
	if (pg->intf)
		xenforeignmemory_unmap(x->xfm, pg->intf, 1);
	xsd_log(x->d, LOG_WARN, "d%u: store page: grant %s, foreign map of mfn %lu %s",
		domid, strerror(-err), mfn, strerror(ferr ? -ferr : errno));
	return err;
}

/* hyp unmap. */
static void xen_unmap(void *ctx, unsigned domid, const struct hyp_page *pg)
{
	struct xen *x = ctx;

	(void)domid;
	switch (pg->kind) {
	case HYP_MAP_XENFS:
		dom0_unmap(pg->intf);
		break;
	case HYP_MAP_GRANT:
		xengnttab_unmap(x->xgt, pg->intf, 1);
		break;
	case HYP_MAP_FOREIGN:
		xenforeignmemory_unmap(x->xfm, pg->intf, 1);
		break;
	}
}

/* hyp bind. */
static long xen_bind(void *ctx, unsigned domid, unsigned remote)
{
	struct xen *x = ctx;
	xenevtchn_port_or_error_t p = xenevtchn_bind_interdomain(x->xce, domid, remote);

	return p < 0 ? -errno : p;
}

/* hyp unbind. */
static void xen_unbind(void *ctx, unsigned local)
{
	struct xen *x = ctx;

	if (xenevtchn_unbind(x->xce, local) < 0)
		xsd_log(x->d, LOG_ERR, "unbind port %u: %s", local, strerror(errno));
}

/* hyp notify. */
static void xen_notify(void *ctx, unsigned local)
{
	struct xen *x = ctx;

	if (xenevtchn_notify(x->xce, local) < 0)
		xsd_log(x->d, LOG_ERR, "notify port %u: %s", local, strerror(errno));
}

/* hyp info: XEN_DOMCTL_getdomaininfo, which answers with the first domain
 * at or after the one asked for. */
static int xen_info(void *ctx, unsigned domid, uint32_t *flags)
{
	struct xen *x = ctx;
	struct xen_domctl *dc = x->dc;

	memset(dc, 0, sizeof(*dc));
	dc->cmd = XEN_DOMCTL_getdomaininfo;
	dc->interface_version = XEN_DOMCTL_INTERFACE_VERSION;
	dc->domain = (domid_t)domid;
	if (xencall1(x->xcall, __HYPERVISOR_domctl, (uint64_t)(uintptr_t)dc) < 0)
		return -errno;
	if (dc->u.getdomaininfo.domain != domid)
		return -ESRCH;
	*flags = dc->u.getdomaininfo.flags;
	return 0;
}

static const struct hyp_ops xen_ops = {
	.map = xen_map,
	.unmap = xen_unmap,
	.bind = xen_bind,
	.unbind = xen_unbind,
	.notify = xen_notify,
	.info = xen_info,
};

/* libevent: the event-channel descriptor is readable. */
static void xen_on_event(evutil_socket_t fd, short what, void *arg)
{
	struct xen *x = arg;
	xenevtchn_port_or_error_t port = xenevtchn_pending(x->xce);

	(void)fd; (void)what;
	if (port < 0) {
		xsd_log(x->d, LOG_ERR, "xenevtchn_pending: %s", strerror(errno));
		return;
	}
	if (xenevtchn_unmask(x->xce, (evtchn_port_t)port) < 0)
		xsd_log(x->d, LOG_ERR, "unmask port %d: %s", port, strerror(errno));
	if ((evtchn_port_t)port == x->virq)
		domain_check(x->d);
	else if (domain_service_port(x->d, (unsigned)port))
		event_active(x->again, 0, 0);
}

/* libevent: some rings had more input than one round. */
static void xen_on_again(evutil_socket_t fd, short what, void *arg)
{
	struct xen *x = arg;

	(void)fd; (void)what;
	if (domain_service_again(x->d))
		event_active(x->again, 0, 0);
}

/* Free what x holds (any part may be missing). */
static void xen_free(struct xen *x)
{
	if (x->ev)
		event_free(x->ev);
	if (x->again)
		event_free(x->again);
	if (x->virq)
		xenevtchn_unbind(x->xce, x->virq);
	if (x->dc)
		xencall_free_buffer(x->xcall, x->dc);
	if (x->xcall)
		xencall_close(x->xcall);
	if (x->xfm)
		xenforeignmemory_close(x->xfm);
	if (x->xgt)
		xengnttab_close(x->xgt);
	if (x->xce)
		xenevtchn_close(x->xce);
	free(x);
}

int xen_open(struct xsd *d, struct event_base *base, struct xen **out)
{
	struct xen *x = calloc(1, sizeof(*x));
	xenevtchn_port_or_error_t virq;
	int err;

	if (!x)
		return -ENOMEM;
	x->d = d;
	x->hyp = (struct hyp){ .ops = &xen_ops, .ctx = x };
	if (!(x->xce = xenevtchn_open(NULL, 0))) {
		err = -errno;
		goto fail;
	}
	if (!(x->xgt = xengnttab_open(NULL, 0)) || !(x->xcall = xencall_open(NULL, 0)) ||
	    !(x->dc = xencall_alloc_buffer(x->xcall, sizeof(*x->dc)))) {
		err = -errno;
		goto fail;
	}
	/* Optional: without it, store pages are mapped by grant only. */
	if (!(x->xfm = xenforeignmemory_open(NULL, 0)))
		xsd_log(d, LOG_WARN, "libxenforeignmemory: %s; store pages by grant only",
			strerror(errno));
	if ((virq = xenevtchn_bind_virq(x->xce, VIRQ_DOM_EXC)) < 0) {
		err = -errno;
		goto fail;
	}
	x->virq = (evtchn_port_t)virq;
	x->ev = event_new(base, xenevtchn_fd(x->xce), EV_READ | EV_PERSIST, xen_on_event, x);
	x->again = event_new(base, -1, 0, xen_on_again, x);
	if (!x->ev || !x->again || event_add(x->ev, NULL) < 0) {
		err = -ENOMEM;
		goto fail;
	}
	d->hyp = &x->hyp;
	*out = x;
	return 0;
fail:
	if (err == 0)
		err = -EIO;
	xen_free(x);
	return err;
}

void xen_close(struct xen *x)
{
	domain_disconnect_all(x->d);
	x->d->hyp = NULL;
	xen_free(x);
}

#else /* !XSL_HAVE_XEN */

int xen_open(struct xsd *d, struct event_base *base, struct xen **out)
{
	(void)d; (void)base; (void)out;
	return -ENOSYS;
}

void xen_close(struct xen *x)
{
	(void)x;
}

#endif
