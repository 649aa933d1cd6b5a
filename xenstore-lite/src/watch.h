/*
 * watch: watch registration and event delivery.
 *
 * A watch belongs to one connection and is identified by (path, token).
 * It matches changes to its absolute path or anything below it, and the
 * recursive removal of any ancestor. Special watches ('@...') match only
 * the events the daemon invents and are delivered to privileged
 * connections only. Invariant: c->nwatches counts c's list.
 */
#ifndef XSL_WATCH_H
#define XSL_WATCH_H

#include <stdbool.h>
#include "conn.h"

struct watch {
	struct watch *next;
	char *abs;		/* canonical absolute or '@' path */
	char *token;
	bool relative;		/* registered relative: events are relative */
};

/* Register a watch (abs canonical; relative if the client sent a relative
 * path). A duplicate (abs, token) is accepted without a second entry, since
 * Linux re-registers its watches on resume. The caller acks and then queues
 * the initial event. Returns 0, -E2BIG over quota, -ENOMEM. */
int watch_add(struct conn *c, const char *abs, bool relative, const char *token);
/* Remove the watch (abs, token); -ENOENT if there is none. */
int watch_del(struct conn *c, const char *abs, const char *token);
/* Remove every watch of c. */
void watch_clear(struct conn *c);
/* A node at path changed (recursive: path and its subtree were removed);
 * pm is the node's permissions for the read check. Queues events. */
void watch_fire(struct xsd *d, const char *path, bool recursive, const struct perms *pm);
/* Fire a daemon-invented event such as "@introduceDomain". */
void watch_fire_special(struct xsd *d, const char *special);

#endif
