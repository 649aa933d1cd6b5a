/*
 * xsd: daemon state lifetime, logging and the quota table. Default quotas
 * follow C xenstored's (docs/architecture.md §8); they can be changed on
 * the command line (-Q name=value), with CONTROL "quota", and per domain
 * with SET_QUOTA. Refusals are counted and logged, never silent.
 */
#include "xsd.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "conn.h"
#include "domain.h"

static const char *const quota_names[Q_COUNT] = {
	[Q_NODES] = "nodes",
	[Q_WATCHES] = "watches",
	[Q_TRANSACTIONS] = "transactions",
	[Q_TXN_NODES] = "transaction-nodes",
	[Q_NODE_SIZE] = "node-size",
	[Q_PERMS] = "permissions",
	[Q_MEMORY] = "memory",
	[Q_OUTSTANDING] = "outstanding",
	[Q_OUTPUT] = "output-buffer",
};

static const long quota_defaults[Q_COUNT] = {
	[Q_NODES] = 1000,
	[Q_WATCHES] = 128,
	[Q_TRANSACTIONS] = 10,
	[Q_TXN_NODES] = 1024,
	[Q_NODE_SIZE] = 2048,
	[Q_PERMS] = 5,
	[Q_MEMORY] = 2 * 1024 * 1024,
	[Q_OUTSTANDING] = 20,
	[Q_OUTPUT] = 16 * 1024 * 1024,
};

int xsd_init(struct xsd *d)
{
	memset(d, 0, sizeof(*d));
	memcpy(d->quota, quota_defaults, sizeof(d->quota));
	d->logf = stderr;
	d->loglevel = LOG_WARN;
	if (store_init(&d->store))
		return -ENOMEM;
	if (domain_add(d, 0) == NULL) {
		domain_clear(d);
		store_fini(&d->store);
		return -ENOMEM;
	}
	return 0;
}

void xsd_fini(struct xsd *d)
{
	while (d->conns)
		conn_destroy(d->conns);
	domain_clear(d);
	store_fini(&d->store);
}

void xsd_log(struct xsd *d, int level, const char *fmt, ...)
{
	va_list ap;
	char ts[32];
	time_t now;

	if (level > d->loglevel || !d->logf)
		return;
	now = time(NULL);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	fprintf(d->logf, "%s (xenstore-lite) ", ts);
	va_start(ap, fmt);
	vfprintf(d->logf, fmt, ap);
	va_end(ap);
	fputc('\n', d->logf);
	fflush(d->logf);
}

const char *quota_name(int q)
{
	return quota_names[q];
}

int quota_lookup(const char *name)
{
	int q;

	for (q = 0; q < Q_COUNT; q++)
		if (strcmp(name, quota_names[q]) == 0)
			return q;
	return -EINVAL;
}

int quota_assign(struct xsd *d, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[32], *end;
	long v;
	int q;

	if (!eq || (size_t)(eq - arg) >= sizeof(name))
		return -EINVAL;
	memcpy(name, arg, (size_t)(eq - arg));
	name[eq - arg] = '\0';
	q = quota_lookup(name);
	errno = 0;
	v = strtol(eq + 1, &end, 10);
	if (q < 0 || *end || end == eq + 1 || errno || v < 0)
		return -EINVAL;
	d->quota[q] = v;
	return 0;
}

long quota_get(const struct xsd *d, unsigned domid, int q)
{
	const struct domain *dom = domain_find(d, domid);

	if (dom && dom->quota[q] >= 0)
		return dom->quota[q];
	return d->quota[q];
}

long quota_limit(const struct xsd *d, unsigned domid, int q)
{
	long v = quota_get(d, domid, q);

	return v ? v : LONG_MAX;
}

int quota_refuse(struct xsd *d, unsigned domid, int q, int err)
{
	/* Guests trigger these, so log the first few and then every power of
	 * two: a flood cannot flood the log. */
	uint64_t n = ++d->quota_refusals;

	if (n <= 8 || (n & (n - 1)) == 0)
		xsd_log(d, LOG_WARN, "d%u: quota %s (%ld) exceeded, request refused (%llu refusals)",
			domid, quota_names[q], quota_get(d, domid, q),
			(unsigned long long)n);
	return err;
}
