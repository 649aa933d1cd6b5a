/*
 * harness: drives the daemon core in-process for cmocka tests.
 *
 * Connections have no transport; their output queues are read back as
 * messages. A scenario is a table of steps: a request on one connection
 * with its expected reply, or an expectation about queued watch events.
 * Step text uses '|' for NUL. Expected replies: "OK", "E:<ERRNO>", "*"
 * (any non-error), "TX<n>" (a transaction id, saved in slot n), or the
 * exact body. Requests name a transaction slot in `tx` (0 = none). A
 * failure names its step: the index in a C table, the line of its file
 * for a script.
 *
 * Scripts live in text files beside the tests (conformance.txt,
 * domains.txt), one step a line: `CONN TYPE TX ["ARGS" ["WANT"]]`, TYPE a
 * request name without XS_ (NAME+N for an offset, or a number), EV or
 * NOEV; "[name]" opens a script, '#' a comment. scripts_load reads a file
 * whole; a malformed line ends the program with its file and line, since
 * a script that cannot be read is a broken test, not a failing daemon.
 */
#ifndef XSL_TEST_HARNESS_H
#define XSL_TEST_HARNESS_H

#include <errno.h>
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

/* One named step table read from a script file. */
struct script {
	char name[64];
	struct step *steps;
	int *lines;		/* each step's line in its file (failures name it) */
	size_t n;
};

/* Every script of one file, and the strings their steps point into. */
struct scripts {
	struct script *s;
	size_t n;
	char *text;
};

/* Request names the scripts may use, and the step kinds EV and NOEV. */
static inline int step_type_of(const char *name, size_t len, uint32_t *type)
{
#define NT(n) { #n, XS_##n }
	static const struct { const char *name; uint32_t type; } names[] = {
		NT(CONTROL), NT(DIRECTORY), NT(READ), NT(GET_PERMS), NT(WATCH),
		NT(UNWATCH), NT(TRANSACTION_START), NT(TRANSACTION_END),
		NT(INTRODUCE), NT(RELEASE), NT(GET_DOMAIN_PATH), NT(WRITE),
		NT(MKDIR), NT(RM), NT(SET_PERMS), NT(WATCH_EVENT), NT(ERROR),
		NT(IS_DOMAIN_INTRODUCED), NT(RESUME), NT(SET_TARGET),
		NT(RESET_WATCHES), NT(DIRECTORY_PART), NT(TYPE_COUNT),
		{ "GET_QUOTA", XSL_GET_QUOTA }, { "SET_QUOTA", XSL_SET_QUOTA },
		{ "EV", EV }, { "NOEV", NOEV },
	};
#undef NT

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len && !memcmp(names[i].name, name, len)) {
			*type = names[i].type;
			return 0;
		}
	return -ENOENT;
}

/* Parse the type field at *p (NAME, NAME+N or a number); advances *p. */
static inline int parse_step_type(char **p, uint32_t *type)
{
	char *s = *p, *end;
	size_t len = strcspn(s, "+ \t");

	if (len == 0)
		return -EINVAL;
	*type = (uint32_t)strtoul(s, &end, 10);
	if (end != s + len && step_type_of(s, len, type))
		return -EINVAL;
	s += len;
	if (*s == '+') {
		*type += (uint32_t)strtoul(s + 1, &end, 10);
		s = end;
	}
	*p = s;
	return 0;
}

/* Parse an optional quoted field at *p into *out (NULL when absent). */
static inline int parse_step_text(char **p, const char **out)
{
	char *s = *p + strspn(*p, " \t"), *close;

	*out = NULL;
	if (*s == '\0') {
		*p = s;
		return 0;
	}
	if (*s != '"' || !(close = strchr(s + 1, '"')))
		return -EINVAL;
	*close = '\0';
	*out = s + 1;
	*p = close + 1;
	return 0;
}

