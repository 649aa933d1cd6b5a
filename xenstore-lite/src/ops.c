/*
 * ops: request handlers (see ops.h). Every handler parses and checks all of
 * its arguments before changing anything, returns -errno on failure (the
 * dispatcher turns that into the XS_ERROR reply) and replies itself on
 * success. Reads and changes go through the view of txn.h, so the same code
 * serves plain requests and requests inside a transaction.
 */
#include "ops.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "control.h"
#include "domain.h"
#include "path.h"
#include "txn.h"
#include "watch.h"

struct req {
	const struct xsd_sockmsg *h;
	char *p;
	uint32_t len;
	struct txn *t;
};

/* Reply to r with body. */
static int reply(struct conn *c, const struct req *r, const void *body, uint32_t len)
{
	conn_send(c, r->h->type, r->h->req_id, r->h->tx_id, body, len);
	return 0;
}

/* Reply with a NUL-terminated string (the NUL is sent). */
static int reply_str(struct conn *c, const struct req *r, const char *s)
{
	return reply(c, r, s, (uint32_t)strlen(s) + 1);
}

/* Reply with the "OK" acknowledgement. */
static int reply_ok(struct conn *c, const struct req *r)
{
	return reply_str(c, r, "OK");
}

/* Split the payload into its first n NUL-terminated strings.
 * Returns 0, or -EINVAL if fewer than n are present. */
static int req_args(const struct req *r, const char **v, unsigned n)
{
	uint32_t off = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		const char *z = memchr(r->p + off, '\0', r->len - off);

		if (off >= r->len || !z)
			return -EINVAL;
		v[i] = r->p + off;
		off = (uint32_t)(z - r->p) + 1;
	}
	return 0;
}

/* Number of NUL-terminated strings in the payload from offset off. */
static unsigned req_count(const struct req *r, uint32_t off)
{
	unsigned n = 0;

	for (; off < r->len; off++)
		n += r->p[off] == '\0';
	return n;
}

/* Canonical path from the first argument. */
static int req_path(struct conn *c, const struct req *r, bool special, char *out)
{
	const char *a;

	if (req_args(r, &a, 1))
		return -EINVAL;
	return path_canon(c->home, a, special, out);
}

/* path is absent: -ENOENT if c has any of bits on its nearest existing
 * ancestor, else -EACCES, so that a node's absence is not told to whom
 * may not see it (xenstored's errno_from_parents); or the view's error. */
static int absent_error(struct conn *c, const struct req *r, const char *path, unsigned bits)
{
	char anc[PATH_BUF];
	const struct node *a = NULL;
	int err = 0;

	strcpy(anc, path);
	while (!a && strcmp(anc, "/") != 0) {
		path_parent(anc, anc);
		if (!(a = view_get(c, r->t, anc, false, &err)) && err)
			return err;
	}
	return a && (perms_access(&a->perms, &c->who) & bits) ? -ENOENT : -EACCES;
}

/* The node at path in the request's view, checked for access bits.
 * Returns it, or NULL with *err set (-ENOENT if absent and c may see the
 * nearest existing ancestor, else -EACCES). */
static const struct node *req_node(struct conn *c, const struct req *r,
				   const char *path, bool kids, unsigned bits, int *err)
{
	const struct node *n = view_get(c, r->t, path, kids, err);

	if (!n) {
		*err = *err ? *err : absent_error(c, r, path, bits);
		return NULL;
	}
	if ((perms_access(&n->perms, &c->who) & bits) != bits) {
		*err = -EACCES;
		return NULL;
	}
	return n;
}

/* The node at the path of the request's first argument, checked as
 * req_node does; NULL with *err set. */
static const struct node *req_path_node(struct conn *c, const struct req *r,
					bool kids, unsigned bits, int *err)
{
	char path[PATH_BUF];

	if ((*err = req_path(c, r, false, path)))
		return NULL;
	return req_node(c, r, path, kids, bits, err);
}

/* READ <path>: the value (read permission). */
static int op_read(struct conn *c, struct req *r)
{
	const struct node *n;
	int err;

	if (!(n = req_path_node(c, r, false, XS_PERM_READ, &err)))
		return err;
	return reply(c, r, n->value, n->vlen);
}

/* DIRECTORY <path>: child leaf names (read permission); E2BIG if they
 * do not fit one message, so clients switch to DIRECTORY_PART. */
static int op_directory(struct conn *c, struct req *r)
{
	const struct node *n;
	int err;

	if (!(n = req_path_node(c, r, true, XS_PERM_READ, &err)))
		return err;
	if (n->klen > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	return reply(c, r, n->kids, n->klen);
}

/* Parse a decimal unsigned number that fits in max. */
static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0' || strlen(s) > 20)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (unsigned long)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	*out = v;
	return 0;
}

