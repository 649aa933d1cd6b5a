/*
 * store: the live tree (see store.h for invariants). Detached nodes, made by
 * node_new/node_clone, are the same structure outside the hash table; the
 * transaction layer uses them as private copies. Accounting per owner is
 * updated only by the store_* functions that change the live tree.
 */
#include "store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "path.h"

struct node *node_new(const char *path, const void *val, uint32_t vlen,
		      const struct perms *pm)
{
	size_t pl = strlen(path);
	struct node *n = calloc(1, sizeof(*n) + pl + 1);

	if (!n)
		return NULL;
	memcpy(n->path, path, pl + 1);
	n->h.key = n->path;
	if (node_set_value(n, val, vlen) || perms_dup(pm, &n->perms)) {
		node_free(n);
		return NULL;
	}
	return n;
}

struct node *node_clone(const struct node *n)
{
	struct node *c = node_new(n->path, n->value, n->vlen, &n->perms);

	if (!c)
		return NULL;
	if (n->klen) {
		c->kids = malloc(n->klen);
		if (!c->kids) {
			node_free(c);
			return NULL;
		}
		memcpy(c->kids, n->kids, n->klen);
		c->klen = c->kcap = n->klen;
	}
	c->gen = n->gen;
	c->cgen = n->cgen;
	return c;
}

void node_free(struct node *n)
{
	if (!n)
		return;
	free(n->value);
	free(n->kids);
	free(n->perms.p);
	free(n);
}

int node_set_value(struct node *n, const void *val, uint32_t vlen)
{
	uint8_t *v = NULL;

	if (vlen) {
		v = malloc(vlen);
		if (!v)
			return -ENOMEM;
		memcpy(v, val, vlen);
	}
	free(n->value);
	n->value = v;
	n->vlen = vlen;
	return 0;
}

int node_set_perms(struct node *n, const struct perms *pm)
{
	struct perms c;

	if (perms_dup(pm, &c))
		return -ENOMEM;
	free(n->perms.p);
	n->perms = c;
	return 0;
}

int node_kid_add(struct node *n, const char *leaf)
{
	uint32_t l = (uint32_t)strlen(leaf) + 1;

	if (n->klen + l > n->kcap) {
		uint32_t cap = n->kcap ? n->kcap * 2 : 32;
		char *k;

		while (cap < n->klen + l)
			cap *= 2;
		k = realloc(n->kids, cap);
		if (!k)
			return -ENOMEM;
		n->kids = k;
		n->kcap = cap;
	}
	memcpy(n->kids + n->klen, leaf, l);
	n->klen += l;
	return 0;
}

void node_kid_del(struct node *n, const char *leaf)
{
	uint32_t off = 0, l = (uint32_t)strlen(leaf) + 1;

	while (off < n->klen) {
		uint32_t kl = (uint32_t)strlen(n->kids + off) + 1;

		if (kl == l && memcmp(n->kids + off, leaf, l) == 0) {
			memmove(n->kids + off, n->kids + off + l, n->klen - off - l);
			n->klen -= l;
			return;
		}
		off += kl;
	}
}

/* Add (sign 1) or remove (sign -1) n from its owner's accounting. */
static void store_account(struct store *s, const struct node *n, int sign)
{
	unsigned o = perms_owner(&n->perms);
	uint64_t b = strlen(n->path) + n->vlen;

	if (sign > 0) {
		s->owned[o]++;
		s->bytes[o] += b;
		s->data_bytes += b;
	} else {
		s->owned[o]--;
		s->bytes[o] -= b;
		s->data_bytes -= b;
	}
}

int store_init(struct store *s)
{
	struct xs_permissions p0 = { .id = 0, .perms = XS_PERM_NONE };
	struct perms pm = { .p = &p0, .n = 1 };
	struct node *root;

	memset(s, 0, sizeof(*s));
	s->owned = calloc(DOMID_LIMIT, sizeof(*s->owned));
	s->bytes = calloc(DOMID_LIMIT, sizeof(*s->bytes));
	root = node_new("/", NULL, 0, &pm);
	if (!s->owned || !s->bytes || !root || htab_init(&s->tab)) {
		node_free(root);
		store_fini(s);
		return -ENOMEM;
	}
	root->gen = root->cgen = ++s->gen;
	htab_insert(&s->tab, &root->h);
	store_account(s, root, 1);
	return 0;
}

