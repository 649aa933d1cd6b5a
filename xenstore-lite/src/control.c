/*
 * control: XS_CONTROL commands (list in control.h). Each command is a small
 * function writing into a bounded buffer; nothing here can overflow it
 * because every write goes through snprintf with the remaining space.
 */
#include "control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domain.h"

struct outbuf {
	char *p;
	size_t cap, len;
};

/* Append formatted text, truncating silently at the buffer's end. */
static void out_add(struct outbuf *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void out_add(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->len + 1 >= o->cap)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (k > 0)
		o->len += (size_t)k < o->cap - o->len ? (size_t)k : o->cap - o->len - 1;
}

/* help: the command list. */
static int ctl_help(struct xsd *d, const char **argv, unsigned argc, struct outbuf *o)
{
	(void)d; (void)argv; (void)argc;
	out_add(o, "check\nhelp\nlog <0-3>\nmemreport\nprint <text>\n"
		"quota [<name> <value>|<domid>]\n");
	return 0;
}

/* check: verify the tree invariants; -EIO if broken. */
static int ctl_check(struct xsd *d, const char **argv, unsigned argc, struct outbuf *o)
{
	(void)argv; (void)argc;
	if (store_check(&d->store))
		return -EIO;
	out_add(o, "OK");
	return 0;
}

/* log <0-3>: set the log level. */
static int ctl_log(struct xsd *d, const char **argv, unsigned argc, struct outbuf *o)
{
	if (argc != 2 || strlen(argv[1]) != 1 || argv[1][0] < '0' || argv[1][0] > '3')
		return -EINVAL;
	d->loglevel = argv[1][0] - '0';
	out_add(o, "log level %d", d->loglevel);
	return 0;
}

/* memreport: node count, data bytes and counters. */
static int ctl_memreport(struct xsd *d, const char **argv, unsigned argc, struct outbuf *o)
{
	(void)argv; (void)argc;
	out_add(o, "nodes %zu\ndata-bytes %llu\nrequests %llu\nquota-refusals %llu\n",
		store_count(&d->store), (unsigned long long)d->store.data_bytes,
		(unsigned long long)d->requests, (unsigned long long)d->quota_refusals);
	return 0;
}

/* print <text>: write text to the log. */
static int ctl_print(struct xsd *d, const char **argv, unsigned argc, struct outbuf *o)
{
	if (argc != 2)
		return -EINVAL;
	xsd_log(d, LOG_ERR, "control print: %s", argv[1]);
	out_add(o, "OK");
	return 0;
}

/* List every quota of domid (or the globals when dom is NULL). */
static void ctl_quota_list(struct xsd *d, const struct domain *dom, struct outbuf *o)
{
	int q;

	for (q = 0; q < Q_COUNT; q++)
		out_add(o, "%-18s %ld\n", quota_name(q),
			dom ? quota_get(d, dom->domid, q) : d->quota[q]);
	if (dom)
		out_add(o, "%-18s %u\n%-18s %llu\n", "nodes-used", d->store.owned[dom->domid],
			"memory-used", (unsigned long long)d->store.bytes[dom->domid]);
}

/* quota [<name> <value> | <domid>]: list or set quotas. */
static int ctl_quota(struct xsd *d, const char **argv, unsigned argc, struct outbuf *o)
{
	char arg[64];
	int domid;

	if (argc == 1) {
		ctl_quota_list(d, NULL, o);
		return 0;
	}
	if (argc == 3) {
		snprintf(arg, sizeof(arg), "%s=%s", argv[1], argv[2]);
		if (quota_assign(d, arg))
			return -EINVAL;
		out_add(o, "OK");
		return 0;
	}
	if (argc != 2 || (domid = domid_parse(argv[1])) < 0)
		return -EINVAL;
	if (!domain_find(d, (unsigned)domid))
		return -ENOENT;
	ctl_quota_list(d, domain_find(d, (unsigned)domid), o);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct xsd *d, const char **argv, unsigned argc, struct outbuf *o);
} ctl_cmds[] = {
	{ "check", ctl_check },
	{ "help", ctl_help },
	{ "log", ctl_log },
	{ "memreport", ctl_memreport },
	{ "print", ctl_print },
	{ "quota", ctl_quota },
};

int control_run(struct xsd *d, const char **argv, unsigned argc, char *out, size_t cap)
{
	struct outbuf o = { .p = out, .cap = cap };
	size_t i;

	out[0] = '\0';
	for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++)
		if (strcmp(argv[0], ctl_cmds[i].name) == 0)
			return ctl_cmds[i].fn(d, argv, argc, &o);
	return -EINVAL;
}
