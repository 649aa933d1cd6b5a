/*
 * txn: transactions, and the "view" through which every request reads and
 * changes the tree.
 *
 * A view is either the live store (t == NULL: changes apply at once and fire
 * watches at once) or a transaction. A transaction keeps, for every node it
 * touched, the live state it saw first (existence, gen, cgen) and a private
 * copy that its own requests read and change. Commit succeeds only if every
 * touched node is unchanged in the live store (same existence and gen, and
 * same cgen if the transaction listed its children); otherwise -EAGAIN.
 * Creating or removing a child does not count as reading the parent's
 * children, so transactions that add different children to one directory
 * both commit. Events are queued and fired only on a successful commit.
 */
#ifndef XSL_TXN_H
#define XSL_TXN_H

#include <stdbool.h>
#include <stdint.h>
#include "conn.h"
#include "store.h"

struct txn;

/* Open a transaction on c and return its id in *id.
 * -ENOSPC over quota, -ENOMEM. */
int txn_start(struct conn *c, uint32_t *id);
/* c's transaction with this id, or NULL. */
struct txn *txn_find(struct conn *c, uint32_t id);
/* Commit (commit true) or abort t, then free it. Returns 0 or -EAGAIN. */
int txn_end(struct conn *c, struct txn *t, bool commit);
/* Abort and free every transaction of c. */
void txn_clear(struct conn *c);
/* Nodes created in t so far (for the node quota); 0 for t == NULL. */
long txn_created(const struct txn *t);

/* The node at path as view t sees it, or NULL if absent. kids: the caller
 * depends on the children list. On NULL, *err is 0 (absent) or -ENOSPC /
 * -ENOMEM (the transaction could not record the access). */
const struct node *view_get(struct conn *c, struct txn *t, const char *path,
			    bool kids, int *err);
/* Create path, which view_get just reported absent and whose parent it just
 * reported present. 0 or -ENOMEM / -ENOSPC. */
int view_create(struct conn *c, struct txn *t, const char *path,
		const void *val, uint32_t vlen, const struct perms *pm);
/* Replace the value of a present node. 0 or -ENOMEM. */
int view_set_value(struct conn *c, struct txn *t, const char *path,
		   const void *val, uint32_t vlen);
/* Replace the perms of a present node. 0 or -ENOMEM. */
int view_set_perms(struct conn *c, struct txn *t, const char *path,
		   const struct perms *pm);
/* Remove a present non-root node and its subtree. 0 or -ENOSPC / -ENOMEM,
 * in which case nothing changed. */
int view_remove(struct conn *c, struct txn *t, const char *path);
/* Report a change at path: fire watches now, or at commit of t. */
void view_event(struct conn *c, struct txn *t, const char *path, bool recursive,
		const struct perms *pm);

#endif