/* htab_each callback freeing one node. */
static void store_free_entry(struct hentry *e, void *arg)
{
	(void)arg;
	node_free((struct node *)e);
}

void store_fini(struct store *s)
{
	if (s->tab.b)
		htab_each(&s->tab, store_free_entry, NULL);
	htab_fini(&s->tab);
	free(s->owned);
	free(s->bytes);
	s->owned = NULL;
	s->bytes = NULL;
}

struct node *store_get(const struct store *s, const char *path)
{
	return (struct node *)htab_find(&s->tab, path);
}

size_t store_count(const struct store *s)
{
	return s->tab.n;
}

int store_create(struct store *s, const char *path, const void *val,
		 uint32_t vlen, const struct perms *pm)
{
	char pp[PATH_BUF];
	struct node *parent, *n;

	path_parent(path, pp);
	parent = store_get(s, pp);
	n = node_new(path, val, vlen, pm);
	if (!n || node_kid_add(parent, path_base(path))) {
		node_free(n);
		return -ENOMEM;
	}
	n->gen = n->cgen = ++s->gen;
	parent->cgen = ++s->gen;
	htab_insert(&s->tab, &n->h);
	store_account(s, n, 1);
	return 0;
}

int store_set_value(struct store *s, struct node *n, const void *val, uint32_t vlen)
{
	int rc;

	store_account(s, n, -1);
	rc = node_set_value(n, val, vlen);
	store_account(s, n, 1);
	if (rc == 0)
		n->gen = ++s->gen;
	return rc;
}

int store_set_perms(struct store *s, struct node *n, const struct perms *pm)
{
	int rc;

	store_account(s, n, -1);
	rc = node_set_perms(n, pm);
	store_account(s, n, 1);
	if (rc == 0)
		n->gen = ++s->gen;
	return rc;
}

/* Remove n and its descendants from the table and free them; the caller
 * unlinks n from its parent. cp is a PATH_BUF scratch buffer shared by all
 * levels (each level rebuilds child paths from its node's own path), so a
 * maximally deep tree costs little stack. */
static void store_drop_subtree(struct store *s, struct node *n, char *cp)
{
	uint32_t off;

	for (off = 0; off < n->klen; off += (uint32_t)strlen(n->kids + off) + 1) {
		struct node *c;

		if (path_join(n->path, n->kids + off, cp) == 0 && (c = store_get(s, cp)))
			store_drop_subtree(s, c, cp);
	}
	store_account(s, n, -1);
	htab_remove(&s->tab, &n->h);
	node_free(n);
}

void store_remove(struct store *s, struct node *n)
{
	char pp[PATH_BUF];
	struct node *parent;

	path_parent(n->path, pp);
	parent = store_get(s, pp);
	node_kid_del(parent, path_base(n->path));
	parent->cgen = ++s->gen;
	store_drop_subtree(s, n, pp);
}

struct check_state {
	const struct store *s;
	uint64_t bytes;
	size_t kids;
	int bad;
};

/* True if leaf appears in n's children exactly once. */
static bool store_lists_once(const struct node *n, const char *leaf)
{
	uint32_t off;
	int seen = 0;

	for (off = 0; off < n->klen; off += (uint32_t)strlen(n->kids + off) + 1)
		seen += strcmp(n->kids + off, leaf) == 0;
	return seen == 1;
}

/* htab_each callback checking one node against its parent. */
static void store_check_node(struct hentry *h, void *arg)
{
	const struct node *n = (const struct node *)h;
	struct check_state *st = arg;
	char pp[PATH_BUF];
	const struct node *p;
	uint32_t off;

	st->bytes += strlen(n->path) + n->vlen;
	for (off = 0; off < n->klen; off += (uint32_t)strlen(n->kids + off) + 1)
		st->kids++;
	if (n->perms.n == 0 || n->klen > n->kcap)
		st->bad = 1;
	if (strcmp(n->path, "/") == 0)
		return;
	path_parent(n->path, pp);
	p = store_get(st->s, pp);
	if (!p || !store_lists_once(p, path_base(n->path)))
		st->bad = 1;
}

int store_check(const struct store *s)
{
	struct check_state st = { .s = s };

	htab_each(&s->tab, store_check_node, &st);
	if (st.bad || st.bytes != s->data_bytes || st.kids + 1 != s->tab.n ||
	    !store_get(s, "/"))
		return -EIO;
	return 0;
}
