/*
 * txn: see txn.h for the model. Entries (struct tent) are kept in a hash
 * table keyed by path. An entry's copy is NULL when the node is absent in
 * the transaction's view. A node never touched is seen as it is live, unless
 * the nearest touched ancestor is absent in the view (it was removed in the
 * transaction). Commit first checks every entry, then applies removals, then
 * creations and updates parents first, then fires the queued events.
 *
 * First touches happen at different times, so a view can be inconsistent
 * (a node present whose parent vanished from the live tree later). That
 * only happens when a touched node changed, so the commit is certain to
 * fail with EAGAIN; the view functions merely stay safe meanwhile.
 */
#include "txn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "path.h"
#include "watch.h"

struct tent {
	struct hentry h;	/* key is path */
	struct node *copy;	/* view of the node; NULL = absent */
	uint64_t gen, cgen;	/* live generations at first touch */
	bool existed;		/* live node existed at first touch */
	bool dirty;		/* created, or value/perms changed */
	bool kids_read;		/* children list was depended on */
	char path[];
};

struct tevent {
	struct tevent *next;
	struct perms pm;
	bool recursive;
	char path[];
};

struct txn {
	struct txn *next;
	uint32_t id;
	struct htab ents;
	unsigned removed;	/* removals done: ancestor checks needed */
	long created;
	struct tevent *evh, *evt;
};

int txn_start(struct conn *c, uint32_t *id)
{
	struct txn *t;

	if (c->ntxns >= (unsigned long)quota_limit(c->d, c->who.domid, Q_TRANSACTIONS))
		return quota_refuse(c->d, c->who.domid, Q_TRANSACTIONS, -ENOSPC);
	t = calloc(1, sizeof(*t));
	if (!t || htab_init(&t->ents)) {
		free(t);
		return -ENOMEM;
	}
	while (c->next_txid == 0 || txn_find(c, c->next_txid))
		c->next_txid++;
	t->id = c->next_txid++;
	t->next = c->txns;
	c->txns = t;
	c->ntxns++;
	*id = t->id;
	return 0;
}

struct txn *txn_find(struct conn *c, uint32_t id)
{
	struct txn *t;

