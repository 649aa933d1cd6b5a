/*
 * domain: INTRODUCE / RELEASE / RESUME / SET_TARGET bookkeeping. The hosted
 * daemon has no hypervisor to map a domain's ring with, so INTRODUCE only
 * records the domain and announces it; a dom0 build attaches the ring
 * transport (ring.c) to the same record. Connections cache their target,
 * so SET_TARGET updates every connection of the domain at once. Lookups by
 * domid go through an index (quota checks do one per request); the list is
 * for iteration.
 */
#include "domain.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "conn.h"
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

void domain_clear(struct xsd *d)
{
	while (d->doms) {
		struct domain *next = d->doms->next;

		free(d->doms);
		d->doms = next;
	}
	free(d->dom_by_id);
	d->dom_by_id = NULL;
}

int domain_introduce(struct xsd *d, unsigned domid, unsigned long mfn, unsigned port)
{
	struct domain *dom = domain_find(d, domid);

	if (domid == 0)
		return -EINVAL;
	if (dom)
		return dom->mfn == mfn && dom->port == port ? 0 : -EEXIST;
	dom = domain_add(d, domid);
	if (!dom)
		return -ENOMEM;
	dom->mfn = mfn;
	dom->port = port;
	xsd_log(d, LOG_INFO, "d%u introduced (mfn %lu, port %u)", domid, mfn, port);
	watch_fire_special(d, "@introduceDomain");
	return 0;
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

int domain_release(struct xsd *d, unsigned domid)
{
	struct domain **pp;

	if (domid == 0)
		return -EINVAL;
	for (pp = &d->doms; *pp && (*pp)->domid != domid; pp = &(*pp)->next)
		;
	if (!*pp)
		return -ENOENT;
	{
		struct domain *dom = *pp;

		*pp = dom->next;
		d->dom_by_id[domid] = NULL;
		free(dom);
	}
	domain_drop_conns(d, domid);
	xsd_log(d, LOG_INFO, "d%u released", domid);
	watch_fire_special(d, "@releaseDomain");
	return 0;
}

int domain_resume(struct xsd *d, unsigned domid)
{
	/* Nothing watches for domain shutdown in the hosted daemon, so there
	 * is no state to re-arm; the request is still validated. */
	return domain_find(d, domid) ? 0 : -ENOENT;
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