/* DIRECTORY_PART <path> <offset>: the child-list generation, then the
 * names from byte offset on that fit; the last part ends with an empty name. */
static int op_directory_part(struct conn *c, struct req *r)
{
	char path[PATH_BUF], buf[XENSTORE_PAYLOAD_MAX];
	const struct node *n;
	const char *a[2];
	unsigned long off;
	int err, len;

	if (req_args(r, a, 2) || parse_uint(a[1], UINT32_MAX, &off))
		return -EINVAL;
	if ((err = path_canon(c->home, a[0], false, path)))
		return err;
	if (!(n = req_node(c, r, path, true, XS_PERM_READ, &err)))
		return err;
	len = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n->cgen) + 1;
	while (off < n->klen) {
		size_t kl = strlen(n->kids + off) + 1;

		if ((size_t)len + kl + 1 > sizeof(buf))
			break;
		memcpy(buf + len, n->kids + off, kl);
		len += (int)kl;
		off += kl;
	}
	if (off >= n->klen)
		buf[len++] = '\0';
	return reply(c, r, buf, (uint32_t)len);
}

/* GET_PERMS <path>: the permission strings (read permission). */
static int op_get_perms(struct conn *c, struct req *r)
{
	char buf[XENSTORE_PAYLOAD_MAX];
	const struct node *n;
	int err, len;

	if (!(n = req_path_node(c, r, false, XS_PERM_READ, &err)))
		return err;
	if ((len = perms_format(&n->perms, buf, sizeof(buf))) < 0)
		return len;
	return reply(c, r, buf, (uint32_t)len);
}

/* Quotas that apply when c stores vlen bytes in a node at path, creating
 * nnew nodes. Privileged connections are exempt. */
static int check_store_quota(struct conn *c, const struct req *r, const char *path,
			     uint32_t vlen, unsigned nperms, unsigned nnew)
{
	const struct store *s = &c->d->store;
	unsigned id = c->who.domid;

	if (c->who.privileged)
		return 0;
	if (vlen + nperms * sizeof(struct xs_permissions) > (unsigned long)quota_limit(c->d, id, Q_NODE_SIZE))
		return quota_refuse(c->d, id, Q_NODE_SIZE, -ENOSPC);
	if (s->owned[id] + txn_created(r->t) + nnew > quota_limit(c->d, id, Q_NODES))
		return quota_refuse(c->d, id, Q_NODES, -ENOSPC);
	if (s->bytes[id] + vlen + (uint64_t)nnew * strlen(path) > (uint64_t)quota_limit(c->d, id, Q_MEMORY))
		return quota_refuse(c->d, id, Q_MEMORY, -ENOSPC);
	return 0;
}

/* Create path and its missing ancestors (path is absent in the view), the
 * new nodes inheriting the permissions of the nearest existing ancestor
 * (owned by c's domain if c is unprivileged); the leaf gets val. */
static int create_path(struct conn *c, struct req *r, const char *path,
		       const void *val, uint32_t vlen)
{
	char anc[PATH_BUF], sub[PATH_BUF];
	const struct node *a = NULL;
	struct perms pm;
	size_t pos;
	int err = 0;

	strcpy(anc, path);
	while (!a) {
		path_parent(anc, anc);
		if (!(a = view_get(c, r->t, anc, false, &err)) && err)
			return err;
	}
	if (!(perms_access(&a->perms, &c->who) & XS_PERM_WRITE))
		return -EACCES;
	err = check_store_quota(c, r, path, vlen, a->perms.n,
				path_depth(path) - path_depth(anc));
	if (err)
		return err;
	if (perms_dup(&a->perms, &pm))
		return -ENOMEM;
	if (!c->who.privileged)
		pm.p[0].id = c->who.domid;
	/* Every prefix of path longer than anc is absent: create them in order. */
	for (pos = strlen(anc) == 1 ? 1 : strlen(anc) + 1; !err; pos++) {
		bool leaf = path[pos] == '\0';

		if (path[pos] != '/' && !leaf)
			continue;
		memcpy(sub, path, pos);
		sub[pos] = '\0';
		err = view_create(c, r->t, sub, leaf ? val : NULL, leaf ? vlen : 0, &pm);
		if (leaf)
			break;
	}
	if (!err)
		view_event(c, r->t, path, false, &pm);
	free(pm.p);
	return err;
}

/* Writes the canonical path: if absent, creates it and its missing
 * parents, the leaf with val; if present, needs write permission and sets
 * its value to val only if set_value. Replies OK; or -errno, unchanged. */