/* Parse one step line (modified in place: strings point into it). */
static inline int parse_step(char *line, struct step *st)
{
	char *p = line, *end;

	st->conn = (int)strtol(p, &end, 10);
	if (end == p || st->conn < 0 || st->conn > 3)
		return -EINVAL;
	p = end + strspn(end, " \t");
	if (parse_step_type(&p, &st->type))
		return -EINVAL;
	st->tx = (int)strtol(p, &end, 10);
	if (end == p || st->tx < 0 || st->tx > 7)
		return -EINVAL;
	p = end;
	if (parse_step_text(&p, &st->args) || parse_step_text(&p, &st->want))
		return -EINVAL;
	return p[strspn(p, " \t")] == '\0' ? 0 : -EINVAL;
}

/* Fail the program with file and line: a script file must be well formed. */
static inline void script_die(const char *path, unsigned line, const char *why)
{
	fprintf(stderr, "%s:%u: %s\n", path, line, why);
	exit(1);
}

/* Add the line at text to the script set (a header, a step or nothing). */
static inline void script_line(struct scripts *ss, char *text, const char *path, unsigned ln)
{
	struct script *cur = ss->n ? &ss->s[ss->n - 1] : NULL;
	char *close;

	text += strspn(text, " \t");
	if (*text == '\0' || *text == '#')
		return;
	if (*text == '[') {
		close = strchr(text, ']');
		if (!close || close - text - 1 >= (long)sizeof(cur->name))
			script_die(path, ln, "bad script name");
		ss->s = realloc(ss->s, (ss->n + 1) * sizeof(*ss->s));
		assert_non_null(ss->s);
		cur = &ss->s[ss->n++];
		*cur = (struct script){ .n = 0 };
		memcpy(cur->name, text + 1, (size_t)(close - text - 1));
		return;
	}
	if (!cur)
		script_die(path, ln, "a step before any [script]");
	cur->steps = realloc(cur->steps, (cur->n + 1) * sizeof(*cur->steps));
	cur->lines = realloc(cur->lines, (cur->n + 1) * sizeof(*cur->lines));
	assert_non_null(cur->steps);
	assert_non_null(cur->lines);
	cur->lines[cur->n] = (int)ln;
	if (parse_step(text, &cur->steps[cur->n++]))
		script_die(path, ln, "malformed step");
}

/* Read every script of the file `name` in the unit-test folder. */
static inline void scripts_load(const char *name, struct scripts *ss)
{
	char path[512];
	FILE *f;
	long size;
	unsigned ln = 0;
	char *line, *next;

	snprintf(path, sizeof(path), "%s/%s", XSL_UT_DIR, name);
	*ss = (struct scripts){ .n = 0 };
	f = fopen(path, "r");
	if (!f || fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		script_die(path, 0, "cannot read");
	ss->text = calloc(1, (size_t)size + 1);
	assert_non_null(ss->text);
	if (fread(ss->text, 1, (size_t)size, f) != (size_t)size)
		script_die(path, 0, "short read");
	fclose(f);
	for (line = ss->text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		script_line(ss, line, path, ++ln);
	}
}

/* The script called name; a missing one fails the calling test. */
static inline const struct script *script_find(const struct scripts *ss, const char *name)
{
	for (size_t i = 0; i < ss->n; i++)
		if (!strcmp(ss->s[i].name, name))
			return &ss->s[i];
	fail_msg("no script [%s]", name);
	return NULL;
}

/* Run script s on w; a failure names the step's line in its file. */
static inline void run_script_steps(struct world *w, const struct script *s)
{
	for (size_t i = 0; i < s->n; i++)
		run_step(w, &s->steps[i], s->lines[i]);
}

/* Run the script called name on w. */
static inline void run_script(struct world *w, const struct scripts *ss, const char *name)
{
	run_script_steps(w, script_find(ss, name));
}

static inline void scripts_free(struct scripts *ss)
{
	for (size_t i = 0; i < ss->n; i++) {
		free(ss->s[i].steps);
		free(ss->s[i].lines);
	}
	free(ss->s);
	free(ss->text);
}

#endif
