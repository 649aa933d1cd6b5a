/*
 * domain: the domains the store knows about, and their rings.
 *
 * dom0 is always known and cannot be released. Other domains exist from
 * INTRODUCE to RELEASE or their death. A domain may carry per-domain quota
 * overrides and a SET_TARGET target. With a hypervisor (d->hyp, hyp.h) an
 * introduced domain is connected: its store page is mapped, its event
 * channel bound and its ring served by the ring transport (ring.c) as a
 * connection acting for that domid; dom0's own ring is connected the same
 * way by domain_connect_dom0. Hosted (no hypervisor), INTRODUCE only records
 * the domain. Invariants: at most one record per domid; a record has a ring
 * exactly when it holds a mapped page and a bound local port, and the three
 * are released together.
 */
#ifndef XSL_DOMAIN_H
#define XSL_DOMAIN_H

#include <stdbool.h>
#include "hyp.h"
#include "xsd.h"

struct ring_conn;

struct domain {
	struct domain *next;
	struct xsd *d;
	unsigned domid;
	int target;		/* SET_TARGET, or -1 */
	long quota[Q_COUNT];	/* overrides, -1 = global */
	/* connected (hypervisor present): all set, or ring == NULL */
	struct ring_conn *ring;
	struct hyp_page page;
	unsigned local_port;	/* ours; 0 after a failed rebind */
	bool shutdown;		/* @releaseDomain already fired for its shutdown */
	bool again;		/* its ring has more input than one round served */
	bool broken_logged;	/* its ring's breaking was logged */
};

/* Record domid (must be unknown, < DOMID_LIMIT). NULL on -ENOMEM. */
struct domain *domain_add(struct xsd *d, unsigned domid);
/* Known domain domid or NULL. */
struct domain *domain_find(const struct xsd *d, unsigned domid);
/* Disconnect (domain_disconnect) and forget every domain. */
void domain_clear(struct xsd *d);

/* INTRODUCE, as C xenstored 4.17: domid 1..DOMID_FIRST_RESERVED-1 and a
 * port > 0, else -EINVAL (the mfn is used only for a foreign mapping). A
 * new domain is mapped, bound and served at once (requests its kernel
 * queued before are answered), and @introduceDomain fires; a failure
 * (-errno from the hypervisor, -ENOMEM) leaves nothing behind. An already
 * introduced domain gets its event channel rebound to port and its
 * connection reset (watches, transactions, queued output and ring indices
 * dropped), as xenstored does on resume; no event fires. */
int domain_introduce(struct xsd *d, unsigned domid, unsigned long mfn, unsigned port);
/* Serve dom0's own ring (the hypervisor maps it from xenfs) bound to
 * port: as INTRODUCE of the master domain, without @introduceDomain.
 * 0 or -errno (nothing left behind); -EEXIST if already connected,
 * -ENOSYS without a hypervisor. */
int domain_connect_dom0(struct xsd *d, unsigned port);
/* RELEASE: disconnect the domain, delete the nodes it owns (xenstored's
 * default), close its other connections, forget it, fire @releaseDomain.
 * -EINVAL for dom0, -ENOENT if unknown. */
int domain_release(struct xsd *d, unsigned domid);
/* VIRQ_DOM_EXC arrived: ask the hypervisor about every introduced domain.
 * A dying or vanished one is released as by RELEASE; one newly shut down
 * (or crashed) fires @releaseDomain once, until RESUME re-arms it. */
void domain_check(struct xsd *d);
/* RESUME: re-arm @releaseDomain for a shut-down domain. -EINVAL for dom0,
 * -ENOENT if unknown. */
int domain_resume(struct xsd *d, unsigned domid);
/* SET_TARGET: domid acts for target; both known, else -ENOENT. */
int domain_set_target(struct xsd *d, unsigned domid, unsigned target);
/* Parse a decimal domid 0..65535. Returns it or -EINVAL. */
int domid_parse(const char *s);

/* An event arrived on local port: serve that domain's ring one round.
 * Returns 1 if it has more input than one round served (call
 * domain_service_again later), else 0 (also for an unknown port). */
int domain_service_port(struct xsd *d, unsigned local);
/* Serve one more round of every ring that had more input; 1 if some still
 * have more, else 0. Rounds are bounded, so one busy guest cannot keep the
 * daemon from the others. */
int domain_service_again(struct xsd *d);
/* Disconnect every domain (dom0 included) from the hypervisor, keeping the
 * records: before the hypervisor interface goes away. */
void domain_disconnect_all(struct xsd *d);

#endif
