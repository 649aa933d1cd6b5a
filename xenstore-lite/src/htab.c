/*
 * htab: intrusive string-keyed hash table with chaining and power-of-two
 * bucket counts. See htab.h for the invariants. Growth doubles the bucket
 * array and rehashes using the cached hash, so keys are never re-read.
 */
#include "htab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HTAB_MIN 64

uint32_t htab_hash(const char *key)
{
	uint32_t h = 2166136261u;

	while (*key) {
		h ^= (uint8_t)*key++;
		h *= 16777619u;
	}
	return h;
}

int htab_init(struct htab *t)
{
	t->b = calloc(HTAB_MIN, sizeof(*t->b));
	t->nb = HTAB_MIN;
	t->n = 0;
	return t->b ? 0 : -ENOMEM;
}

void htab_fini(struct htab *t)
{
	free(t->b);
	t->b = NULL;
	t->nb = t->n = 0;
}

struct hentry *htab_find(const struct htab *t, const char *key)
{
	uint32_t h = htab_hash(key);
	struct hentry *e;

	for (e = t->b[h & (t->nb - 1)]; e; e = e->next)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* Double the bucket array; on allocation failure the table stays valid. */
static int htab_grow(struct htab *t)
{
	size_t nb = t->nb * 2, i;
	struct hentry **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (i = 0; i < t->nb; i++) {
		struct hentry *e = t->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	free(t->b);
	t->b = b;
	t->nb = nb;
	return 0;
}

int htab_insert(struct htab *t, struct hentry *e)
{
	size_t i;

	e->hash = htab_hash(e->key);
	i = e->hash & (t->nb - 1);
	e->next = t->b[i];
	t->b[i] = e;
	t->n++;
	return t->n > t->nb ? htab_grow(t) : 0;
}

void htab_remove(struct htab *t, struct hentry *e)
{
	struct hentry **pp = &t->b[e->hash & (t->nb - 1)];

	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	t->n--;
}

void htab_each(const struct htab *t, void (*fn)(struct hentry *, void *), void *arg)
{
	size_t i;

	for (i = 0; i < t->nb; i++) {
		struct hentry *e = t->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			fn(e, arg);
		}
	}
}
