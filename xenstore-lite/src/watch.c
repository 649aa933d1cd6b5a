/*
 * watch: see watch.h. Matching walks every connection's list: the number of
 * watches is bounded by the per-connection quota and firing is linear in
 * it, which is fine at the scale a host has (hundreds of domains). Event
 * paths of relative watches have the connection's home prefix removed.
 */
#include "watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "path.h"

/* Queue one event for w on c with absolute event path ev. */
static void watch_send(struct conn *c, const struct watch *w, const char *ev)
{
	size_t hl = strlen(c->home);

	if (w->relative && strncmp(ev, c->home, hl) == 0 && ev[hl] == '/')
		ev += hl + 1;
	if (conn_send_event(c, ev, w->token))
		xsd_log(c->d, LOG_INFO, "d%u: watch event for %s too long, dropped",
			c->who.domid, ev);
}

int watch_add(struct conn *c, const char *abs, bool relative, const char *token)
{
	struct watch *w;

	for (w = c->watches; w; w = w->next)
		if (strcmp(w->abs, abs) == 0 && strcmp(w->token, token) == 0)
			break;
	if (!w) {
		if (c->nwatches >= (unsigned long)quota_limit(c->d, c->who.domid, Q_WATCHES))
			return quota_refuse(c->d, c->who.domid, Q_WATCHES, -E2BIG);
		w = calloc(1, sizeof(*w));
		if (!w || !(w->abs = strdup(abs)) || !(w->token = strdup(token))) {
			if (w)
				free(w->abs);
			free(w);
			return -ENOMEM;
		}
		w->relative = relative;
		w->next = c->watches;
		c->watches = w;
		c->nwatches++;
	}
	return 0;
}

int watch_del(struct conn *c, const char *abs, const char *token)
{
	struct watch **pp, *w;

	for (pp = &c->watches; (w = *pp); pp = &w->next) {
		if (strcmp(w->abs, abs) == 0 && strcmp(w->token, token) == 0) {
			*pp = w->next;
			free(w->abs);
			free(w->token);
			free(w);
			c->nwatches--;
			return 0;
		}
	}
	return -ENOENT;
}

void watch_clear(struct conn *c)
{
	while (c->watches) {
		struct watch *w = c->watches;

		c->watches = w->next;
		free(w->abs);
		free(w->token);
		free(w);
	}
	c->nwatches = 0;
}

/* Event path for w if a change at path matches it, else NULL. */
static const char *watch_match(const struct watch *w, const char *path, bool recursive)
{
	if (w->abs[0] == '@')
		return NULL;
	if (path_is_child(w->abs, path))
		return path;
	if (recursive && path_is_child(path, w->abs))
		return w->abs;
	return NULL;
}

void watch_fire(struct xsd *d, const char *path, bool recursive, const struct perms *pm)
{
	struct conn *c;

	for (c = d->conns; c; c = c->next) {
		const struct watch *w;

		if (c->closing || !c->watches)
			continue;
		if (!(perms_access(pm, &c->who) & XS_PERM_READ))
			continue;
		for (w = c->watches; w; w = w->next) {
			const char *ev = watch_match(w, path, recursive);

			if (ev)
				watch_send(c, w, ev);
		}
	}
}

void watch_fire_special(struct xsd *d, const char *special)
{
	struct conn *c;

	for (c = d->conns; c; c = c->next) {
		const struct watch *w;

		if (c->closing || !c->who.privileged)
			continue;
		for (w = c->watches; w; w = w->next)
			if (strcmp(w->abs, special) == 0)
				conn_send_event(c, special, w->token);
	}
}
