/*
 * domain: the domains the store knows about.
 *
 * dom0 is always known and cannot be released. Other domains exist from
 * INTRODUCE to RELEASE. A domain may carry per-domain quota overrides and a
 * SET_TARGET target. Invariant: at most one record per domid.
 */
#ifndef XSL_DOMAIN_H
#define XSL_DOMAIN_H

#include <stdbool.h>
#include "xsd.h"

struct domain {
	struct domain *next;
	unsigned domid;
	unsigned long mfn;
	unsigned port;
	int target;		/* SET_TARGET, or -1 */
	long quota[Q_COUNT];	/* overrides, -1 = global */
};

/* Record domid (must be unknown, < DOMID_LIMIT). NULL on -ENOMEM. */
struct domain *domain_add(struct xsd *d, unsigned domid);
/* Known domain domid or NULL. */
struct domain *domain_find(const struct xsd *d, unsigned domid);
/* Forget every domain. */
void domain_clear(struct xsd *d);

/* INTRODUCE: record a domain and fire @introduceDomain. Re-introducing with
 * the same mfn and port succeeds; with different ones, -EEXIST. */
int domain_introduce(struct xsd *d, unsigned domid, unsigned long mfn, unsigned port);
/* RELEASE: forget a domain, close its connections, fire @releaseDomain.
 * -EINVAL for dom0, -ENOENT if unknown. */
int domain_release(struct xsd *d, unsigned domid);
/* RESUME: re-arm @releaseDomain for a known domain, else -ENOENT. */
int domain_resume(struct xsd *d, unsigned domid);
/* SET_TARGET: domid acts for target; both known, else -ENOENT. */
int domain_set_target(struct xsd *d, unsigned domid, unsigned target);
/* Parse a decimal domid 0..65535. Returns it or -EINVAL. */
int domid_parse(const char *s);

#endif
