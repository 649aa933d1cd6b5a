/*
 * harness: drives the daemon core in-process for cmocka tests.
 *
 * Connections have no transport; their output queues are read back as
 * messages. A scenario is a table of steps: a request on one connection
 * with its expected reply, or an expectation about queued watch events.
 * Step text uses '|' for NUL. Expected replies: "OK", "E:<ERRNO>", "*"
 * (any non-error), "TX<n>" (a transaction id, saved in slot n), or the
 * exact body. Requests name a transaction slot in `tx` (0 = none).
 */
#ifndef XSL_TEST_HARNESS_H
#define XSL_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "conn.h"
#include "domain.h"
#include "ops.h"
#include "xsd.h"

#define EV 1000		/* step: the next queued message is this event */
#define NOEV 1001	/* step: nothing is queued */

struct step {
	int conn;
	uint32_t type;
	int tx;
	const char *args;
	const char *want;
};

struct reply {
	struct xsd_sockmsg h;
	char body[XENSTORE_PAYLOAD_MAX + 1];
};

/* Conns: 0, 1 = dom0; 2 = dom1; 3 = dom2 (homes owned by themselves). */
struct world {
	struct xsd d;
	struct conn *c[4];
	uint32_t tx[8];
};

/* Pop the next queued message of c into r; 0 if there was none. */
static inline int pop(struct conn *c, struct reply *r)
{
	size_t len;
	const uint8_t *p = conn_out_front(c, &len);

	if (!p)
		return 0;
	assert_true(len >= sizeof(r->h) && len - sizeof(r->h) <= XENSTORE_PAYLOAD_MAX);
	memcpy(&r->h, p, sizeof(r->h));
	memcpy(r->body, p + sizeof(r->h), len - sizeof(r->h));
	r->body[r->h.len] = '\0';
	conn_out_advance(c, len);
	return 1;
}

/* Translate '|' to NUL; returns the length (plus a final NUL if term). */
static inline uint32_t unbar(const char *s, char *out, int term)
{
	uint32_t n = 0;

	for (; *s; s++)
		out[n++] = *s == '|' ? '\0' : *s;
	if (term)
		out[n++] = '\0';
	return n;
}

/* Send one request on c. */
static inline void send_req(struct conn *c, uint32_t type, uint32_t tx, const void *body, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = 42, .tx_id = tx, .len = len };

	assert_int_equal(conn_feed(c, (const uint8_t *)&h, sizeof(h)), sizeof(h));
	assert_int_equal(conn_feed(c, body, len), len);
}

/* Compare reply r with the expectation text; saves transaction ids. */
static inline void check_reply(struct world *w, const struct reply *r, const char *want, int line)
{
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	uint32_t n;

	if (strncmp(want, "E:", 2) == 0) {
		if (r->h.type != XS_ERROR || strcmp(r->body, want + 2))
			fail_msg("step %d: want %s, got type %u '%s'", line, want, r->h.type, r->body);
		return;
	}
	if (r->h.type == XS_ERROR)
		fail_msg("step %d: want %s, got error %s", line, want, r->body);
	if (strcmp(want, "*") == 0)
		return;
	if (strncmp(want, "TX", 2) == 0) {
		w->tx[atoi(want + 2)] = (uint32_t)strtoul(r->body, NULL, 10);
		return;
	}
	n = strcmp(want, "OK") == 0 ? 3 : unbar(want, buf, 0);
	if (strcmp(want, "OK") == 0)
		memcpy(buf, "OK", 3);
	if (r->h.len != n || memcmp(r->body, buf, n))
		fail_msg("step %d: want '%s', got '%.*s' (%u bytes)", line, want, (int)r->h.len, r->body, r->h.len);
}

/* Run one step. */
static inline void run_step(struct world *w, const struct step *s, int line)
{
	struct conn *c = w->c[s->conn];
	char buf[XENSTORE_PAYLOAD_MAX + 1];
	struct reply r;

	if (s->type == NOEV) {
		if (pop(c, &r))
			fail_msg("step %d: unexpected message type %u '%s'", line, r.h.type, r.body);
		return;
	}
	if (s->type == EV) {
		uint32_t n = unbar(s->args, buf, 1);

		if (!pop(c, &r))
			fail_msg("step %d: no event, want %s", line, s->args);
		if (r.h.type != XS_WATCH_EVENT || r.h.len != n || memcmp(r.body, buf, n))
			fail_msg("step %d: want event %s, got type %u '%s'", line, s->args, r.h.type, r.body);
		return;
	}
	send_req(c, s->type, s->tx ? w->tx[s->tx] : 0, buf,
		 unbar(s->args, buf, s->type != XS_WRITE));
	if (!pop(c, &r))
		fail_msg("step %d: no reply", line);
	check_reply(w, &r, s->want, line);
}

/* Run a table of n steps. */
static inline void run_steps(struct world *w, const struct step *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		run_step(w, &s[i], (int)i);
}

/* Build a world: dom0 x2, dom1, dom2, both introduced with own homes. */
static inline struct world *world_new(void)
{
	static const struct step setup[] = {
		{ 0, XS_INTRODUCE, 0, "1|0|1", "OK" },
		{ 0, XS_INTRODUCE, 0, "2|0|2", "OK" },
		{ 0, XS_MKDIR, 0, "/local/domain/1", "OK" },
		{ 0, XS_SET_PERMS, 0, "/local/domain/1|n1", "OK" },
		{ 0, XS_MKDIR, 0, "/local/domain/2", "OK" },
		{ 0, XS_SET_PERMS, 0, "/local/domain/2|n2", "OK" },
	};
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_int_equal(xsd_init(&w->d), 0);
	w->d.logf = NULL;
	w->c[0] = conn_new(&w->d, 0, NULL, NULL);
	w->c[1] = conn_new(&w->d, 0, NULL, NULL);
	w->c[2] = conn_new(&w->d, 1, NULL, NULL);
	w->c[3] = conn_new(&w->d, 2, NULL, NULL);
	run_steps(w, setup, sizeof(setup) / sizeof(setup[0]));
	return w;
}

static inline void world_free(struct world *w)
{
	assert_int_equal(store_check(&w->d.store), 0);
	xsd_fini(&w->d);
	free(w);
}

#define RUN(w, table) run_steps(w, table, sizeof(table) / sizeof(table[0]))

#endif