	for (t = c->txns; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

long txn_created(const struct txn *t)
{
	return t ? t->created : 0;
}

/* htab_each callback freeing one entry. */
static void tent_free(struct hentry *h, void *arg)
{
	struct tent *e = (struct tent *)h;

	(void)arg;
	node_free(e->copy);
	free(e);
}

/* Free t's entries and events and t itself (already unlinked). */
static void txn_free(struct txn *t)
{
	htab_each(&t->ents, tent_free, NULL);
	htab_fini(&t->ents);
	while (t->evh) {
		struct tevent *ev = t->evh;

		t->evh = ev->next;
		free(ev->pm.p);
		free(ev);
	}
	free(t);
}

/* Unlink t from c. */
static void txn_unlink(struct conn *c, struct txn *t)
{
	struct txn **pp = &c->txns;

	while (*pp != t)
		pp = &(*pp)->next;
	*pp = t->next;
	c->ntxns--;
}

void txn_clear(struct conn *c)
{
	while (c->txns) {
		struct txn *t = c->txns;

		txn_unlink(c, t);
		txn_free(t);
	}
}

static struct tent *tent_find(struct txn *t, const char *path)
{
	return (struct tent *)htab_find(&t->ents, path);
}

/* True if the nearest touched ancestor of path is absent in t's view. */
static bool txn_ancestor_gone(struct txn *t, const char *path)
{
	char p[PATH_BUF];

	if (!t->removed)
		return false;
	strcpy(p, path);
	while (p[1] != '\0') {
		const struct tent *e;

		path_parent(p, p);
		e = tent_find(t, p);
		if (e)
			return e->copy == NULL;
	}
	return false;
}

/* First access to path in t: record the live state and copy the node.
 * Returns the entry, or NULL with *err set. */
static struct tent *tent_touch(struct conn *c, struct txn *t, const char *path, int *err)
{
	const struct node *n = store_get(&c->d->store, path);
	size_t pl = strlen(path);
	struct tent *e;

	if (!c->who.privileged &&
	    t->ents.n >= (unsigned long)quota_limit(c->d, c->who.domid, Q_TXN_NODES)) {
		*err = quota_refuse(c->d, c->who.domid, Q_TXN_NODES, -ENOSPC);
		return NULL;
	}
	e = calloc(1, sizeof(*e) + pl + 1);
	if (!e)
		goto nomem;
	memcpy(e->path, path, pl + 1);
	e->h.key = e->path;
	e->existed = n != NULL;
	if (n) {
		e->gen = n->gen;
		e->cgen = n->cgen;
		if (!txn_ancestor_gone(t, path) && !(e->copy = node_clone(n)))
			goto nomem;
	}
	htab_insert(&t->ents, &e->h);
	return e;
nomem:
	free(e);
	*err = -ENOMEM;
	return NULL;
}

/* Entry for path, touching it if needed. */
static struct tent *tent_get(struct conn *c, struct txn *t, const char *path, int *err)
{
	struct tent *e = tent_find(t, path);

	return e ? e : tent_touch(c, t, path, err);
}

const struct node *view_get(struct conn *c, struct txn *t, const char *path,
			    bool kids, int *err)
{
	struct tent *e;

	*err = 0;
	if (!t)
		return store_get(&c->d->store, path);
	e = tent_get(c, t, path, err);
	if (!e)
		return NULL;
	e->kids_read |= kids;
	return e->copy;
}

int view_create(struct conn *c, struct txn *t, const char *path,
		const void *val, uint32_t vlen, const struct perms *pm)
{
	char pp[PATH_BUF];
	struct tent *e, *pe;
	int err = 0;

	if (!t)
		return store_create(&c->d->store, path, val, vlen, pm);
	path_parent(path, pp);
	e = tent_get(c, t, path, &err);
	pe = e ? tent_get(c, t, pp, &err) : NULL;
	if (!pe)
		return err;
	if (!pe->copy)
		return -ENOENT;	/* see view_remove: a view already doomed to EAGAIN */
	e->copy = node_new(path, val, vlen, pm);
	if (!e->copy || node_kid_add(pe->copy, path_base(path))) {
		node_free(e->copy);
		e->copy = NULL;
		return -ENOMEM;
	}
	e->dirty = true;
	t->created++;
	return 0;
}

int view_set_value(struct conn *c, struct txn *t, const char *path,
		   const void *val, uint32_t vlen)
{
	struct tent *e;

	if (!t)
		return store_set_value(&c->d->store, store_get(&c->d->store, path), val, vlen);
	e = tent_find(t, path);
	e->dirty = true;
	return node_set_value(e->copy, val, vlen);
}

int view_set_perms(struct conn *c, struct txn *t, const char *path,
		   const struct perms *pm)
{
	struct tent *e;

	if (!t)
		return store_set_perms(&c->d->store, store_get(&c->d->store, path), pm);
	e = tent_find(t, path);
	e->dirty = true;
	return node_set_perms(e->copy, pm);
}

/* Touch every node of the subtree at e (present in the view) so removal
 * cannot fail half way. 0 or *err. cp is a PATH_BUF scratch buffer shared
 * by all levels, so deep trees cost little stack. */
static int txn_touch_subtree(struct conn *c, struct txn *t, struct tent *e, char *cp)
{
	uint32_t off;
	int err = 0;

	e->kids_read = true;
	for (off = 0; off < e->copy->klen; off += (uint32_t)strlen(e->copy->kids + off) + 1) {
		struct tent *ce;

		if (path_join(e->path, e->copy->kids + off, cp))
			continue;
		ce = tent_get(c, t, cp, &err);
		if (!ce)
			return err;
		if (ce->copy && (err = txn_touch_subtree(c, t, ce, cp)))
			return err;
	}
	return 0;
}

/* Mark the (fully touched) subtree at e absent in the view; cp as above. */
static void txn_drop_subtree(struct txn *t, struct tent *e, char *cp)
{
	uint32_t off;

	for (off = 0; off < e->copy->klen; off += (uint32_t)strlen(e->copy->kids + off) + 1) {
		struct tent *ce;

		if (path_join(e->path, e->copy->kids + off, cp) == 0 &&
		    (ce = tent_find(t, cp)) && ce->copy)
			txn_drop_subtree(t, ce, cp);
	}
	node_free(e->copy);
	e->copy = NULL;
	e->dirty = false;
}

int view_remove(struct conn *c, struct txn *t, const char *path)
{
	char pp[PATH_BUF];
	struct tent *e, *pe;
	int err = 0;

	if (!t) {
		store_remove(&c->d->store, store_get(&c->d->store, path));
		return 0;
	}
	path_parent(path, pp);
	e = tent_find(t, path);
	pe = tent_get(c, t, pp, &err);
	if (!pe || (err = txn_touch_subtree(c, t, e, pp)))
		return err;
	/* The parent can be absent in the view if it vanished from the live
	 * tree between the touches of child and parent; the commit is then
	 * certain to fail, so only the view needs to stay sane. */
	if (pe->copy)
		node_kid_del(pe->copy, path_base(path));
	txn_drop_subtree(t, e, pp);
	t->removed++;
	return 0;
}

void view_event(struct conn *c, struct txn *t, const char *path, bool recursive,
		const struct perms *pm)
{
	size_t pl = strlen(path);
	struct tevent *ev;

	if (!t) {
		watch_fire(c->d, path, recursive, pm);
		return;
	}
	ev = calloc(1, sizeof(*ev) + pl + 1);
	if (!ev || perms_dup(pm, &ev->pm)) {
		/* Watches may fire spuriously but must not be lost silently. */
		xsd_log(c->d, LOG_ERR, "out of memory queueing event for %s", path);
		free(ev);
		return;
	}
	memcpy(ev->path, path, pl + 1);
	ev->recursive = recursive;
	/* A tail append, alike to lib/xs.c's event_queue by shape: another list type in another program. */
	if (t->evt)
		t->evt->next = ev;
	else
		t->evh = ev;
	t->evt = ev;
}

struct tent_list {
	struct tent **v;
	size_t n;
	const struct store *s;
	bool conflict;
};

/* htab_each callback: check one entry against the live store and collect it. */
static void tent_check(struct hentry *h, void *arg)
{
	struct tent *e = (struct tent *)h;
	struct tent_list *l = arg;
	const struct node *n = store_get(l->s, e->path);

	l->v[l->n++] = e;
	if ((n != NULL) != e->existed || (n && n->gen != e->gen) ||
	    (n && e->kids_read && n->cgen != e->cgen))
		l->conflict = true;
}

/* qsort comparator: shallower paths first. */
static int tent_depth_cmp(const void *a, const void *b)
{
	unsigned da = path_depth((*(struct tent *const *)a)->path);
	unsigned db = path_depth((*(struct tent *const *)b)->path);

	return (da > db) - (da < db);
}

/* Write one surviving dirty entry to the live store. */
static int txn_apply_one(struct store *s, const struct tent *e)
{
	struct node *n = store_get(s, e->path);

	if (!n)
		return store_create(s, e->path, e->copy->value, e->copy->vlen, &e->copy->perms);
	if (store_set_value(s, n, e->copy->value, e->copy->vlen))
		return -ENOMEM;
	return store_set_perms(s, n, &e->copy->perms);
}

/* Apply all entries (already checked) to the live store. */
static void txn_apply(struct conn *c, struct tent_list *l)
{
	struct store *s = &c->d->store;
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct node *n;

		if (!l->v[i]->copy && l->v[i]->existed && (n = store_get(s, l->v[i]->path)))
			store_remove(s, n);
	}
	qsort(l->v, l->n, sizeof(*l->v), tent_depth_cmp);
	for (i = 0; i < l->n; i++)
		if (l->v[i]->copy && l->v[i]->dirty && txn_apply_one(s, l->v[i]))
			xsd_log(c->d, LOG_ERR, "out of memory committing %s", l->v[i]->path);
}

int txn_end(struct conn *c, struct txn *t, bool commit)
{
	struct tent_list l = { .s = &c->d->store };
	const struct tevent *ev;
	int rc = 0;

	txn_unlink(c, t);
	if (commit) {
		l.v = malloc((t->ents.n + 1) * sizeof(*l.v));
		if (!l.v) {
			txn_free(t);
			return -ENOMEM;
		}
		htab_each(&t->ents, tent_check, &l);
		if (l.conflict) {
			rc = -EAGAIN;
		} else {
			txn_apply(c, &l);
			for (ev = t->evh; ev; ev = ev->next)
				watch_fire(c->d, ev->path, ev->recursive, &ev->pm);
		}
		free(l.v);
	}
	txn_free(t);
	return rc;
}