static int write_path(struct conn *c, struct req *r, const char *path,
		      const void *val, uint32_t vlen, bool set_value)
{
	const struct node *n;
	int err;

	n = view_get(c, r->t, path, false, &err);
	if (err)
		return err;
	if (!n)
		err = create_path(c, r, path, val, vlen);
	else if (!(perms_access(&n->perms, &c->who) & XS_PERM_WRITE))
		err = -EACCES;
	else if (set_value && !(err = check_store_quota(c, r, path, vlen, n->perms.n, 0)) &&
		 !(err = view_set_value(c, r->t, path, val, vlen)))
		view_event(c, r->t, path, false, &n->perms);
	return err ? err : reply_ok(c, r);
}

/* WRITE <path> <value>: set the value, creating missing parents. */
static int op_write(struct conn *c, struct req *r)
{
	char path[PATH_BUF];
	int err;

	if ((err = req_path(c, r, false, path)))
		return err;
	return write_path(c, r, path, r->p + strlen(r->p) + 1,
			  r->len - (uint32_t)strlen(r->p) - 1, true);
}

/* MKDIR <path>: create path and parents if missing; if present, nothing
 * changes but write permission is still required (as xenstored does). */
static int op_mkdir(struct conn *c, struct req *r)
{
	char path[PATH_BUF];
	int err;

	if ((err = req_path(c, r, false, path)))
		return err;
	return write_path(c, r, path, NULL, 0, false);
}

/* RM <path>: remove the subtree; fine if absent but the parent exists. */
static int op_rm(struct conn *c, struct req *r)
{
	char path[PATH_BUF], parent[PATH_BUF];
	const struct node *n;
	struct perms pm;
	int err;

	if ((err = req_path(c, r, false, path)))
		return err;
	if (strcmp(path, "/") == 0)
		return -EINVAL;
	n = view_get(c, r->t, path, false, &err);
	if (err)
		return err;
	if (!n) {
		path_parent(path, parent);
		if (!view_get(c, r->t, parent, false, &err))
			return err ? err : -ENOENT;
		return reply_ok(c, r);
	}
	if (!(perms_access(&n->perms, &c->who) & XS_PERM_WRITE))
		return -EACCES;
	if (perms_dup(&n->perms, &pm))
		return -ENOMEM;
	if (!(err = view_remove(c, r->t, path)))
		view_event(c, r->t, path, true, &pm);
	free(pm.p);
	return err ? err : reply_ok(c, r);
}

/* SET_PERMS <path> <perm>+: replace the ACL (owner, dom0 or the
 * owner's targeter); only dom0 may hand the node to another owner. */
static int op_set_perms(struct conn *c, struct req *r)
{
	char path[PATH_BUF];
	const struct node *n;
	struct perms pm;
	uint32_t off;
	int err;

	if ((err = req_path(c, r, false, path)))
		return err;
	off = (uint32_t)strlen(r->p) + 1;
	if ((err = perms_parse(r->p + off, req_count(r, off), &pm)))
		return err;
	if (!(n = req_node(c, r, path, false, XS_PERM_OWNER, &err)))
		goto out;
	if (!c->who.privileged && pm.n > (unsigned long)quota_limit(c->d, c->who.domid, Q_PERMS))
		err = quota_refuse(c->d, c->who.domid, Q_PERMS, -ENOSPC);
	else if (!c->who.privileged && perms_owner(&pm) != perms_owner(&n->perms))
		err = -EPERM;
	else if (!(err = view_set_perms(c, r->t, path, &pm)))
		view_event(c, r->t, path, false, &pm);
out:
	free(pm.p);
	return err ? err : reply_ok(c, r);
}

/*
 * WATCH <path> <token>: register, ack, then fire once at once.
 * UNWATCH <path> <token>: remove the matching watch, ack.
 * One handler: both read the same arguments, the path in canonical form.
 */
static int op_watch(struct conn *c, struct req *r)
{
	char path[PATH_BUF];
	const char *a[2];
	int err;

	if (req_args(r, a, 2))
		return -EINVAL;
	if ((err = path_canon(c->home, a[0], true, path)))
		return err;
	if (r->h->type == XS_UNWATCH)
		return (err = watch_del(c, path, a[1])) ? err : reply_ok(c, r);
	if ((err = watch_add(c, path, a[0][0] != '/' && a[0][0] != '@', a[1])))
		return err;
	reply_ok(c, r);
	conn_send_event(c, a[0], a[1]);
	return 0;
}

