/*
 * htab: an intrusive string-keyed hash table.
 *
 * Objects embed a struct hentry whose key points into the object itself, so
 * the table never owns or copies keys. Invariants: every entry in bucket b
 * has (hash & (nbuckets - 1)) == b; nbuckets is a power of two; the table
 * grows when the entry count exceeds the bucket count.
 */
#ifndef XSL_HTAB_H
#define XSL_HTAB_H

#include <stddef.h>
#include <stdint.h>

struct hentry {
	struct hentry *next;
	const char *key;
	uint32_t hash;
};

struct htab {
	struct hentry **b;
	size_t nb;
	size_t n;
};

/* Hash of a NUL-terminated key (FNV-1a). */
uint32_t htab_hash(const char *key);
/* Initialise an empty table; returns 0 or -ENOMEM. */
int htab_init(struct htab *t);
/* Release the bucket array (not the entries). */
void htab_fini(struct htab *t);
/* Find the entry whose key equals key, or NULL. */
struct hentry *htab_find(const struct htab *t, const char *key);
/* Insert e (key set by caller, must not already be present). Returns 0 or -ENOMEM
 * only if growth failed, in which case e is still inserted. */
int htab_insert(struct htab *t, struct hentry *e);
/* Remove e, which must be in the table. */
void htab_remove(struct htab *t, struct hentry *e);
/* Call fn on every entry; fn may free the entry it is given (the table is
 * then stale and must be discarded) but must not touch any other entry. */
void htab_each(const struct htab *t, void (*fn)(struct hentry *, void *), void *arg);

#endif
