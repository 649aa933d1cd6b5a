/*
 * domain: INTRODUCE / RELEASE / RESUME / SET_TARGET bookkeeping, connecting
 * domains' rings through the hypervisor table (hyp.h), and noticing their
 * death, after C xenstored 4.17's xenstored_domain.c (see domain.h).
 * Connections cache their target, so SET_TARGET updates every connection
 * of the domain at once. Lookups by domid go through an index (quota checks
 * do one per request); the list is for iteration, and for finding a
 * domain by its local port (few domains: linear, as xenstored).
 */
/* domctl.h is for control tools; xen.h must see this first. */
#define __XEN_TOOLS__ 1
#include "domain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xen/domctl.h>
#include "conn.h"
#include "path.h"
#include "ring.h"
#include "watch.h"

struct domain *domain_add(struct xsd *d, unsigned domid)
{
	struct domain *dom;
	int q;

	if (!d->dom_by_id && !(d->dom_by_id = calloc(DOMID_LIMIT, sizeof(*d->dom_by_id))))
		return NULL;
	dom = calloc(1, sizeof(*dom));
	if (!dom)
		return NULL;
	dom->d = d;
	dom->domid = domid;
	dom->target = -1;
	for (q = 0; q < Q_COUNT; q++)
		dom->quota[q] = -1;
	dom->next = d->doms;
	d->doms = dom;
	d->dom_by_id[domid] = dom;
	return dom;
}

struct domain *domain_find(const struct xsd *d, unsigned domid)
{
	return d->dom_by_id && domid < DOMID_LIMIT ? d->dom_by_id[domid] : NULL;
}

/* Give back dom's ring, port and page (if connected). */
static void domain_disconnect(struct domain *dom)
{
	const struct hyp *h = dom->d->hyp;

	if (!dom->ring)
		return;
	ring_detach(dom->ring);
	dom->ring = NULL;
	dom->again = false;
	if (dom->local_port)
		h->ops->unbind(h->ctx, dom->local_port);
	dom->local_port = 0;
	h->ops->unmap(h->ctx, dom->domid, &dom->page);
}

void domain_disconnect_all(struct xsd *d)
{
	struct domain *dom;

	for (dom = d->doms; dom; dom = dom->next)
		domain_disconnect(dom);
}

void domain_clear(struct xsd *d)
{
	domain_disconnect_all(d);
	while (d->doms) {
		struct domain *next = d->doms->next;

		free(d->doms);
		d->doms = next;
	}
	free(d->dom_by_id);
	d->dom_by_id = NULL;
}

/* Ring transport hook: signal the domain's event channel. */
static void domain_notify(void *arg)
{
	struct domain *dom = arg;
	const struct hyp *h = dom->d->hyp;

	if (dom->local_port)
		h->ops->notify(h->ctx, dom->local_port);
}

/* Serve dom's ring one round; remember whether it has more. A ring that
 * breaks is logged once until it works again. */
static int domain_serve(struct domain *dom)
{
	int rc = ring_service(dom->ring);

	if (rc < 0 && !dom->broken_logged && dom->page.intf->error)
		xsd_log(dom->d, LOG_WARN, "d%u: ring broken (error %u): not served until "
			"the guest reconnects", dom->domid, dom->page.intf->error);
	else if (rc < 0 && !dom->broken_logged)
		xsd_log(dom->d, LOG_WARN, "d%u: connection closed (its output exceeded "
			"the quota): ring no longer served", dom->domid);
	dom->broken_logged = rc < 0;
	dom->again = rc == 1;
	return dom->again;
}

/* Map dom's page, bind port and serve the ring (what the guest queued
 * before is answered; the guest is signalled). 0, or -errno with nothing
 * held. */