/* RESET_WATCHES: drop every watch and transaction of the caller. */
static int op_reset_watches(struct conn *c, struct req *r)
{
	watch_clear(c);
	txn_clear(c);
	return reply_ok(c, r);
}

/* TRANSACTION_START: open a transaction, reply with its id. */
static int op_transaction_start(struct conn *c, struct req *r)
{
	char buf[16];
	uint32_t id;
	int err;

	if (r->h->tx_id)
		return -EBUSY;
	if ((err = txn_start(c, &id)))
		return err;
	snprintf(buf, sizeof(buf), "%u", id);
	return reply_str(c, r, buf);
}

/* TRANSACTION_END T|F: commit (maybe EAGAIN) or abort. */
static int op_transaction_end(struct conn *c, struct req *r)
{
	const char *a;
	int err;

	if (req_args(r, &a, 1) || (strcmp(a, "T") && strcmp(a, "F")))
		return -EINVAL;
	if (!r->t)
		return -ENOENT;
	if ((err = txn_end(c, r->t, a[0] == 'T')))
		return err;
	return reply_ok(c, r);
}

/* Parse the domid in the first argument. */
static int req_domid(const struct req *r)
{
	const char *a;

	return req_args(r, &a, 1) ? -EINVAL : domid_parse(a);
}

/* INTRODUCE <domid> <mfn> <port> (dom0 only). */
static int op_introduce(struct conn *c, struct req *r)
{
	unsigned long mfn, port;
	const char *a[3];
	int domid, err;

	if (req_args(r, a, 3) || (domid = domid_parse(a[0])) < 0 ||
	    parse_uint(a[1], ~0UL, &mfn) || parse_uint(a[2], UINT32_MAX, &port))
		return -EINVAL;
	if ((err = domain_introduce(c->d, (unsigned)domid, mfn, (unsigned)port)))
		return err;
	return reply_ok(c, r);
}

/* A request whose one argument is a domid: fn on it, then OK; -errno. */
static int domid_op(struct conn *c, struct req *r, int (*fn)(struct xsd *d, unsigned domid))
{
	int domid = req_domid(r), err;

	if (domid < 0)
		return domid;
	if ((err = fn(c->d, (unsigned)domid)))
		return err;
	return reply_ok(c, r);
}

/* RELEASE <domid> (dom0 only). */
static int op_release(struct conn *c, struct req *r)
{
	return domid_op(c, r, domain_release);
}

/* IS_DOMAIN_INTRODUCED <domid>: "T" or "F". */
static int op_is_domain_introduced(struct conn *c, struct req *r)
{
	int domid = req_domid(r);

	if (domid < 0)
		return domid;
	return reply_str(c, r, domain_find(c->d, (unsigned)domid) ? "T" : "F");
}

/* GET_DOMAIN_PATH <domid>: /local/domain/<domid>. */
static int op_get_domain_path(struct conn *c, struct req *r)
{
	char buf[32];
	int domid = req_domid(r);

	if (domid < 0)
		return domid;
	snprintf(buf, sizeof(buf), "/local/domain/%d", domid);
	return reply_str(c, r, buf);
}

/* RESUME <domid> (dom0 only). */
static int op_resume(struct conn *c, struct req *r)
{
	return domid_op(c, r, domain_resume);
}

/* SET_TARGET <domid> <target> (dom0 only). */
static int op_set_target(struct conn *c, struct req *r)
{
	const char *a[2];
	int domid, target, err;

	if (req_args(r, a, 2) || (domid = domid_parse(a[0])) < 0 ||
	    (target = domid_parse(a[1])) < 0)
		return -EINVAL;
	if ((err = domain_set_target(c->d, (unsigned)domid, (unsigned)target)))
		return err;
	return reply_ok(c, r);
}

/* CONTROL <command> [<arg>...] (dom0 only), see control.h. */
static int op_control(struct conn *c, struct req *r)
{
	char out[XENSTORE_PAYLOAD_MAX];
	const char *argv[8];
	unsigned argc = req_count(r, 0);
	int err;

	if (argc == 0 || argc > 8 || req_args(r, argv, argc))
		return -EINVAL;
	if ((err = control_run(c->d, argv, argc, out, sizeof(out))))
		return err;
	return reply_str(c, r, out);
}

/* GET_QUOTA [[<domid>] <quota>] (dom0 only): no argument lists the quota
 * names separated by blanks; <quota> alone gives the global value. */
