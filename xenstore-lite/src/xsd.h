/*
 * xsd: the daemon's shared state and its small services (quotas, logging).
 *
 * One struct xsd holds the live store, the quota table, the connections and
 * the known domains. Everything runs on one thread; no locking anywhere.
 * Quotas are global defaults that a domain may override; -1 in an override
 * means "use the global value".
 */
#ifndef XSL_XSD_H
#define XSL_XSD_H

#include <stdarg.h>
#include <stdio.h>
#include "store.h"

enum quota_id {
	Q_NODES,		/* nodes owned by an unprivileged domain */
	Q_WATCHES,		/* watches per connection */
	Q_TRANSACTIONS,		/* open transactions per connection */
	Q_TXN_NODES,		/* nodes touched by one unprivileged transaction */
	Q_NODE_SIZE,		/* value + permission bytes of one node */
	Q_PERMS,		/* entries in one permission list */
	Q_MEMORY,		/* path + value bytes owned by a domain */
	Q_OUTSTANDING,		/* unread replies before input is paused */
	Q_OUTPUT,		/* queued output bytes before a client is dropped */
	Q_COUNT
};

struct conn;
struct domain;
struct hyp;

struct xsd {
	struct store store;
	long quota[Q_COUNT];
	struct conn *conns;
	struct domain *doms;
	struct domain **dom_by_id;	/* DOMID_LIMIT slots, indexes doms */
	const struct hyp *hyp;		/* the hypervisor (hyp.h), NULL if hosted */
	int loglevel;		/* 0 errors, 1 warnings, 2 info, 3 debug */
	FILE *logf;
	uint64_t requests;
	uint64_t quota_refusals;
};

enum { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Initialise a daemon state with default quotas and dom0 known.
 * Returns 0 or -ENOMEM. */
int xsd_init(struct xsd *d);
/* Destroy every connection, domain and node. */
void xsd_fini(struct xsd *d);
/* Log a line prefixed "(xenstore-lite)" if level <= d->loglevel. */
void xsd_log(struct xsd *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Name of quota q ("nodes", "watches", ...). */
const char *quota_name(int q);
/* Index of the quota called name, or -EINVAL. */
int quota_lookup(const char *name);
/* Parse "name=value" and set the global quota. 0 or -EINVAL. */
int quota_assign(struct xsd *d, const char *arg);
/* Quota q for domid as configured (domain override, else global); 0
 * means the check is disabled. */
long quota_get(const struct xsd *d, unsigned domid, int q);
/* The limit to enforce: quota_get, or LONG_MAX when that is 0. */
long quota_limit(const struct xsd *d, unsigned domid, int q);
/* Record and log a quota refusal for domid; returns err. */
int quota_refuse(struct xsd *d, unsigned domid, int q, int err);

#endif