static int domain_connect(struct domain *dom, unsigned long mfn, unsigned port)
{
	const struct hyp *h = dom->d->hyp;
	long local;
	int err;

	if ((err = h->ops->map(h->ctx, dom->domid, mfn, &dom->page)))
		return err;
	local = h->ops->bind(h->ctx, dom->domid, port);
	if (local <= 0) {
		h->ops->unmap(h->ctx, dom->domid, &dom->page);
		return local < 0 ? (int)local : -EIO;
	}
	dom->local_port = (unsigned)local;
	dom->ring = ring_attach(dom->d, dom->domid, dom->page.intf, domain_notify, dom);
	if (!dom->ring) {
		h->ops->unbind(h->ctx, dom->local_port);
		dom->local_port = 0;
		h->ops->unmap(h->ctx, dom->domid, &dom->page);
		return -ENOMEM;
	}
	xsd_log(dom->d, LOG_INFO, "d%u connected (port %u bound as %u)", dom->domid,
		port, dom->local_port);
	domain_serve(dom);
	/* Linux's xenbus (XS_LOCAL, dom0) probes on the first event. */
	domain_notify(dom);
	return 0;
}

/* Re-INTRODUCE of a connected domain: rebind to port (0 if that fails,
 * as xenstored) and reset the connection. */
static void domain_reintroduce(struct domain *dom, unsigned port)
{
	const struct hyp *h = dom->d->hyp;
	long local;

	if (dom->local_port)
		h->ops->unbind(h->ctx, dom->local_port);
	local = h->ops->bind(h->ctx, dom->domid, port);
	dom->local_port = local > 0 ? (unsigned)local : 0;
	ring_reset(dom->ring);
	domain_notify(dom);
}

int domain_introduce(struct xsd *d, unsigned domid, unsigned long mfn, unsigned port)
{
	struct domain *dom = domain_find(d, domid);
	int err;

	if (domid == 0 || domid >= DOMID_FIRST_RESERVED || port == 0)
		return -EINVAL;
	if (dom) {
		if (dom->ring)
			domain_reintroduce(dom, port);
		return 0;
	}
	dom = domain_add(d, domid);
	if (!dom)
		return -ENOMEM;
	if (d->hyp && (err = domain_connect(dom, mfn, port))) {
		d->doms = dom->next;	/* domain_add put it first */
		d->dom_by_id[domid] = NULL;
		free(dom);
		return err;
	}
	xsd_log(d, LOG_INFO, "d%u introduced (mfn %lu, port %u)", domid, mfn, port);
	watch_fire_special(d, "@introduceDomain");
	return 0;
}

int domain_connect_dom0(struct xsd *d, unsigned port)
{
	struct domain *dom = domain_find(d, 0);

	if (!d->hyp)
		return -ENOSYS;
	if (dom->ring)
		return -EEXIST;
	return domain_connect(dom, 0, port);
}

/* Delete, below the node at path[0..len) (path is a buffer of PATH_BUF
 * bytes, restored on return), every node owned by domid with its whole
 * subtree, firing watches as RM does; stop once domid owns nothing. */
static void domain_tree_remove(struct xsd *d, char *path, size_t len, unsigned domid)
{
	struct node *n = store_get(&d->store, path);
	uint32_t off = 0;

	while (n && off < n->klen && d->store.owned[domid]) {
		const char *leaf = n->kids + off;
		size_t ll = strlen(leaf), at = len == 1 ? 1 : len + 1;
		struct node *k;

		if (at + ll >= PATH_BUF) {	/* cannot happen: stored paths fit */
			off += (uint32_t)ll + 1;
			continue;
		}
		if (len > 1)
			path[len] = '/';
		memcpy(path + at, leaf, ll + 1);
		k = store_get(&d->store, path);
		if (k && perms_owner(&k->perms) == domid) {
			watch_fire(d, path, true, &k->perms);
			store_remove(&d->store, k);	/* the next leaf moves to off */
		} else {
			if (k)
				domain_tree_remove(d, path, at + ll, domid);
			off += (uint32_t)ll + 1;
		}
		path[len] = '\0';
	}
}

/* Destroy every connection that speaks for domid. */
static void domain_drop_conns(struct xsd *d, unsigned domid)
{
	struct conn *c, *next;

	for (c = d->conns; c; c = next) {
		next = c->next;
		if (c->who.domid == domid)
			conn_close(c);
	}
}