static int op_get_quota(struct conn *c, struct req *r)
{
	char buf[256];
	const char *a[2];
	unsigned n = req_count(r, 0);
	int q, domid = -1;
	size_t len = 0;

	if (n > 2 || req_args(r, a, n))
		return -EINVAL;
	if (n == 0 || (n == 1 && a[0][0] == '\0')) {
		for (q = 0; q < Q_COUNT; q++)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
						q ? " " : "", quota_name(q));
		return reply_str(c, r, buf);
	}
	if ((q = quota_lookup(a[n - 1])) < 0 || (n == 2 && (domid = domid_parse(a[0])) < 0))
		return -EINVAL;
	if (domid >= 0 && !domain_find(c->d, (unsigned)domid))
		return -ENOENT;
	snprintf(buf, sizeof(buf), "%ld",
		 domid >= 0 ? quota_get(c->d, (unsigned)domid, q) : c->d->quota[q]);
	return reply_str(c, r, buf);
}

/* SET_QUOTA [<domid>] <quota> <value> (dom0 only): without <domid> the
 * global value, the default of every domain without its own. */
static int op_set_quota(struct conn *c, struct req *r)
{
	unsigned n = req_count(r, 0);
	struct domain *dom = NULL;
	unsigned long v;
	const char *a[3];
	int q, domid;

	if (n < 2 || n > 3 || req_args(r, a, n) || (q = quota_lookup(a[n - 2])) < 0 ||
	    parse_uint(a[n - 1], LONG_MAX, &v))
		return -EINVAL;
	if (n == 3) {
		if ((domid = domid_parse(a[0])) < 0)
			return -EINVAL;
		if (!(dom = domain_find(c->d, (unsigned)domid)))
			return -ENOENT;
	}
	if (dom)
		dom->quota[q] = (long)v;
	else
		c->d->quota[q] = (long)v;
	return reply_ok(c, r);
}

enum { F_TXN = 1, F_PRIV = 2 };

struct op {
	int (*fn)(struct conn *c, struct req *r);
	unsigned flags;
};

/* The handler and flags of each message type: rows alike by design (WATCH and UNWATCH share op_watch). */
static const struct op ops[] = {
	[XS_CONTROL] = { op_control, F_PRIV },
	[XS_DIRECTORY] = { op_directory, F_TXN },
	[XS_READ] = { op_read, F_TXN },
	[XS_GET_PERMS] = { op_get_perms, F_TXN },
	[XS_WATCH] = { op_watch, 0 },
	[XS_UNWATCH] = { op_watch, 0 },
	[XS_TRANSACTION_START] = { op_transaction_start, 0 },
	[XS_TRANSACTION_END] = { op_transaction_end, F_TXN },
	[XS_INTRODUCE] = { op_introduce, F_PRIV },
	[XS_RELEASE] = { op_release, F_PRIV },
	[XS_GET_DOMAIN_PATH] = { op_get_domain_path, 0 },
	[XS_WRITE] = { op_write, F_TXN },
	[XS_MKDIR] = { op_mkdir, F_TXN },
	[XS_RM] = { op_rm, F_TXN },
	[XS_SET_PERMS] = { op_set_perms, F_TXN },
	[XS_IS_DOMAIN_INTRODUCED] = { op_is_domain_introduced, 0 },
	[XS_RESUME] = { op_resume, F_PRIV },
	[XS_SET_TARGET] = { op_set_target, F_PRIV },
	[XS_RESET_WATCHES] = { op_reset_watches, 0 },
	[XS_DIRECTORY_PART] = { op_directory_part, F_TXN },
	[XSL_GET_QUOTA] = { op_get_quota, F_PRIV },
	[XSL_SET_QUOTA] = { op_set_quota, F_PRIV },
};

/* Look up the handler and transaction for a request; 0 or -errno. */
static int ops_prepare(struct conn *c, struct req *r, const struct op **op)
{
	if (r->h->type >= sizeof(ops) / sizeof(ops[0]) || !ops[r->h->type].fn)
		return -EINVAL;
	*op = &ops[r->h->type];
	if (((*op)->flags & F_PRIV) && !c->who.privileged)
		return -EACCES;
	if (((*op)->flags & F_TXN) && r->h->tx_id && !(r->t = txn_find(c, r->h->tx_id)))
		return -ENOENT;
	return 0;
}

void ops_dispatch(struct conn *c, const struct xsd_sockmsg *hdr, char *payload)
{
	struct req r = { .h = hdr, .p = payload, .len = hdr->len };
	const struct op *op = NULL;
	int err = ops_prepare(c, &r, &op);

	if (!err)
		err = op->fn(c, &r);
	if (err) {
		xsd_log(c->d, LOG_DEBUG, "d%u: request type %u failed: %s",
			c->who.domid, hdr->type, xs_errname(err));
		conn_send_error(c, hdr, err);
	}
}
