/*
 * store: the live XenStore tree.
 *
 * Nodes live in one hash table keyed by absolute path; each node also keeps
 * its children's leaf names packed as NUL-terminated strings, in creation
 * order, which is exactly the DIRECTORY reply. Invariants: "/" always exists;
 * if a node exists its parent exists and lists it; every change stamps the
 * node with a fresh generation (gen for value/perms/creation, cgen for the
 * children list); per-owner node and byte counts match the tree.
 */
#ifndef XSL_STORE_H
#define XSL_STORE_H

#include <stdint.h>
#include "htab.h"
#include "perms.h"

struct node {
	struct hentry h;	/* key is path */
	uint8_t *value;
	uint32_t vlen;
	uint32_t klen, kcap;	/* bytes used / allocated in kids */
	char *kids;		/* packed child leaf names */
	struct perms perms;
	uint64_t gen, cgen;
	char path[];
};

struct store {
	struct htab tab;
	uint64_t gen;		/* last generation handed out */
	uint32_t *owned;	/* nodes per owner domid */
	uint64_t *bytes;	/* path + value bytes per owner domid */
	uint64_t data_bytes;	/* path + value bytes in the whole tree */
};

/* Create a store holding only "/" (owner 0, "n0"). 0 or -ENOMEM. */
int store_init(struct store *s);
/* Free every node. */
void store_fini(struct store *s);
/* Live node at canonical path, or NULL. */
struct node *store_get(const struct store *s, const char *path);
/* Number of nodes in the tree. */
size_t store_count(const struct store *s);

/* Allocate a detached node (not in any store); NULL on -ENOMEM. */
struct node *node_new(const char *path, const void *val, uint32_t vlen,
		      const struct perms *pm);
/* Detached deep copy of n (value, perms, children, generations). */
struct node *node_clone(const struct node *n);
/* Free a detached node. */
void node_free(struct node *n);
/* Replace the value of a detached node. 0 or -ENOMEM. */
int node_set_value(struct node *n, const void *val, uint32_t vlen);
/* Replace the perms of a detached node with a copy. 0 or -ENOMEM. */
int node_set_perms(struct node *n, const struct perms *pm);
/* Append a leaf name to n's children. 0 or -ENOMEM. */
int node_kid_add(struct node *n, const char *leaf);
/* Remove a leaf name from n's children if present. */
void node_kid_del(struct node *n, const char *leaf);

/* Create path (absent; parent present) in the live tree. 0 or -ENOMEM. */
int store_create(struct store *s, const char *path, const void *val,
		 uint32_t vlen, const struct perms *pm);
/* Replace a live node's value. 0 or -ENOMEM. */
int store_set_value(struct store *s, struct node *n, const void *val, uint32_t vlen);
/* Replace a live node's perms. 0 or -ENOMEM. */
int store_set_perms(struct store *s, struct node *n, const struct perms *pm);
/* Remove a live non-root node and its whole subtree. */
void store_remove(struct store *s, struct node *n);

/* Verify the tree's invariants (parents exist and list their children
 * exactly once, accounting matches). 0, or -EIO naming nothing: for tests
 * and CONTROL "check". */
int store_check(const struct store *s);

#endif