/* Forget a known domain other than dom0: disconnect, delete what it owns,
 * close its connections, fire @releaseDomain. */
static void domain_destroy(struct xsd *d, struct domain *dom)
{
	struct domain **pp;
	char path[PATH_BUF] = "/";
	unsigned domid = dom->domid;

	domain_disconnect(dom);
	for (pp = &d->doms; *pp != dom; pp = &(*pp)->next)
		;
	*pp = dom->next;
	d->dom_by_id[domid] = NULL;
	free(dom);
	domain_tree_remove(d, path, 1, domid);
	domain_drop_conns(d, domid);
	xsd_log(d, LOG_INFO, "d%u released", domid);
	watch_fire_special(d, "@releaseDomain");
}

/* Sets *dom to domid's domain for RELEASE and RESUME: -EINVAL for dom0, which neither applies to, -ENOENT if unknown. */
static int domain_find_guest(const struct xsd *d, unsigned domid, struct domain **dom)
{
	if (domid == 0)
		return -EINVAL;
	*dom = domain_find(d, domid);
	return *dom ? 0 : -ENOENT;
}

int domain_release(struct xsd *d, unsigned domid)
{
	struct domain *dom;
	int err = domain_find_guest(d, domid, &dom);

	if (!err)
		domain_destroy(d, dom);
	return err;
}

void domain_check(struct xsd *d)
{
	const struct hyp *h = d->hyp;
	struct domain *dom, *next;
	bool fire = false;
	uint32_t flags;
	int err;

	for (dom = d->doms; dom; dom = next) {
		next = dom->next;
		if (dom->domid == 0)
			continue;
		err = h->ops->info(h->ctx, dom->domid, &flags);
		if (err && err != -ESRCH) {
			xsd_log(d, LOG_ERR, "d%u: getdomaininfo: %s", dom->domid, strerror(-err));
			continue;
		}
		if (err || (flags & XEN_DOMINF_dying)) {
			domain_destroy(d, dom);	/* frees dom only: next stays valid */
			continue;
		}
		if ((flags & XEN_DOMINF_shutdown) && !dom->shutdown) {
			dom->shutdown = true;
			fire = true;
		}
	}
	if (fire)
		watch_fire_special(d, "@releaseDomain");
}

int domain_resume(struct xsd *d, unsigned domid)
{
	struct domain *dom;
	int err = domain_find_guest(d, domid, &dom);

	if (!err)
		dom->shutdown = false;
	return err;
}

int domain_set_target(struct xsd *d, unsigned domid, unsigned target)
{
	struct domain *dom = domain_find(d, domid);
	struct conn *c;

	if (!dom || !domain_find(d, target))
		return -ENOENT;
	dom->target = (int)target;
	for (c = d->conns; c; c = c->next)
		if (c->who.domid == domid)
			c->who.target = (int)target;
	return 0;
}

int domid_parse(const char *s)
{
	long v = 0;
	const char *p = s;

	if (*p == '\0' || strlen(p) > 5)
		return -EINVAL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (*p - '0');
	}
	return v < (long)DOMID_LIMIT ? (int)v : -EINVAL;
}

int domain_service_port(struct xsd *d, unsigned local)
{
	struct domain *dom;

	for (dom = d->doms; dom; dom = dom->next)
		if (dom->ring && dom->local_port == local)
			return domain_serve(dom);
	return 0;
}

int domain_service_again(struct xsd *d)
{
	struct domain *dom, *pick;
	long last = -1;
	int more = 0;

	/* In domid order, searching afresh each time: serving dom0's ring may
	 * RELEASE (free) another domain. */
	for (;;) {
		pick = NULL;
		for (dom = d->doms; dom; dom = dom->next)
			if (dom->again && (long)dom->domid > last &&
			    (!pick || dom->domid < pick->domid))
				pick = dom;
		if (!pick)
			return more;
		last = pick->domid;
		more |= domain_serve(pick);
	}
}
