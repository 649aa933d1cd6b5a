/*
 * test_core: unit tests of the daemon's building blocks: path rules,
 * permission parsing and evaluation, the live store's invariants under
 * random operations, the hash table, output-queue throttling and the
 * partial-input framing of conn.c.
 */
#include "harness.h"
#include "htab.h"
#include "path.h"
#include "perms.h"
#include "store.h"

static void path_rules(void **state)
{
	static const struct { const char *in; int special; const char *out; } ok[] = {
		{ "/", 0, "/" },
		{ "/a", 0, "/a" },
		{ "/a-b_c@d/9", 0, "/a-b_c@d/9" },
		{ "device/vbd", 0, "/local/domain/3/device/vbd" },
		{ "@releaseDomain", 1, "@releaseDomain" },
	};
	static const struct { const char *in; int special; } bad[] = {
		{ "", 0 }, { "//", 0 }, { "/a/", 0 }, { "/a//b", 0 }, { "/a b", 0 },
		{ "/a.b", 0 }, { "@x", 0 }, { "@", 1 }, { "a/", 0 }, { "/\x7f", 0 },
	};
	char out[PATH_BUF], longp[3200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(path_canon("/local/domain/3", ok[i].in, ok[i].special, out), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(path_canon("/local/domain/3", bad[i].in, bad[i].special, out), -EINVAL);
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	longp[XENSTORE_ABS_PATH_MAX] = '\0';
	assert_int_equal(path_canon("/h", longp, 0, out), 0);
	longp[XENSTORE_ABS_PATH_MAX + 1] = '\0';
	longp[XENSTORE_ABS_PATH_MAX] = 'a';
	assert_int_equal(path_canon("/h", longp, 0, out), -EINVAL);
	longp[XENSTORE_REL_PATH_MAX + 1] = '\0';
	assert_int_equal(path_canon("/h", longp + 1, 0, out), 0);
	longp[XENSTORE_REL_PATH_MAX + 1] = 'a';
	longp[XENSTORE_REL_PATH_MAX + 2] = '\0';
	assert_int_equal(path_canon("/h", longp + 1, 0, out), -EINVAL);
	assert_true(path_is_child("/a", "/a"));
	assert_true(path_is_child("/a", "/a/b"));
	assert_false(path_is_child("/a", "/ab"));
	assert_true(path_is_child("/", "/x"));
	path_parent("/a/b", out);
	assert_string_equal(out, "/a");
	path_parent("/a", out);
	assert_string_equal(out, "/");
	assert_int_equal(path_depth("/"), 0);
	assert_int_equal(path_depth("/a/b"), 2);
	assert_string_equal(path_base("/a/bc"), "bc");
	assert_int_equal(path_join("/", "x", out), 0);
	assert_string_equal(out, "/x");
}

static void perms_rules(void **state)
{
	struct perms pm;
	struct principal dom0 = { 0, -1, true }, d1 = { 1, -1, false }, d2 = { 2, -1, false };
	struct principal d3t1 = { 3, 1, false }, d4 = { 4, -1, false };
	char buf[64];

	(void)state;
	assert_int_equal(perms_parse("n1\0r2\0w4", 3, &pm), 0);
	assert_int_equal(perms_access(&pm, &dom0), XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER);
	assert_int_equal(perms_access(&pm, &d1), XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER);
	assert_int_equal(perms_access(&pm, &d2), XS_PERM_READ);
	assert_int_equal(perms_access(&pm, &d4), XS_PERM_WRITE);
	assert_int_equal(perms_access(&pm, &d3t1), XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER);
	assert_int_equal(perms_format(&pm, buf, sizeof(buf)), 9);
	assert_memory_equal(buf, "n1\0r2\0w4", 9);
	assert_int_equal(perms_format(&pm, buf, 5), -E2BIG);
	free(pm.p);
	assert_int_equal(perms_parse("b7", 1, &pm), 0);
	assert_int_equal(perms_access(&pm, &d2), XS_PERM_READ | XS_PERM_WRITE);
	free(pm.p);
	assert_int_equal(perms_parse("x1", 1, &pm), -EINVAL);
	assert_int_equal(perms_parse("r", 1, &pm), -EINVAL);
	assert_int_equal(perms_parse("r65536", 1, &pm), -EINVAL);
	assert_int_equal(perms_parse("r1x", 1, &pm), -EINVAL);
	assert_int_equal(perms_parse("", 0, &pm), -EINVAL);
}

/* Deterministic pseudo-random numbers (xorshift). */
static uint32_t rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void store_random_ops(void **state)
{
	static const char *const names[] = { "a", "b", "c" };
	struct world *w = world_new();
	uint32_t seed = 12345, i;
	char path[64], body[128];

	(void)state;
	for (i = 0; i < 5000; i++) {
		uint32_t depth = 1 + rnd(&seed) % 4, d, op = rnd(&seed) % 6, tx = 0;
		struct reply r;
		int n = 0, len;

		for (d = 0; d < depth; d++)
			n += snprintf(path + n, sizeof(path) - (size_t)n, "/%s", names[rnd(&seed) % 3]);
		if (rnd(&seed) % 4 == 0) {
			send_req(w->c[0], XS_TRANSACTION_START, 0, "", 1);
			assert_true(pop(w->c[0], &r));
			tx = (uint32_t)atoi(r.body);
		}
		len = snprintf(body, sizeof(body), "%s", path) + 1;
		switch (op) {
		case 0: case 1:
			len += snprintf(body + len, sizeof(body) - (size_t)len, "v%u", i);
			send_req(w->c[0], XS_WRITE, tx, body, (uint32_t)len);
			break;
		case 2: send_req(w->c[0], XS_RM, tx, body, (uint32_t)len); break;
		case 3: send_req(w->c[0], XS_MKDIR, tx, body, (uint32_t)len); break;
		case 4: send_req(w->c[0], XS_DIRECTORY, tx, body, (uint32_t)len); break;
		default:
			memcpy(body + len, "r1\0b2", 6);
			send_req(w->c[0], XS_SET_PERMS, tx, body, (uint32_t)len + 6);
		}
		while (pop(w->c[0], &r))
			;
		/* Interleave a competing plain write sometimes, then finish. */
		if (tx && rnd(&seed) % 2) {
			len = snprintf(body, sizeof(body), "/%s", names[rnd(&seed) % 3]) + 1;
			send_req(w->c[1], XS_WRITE, 0, body, (uint32_t)len);
			while (pop(w->c[1], &r))
				;
		}
		if (tx) {
			send_req(w->c[0], XS_TRANSACTION_END, tx, rnd(&seed) % 3 ? "T" : "F", 2);
			assert_true(pop(w->c[0], &r));
			assert_true(r.h.type == XS_TRANSACTION_END ||
				    (r.h.type == XS_ERROR && strcmp(r.body, "EAGAIN") == 0));
		}
		assert_int_equal(store_check(&w->d.store), 0);
	}
	world_free(w);
}

/* Compare two stores node by node: same paths, values, perms, children. */
struct cmp_arg {
	const struct store *other;
	int diff;
};

static void cmp_node(struct hentry *h, void *arg)
{
	const struct node *a = (const struct node *)h;
	struct cmp_arg *c = arg;
	const struct node *b = store_get(c->other, a->path);

	if (!b || a->vlen != b->vlen || (a->vlen && memcmp(a->value, b->value, a->vlen)) ||
	    a->perms.n != b->perms.n ||
	    memcmp(a->perms.p, b->perms.p, a->perms.n * sizeof(*a->perms.p)) ||
	    a->klen != b->klen)
		c->diff = 1;
}

static int stores_equal(const struct store *a, const struct store *b)
{
	struct cmp_arg c = { .other = b };

	htab_each(&a->tab, cmp_node, &c);
	return !c.diff && store_count(a) == store_count(b);
}

struct logged {
	uint32_t type, len;
	char body[128];
};

/* A committed transaction must leave exactly the state that replaying its
 * requests, without a transaction, at commit time would leave: the
 * transaction is serialisable at its commit. A model daemon receives every
 * plain request at once and a transaction's requests only when the real
 * commit succeeds. */
static void transactions_match_serial_model(void **state)
{
	static const char *const names[] = { "a", "b" };
	struct world *w = world_new(), *m = world_new();
	struct logged log[8];
	unsigned commits = 0;
	uint32_t seed = 777, round;
	struct reply r;

	(void)state;
	for (round = 0; round < 3000; round++) {
		uint32_t tx, nlog = 0, k, steps = 1 + rnd(&seed) % 6;

		send_req(w->c[0], XS_TRANSACTION_START, 0, "", 1);
		assert_true(pop(w->c[0], &r));
		tx = (uint32_t)atoi(r.body);
		for (k = 0; k < steps; k++) {
			struct logged *l = &log[nlog];
			uint32_t d, depth = 1 + rnd(&seed) % 3, op = rnd(&seed) % 7;
			int n = 0;
			bool plain = rnd(&seed) % 3 == 0;

			for (d = 0; d < depth; d++)
				n += snprintf(l->body + n, sizeof(l->body) - (size_t)n, "/%s",
					      names[rnd(&seed) % 2]);
			l->len = (uint32_t)n + 1;
			static const uint32_t types[7] = { XS_WRITE, XS_WRITE, XS_RM, XS_MKDIR,
							   XS_READ, XS_DIRECTORY, XS_SET_PERMS };

			l->type = types[op];
			if (l->type == XS_WRITE)
				l->len += (uint32_t)snprintf(l->body + l->len, 16, "%u.%u", round, k);
			if (l->type == XS_SET_PERMS)
				l->len += (uint32_t)snprintf(l->body + l->len, 16, "n%u", k % 3) + 1;
			if (plain) {
				/* Another client changes the live tree meanwhile. */
				send_req(w->c[1], l->type, 0, l->body, l->len);
				send_req(m->c[1], l->type, 0, l->body, l->len);
				while (pop(w->c[1], &r) || pop(m->c[1], &r))
					;
				continue;
			}
			send_req(w->c[0], l->type, tx, l->body, l->len);
			while (pop(w->c[0], &r))
				;
			nlog++;
		}
		send_req(w->c[0], XS_TRANSACTION_END, tx, "T", 2);
		assert_true(pop(w->c[0], &r));
		commits += r.h.type == XS_TRANSACTION_END;
		if (r.h.type == XS_TRANSACTION_END) {
			for (k = 0; k < nlog; k++) {
				send_req(m->c[0], log[k].type, 0, log[k].body, log[k].len);
				while (pop(m->c[0], &r))
					;
			}
		} else {
			assert_string_equal(r.body, "EAGAIN");
		}
		if (!stores_equal(&w->d.store, &m->d.store) || !stores_equal(&m->d.store, &w->d.store))
			fail_msg("round %u: live tree differs from the serial model", round);
	}
	/* Both outcomes must be exercised for the comparison to mean much. */
	printf("transactions: %u committed, %u conflicted\n", commits, round - commits);
	assert_true(commits > 500 && round - commits > 100);
	world_free(w);
	world_free(m);
}

/* The deepest legal path (1536 levels): creating and removing it, plain
 * and in a transaction, must not exhaust the stack. */
static void deepest_paths(void **state)
{
	struct world *w = world_new();
	char body[XENSTORE_ABS_PATH_MAX + 8];
	struct reply r;
	uint32_t tx, i;

	(void)state;
	for (i = 0; i < XENSTORE_ABS_PATH_MAX / 2; i++)
		memcpy(body + 2 * i, "/a", 2);
	body[XENSTORE_ABS_PATH_MAX] = '\0';
	memcpy(body + XENSTORE_ABS_PATH_MAX + 1, "v", 1);
	send_req(w->c[0], XS_WRITE, 0, body, XENSTORE_ABS_PATH_MAX + 2);
	assert_true(pop(w->c[0], &r));
	assert_int_equal(r.h.type, XS_WRITE);
	assert_int_equal(store_count(&w->d.store), 5 + XENSTORE_ABS_PATH_MAX / 2);
	send_req(w->c[0], XS_TRANSACTION_START, 0, "", 1);
	assert_true(pop(w->c[0], &r));
	tx = (uint32_t)atoi(r.body);
	send_req(w->c[0], XS_RM, tx, "/a", 3);
	assert_true(pop(w->c[0], &r));
	assert_int_equal(r.h.type, XS_RM);
	send_req(w->c[0], XS_TRANSACTION_END, tx, "F", 2);
	assert_true(pop(w->c[0], &r));
	send_req(w->c[0], XS_RM, 0, "/a", 3);
	assert_true(pop(w->c[0], &r));
	assert_int_equal(r.h.type, XS_RM);
	assert_int_equal(store_count(&w->d.store), 5);
	world_free(w);
}

struct item {
	struct hentry h;
	char key[16];
};

static void htab_grows(void **state)
{
	struct htab t;
	struct item *it = calloc(5000, sizeof(*it));
	int i;

	(void)state;
	assert_int_equal(htab_init(&t), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(it[i].key, sizeof(it[i].key), "k%d", i);
		it[i].h.key = it[i].key;
		assert_int_equal(htab_insert(&t, &it[i].h), 0);
	}
	assert_true(t.nb >= 4096);
	for (i = 0; i < 5000; i += 2)
		htab_remove(&t, &it[i].h);
	for (i = 0; i < 5000; i++)
		assert_true((htab_find(&t, it[i].key) != NULL) == (i % 2 == 1));
	htab_fini(&t);
	free(it);
}

static void throttle_unread_replies(void **state)
{
	struct world *w = world_new();
	struct xsd_sockmsg h = { .type = XS_READ, .len = 2 };
	uint8_t many[40 * (sizeof(h) + 2)];
	struct reply r;
	size_t i, off = 0;
	long used;
	int got = 0;

	(void)state;
	for (i = 0; i < 40; i++) {
		memcpy(many + off, &h, sizeof(h));
		memcpy(many + off + sizeof(h), "/", 2);
		off += sizeof(h) + 2;
	}
	used = conn_feed(w->c[0], many, off);
	assert_int_equal(used, 20 * (sizeof(h) + 2));
	assert_true(conn_paused(w->c[0]));
	assert_int_equal(conn_feed(w->c[0], many + used, off - (size_t)used), 0);
	while (pop(w->c[0], &r))
		got++;
	assert_int_equal(got, 20);
	assert_false(conn_paused(w->c[0]));
	assert_int_equal(conn_feed(w->c[0], many + used, off - (size_t)used), off - (size_t)used);
	world_free(w);
}

static void oversized_output_drops_client(void **state)
{
	struct world *w = world_new();
	static const struct step s[] = {
		{ 1, XS_WATCH, 0, "/o|t", "OK" },
		{ 1, EV, 0, "/o|t", NULL },
		{ 0, XS_CONTROL, 0, "quota|output-buffer|1000", "OK|" },
	};
	char body[64];
	int i;

	(void)state;
	RUN(w, s);
	for (i = 0; i < 100 && !w->c[1]->closing; i++) {
		int len = snprintf(body, sizeof(body), "/o/%d", i) + 1;

		struct reply r;

		send_req(w->c[0], XS_WRITE, 0, body, (uint32_t)len);
		assert_true(pop(w->c[0], &r));
	}
	assert_true(w->c[1]->closing);
	assert_false(w->c[0]->closing);
	world_free(w);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(path_rules),
		cmocka_unit_test(perms_rules),
		cmocka_unit_test(store_random_ops),
		cmocka_unit_test(transactions_match_serial_model),
		cmocka_unit_test(deepest_paths),
		cmocka_unit_test(htab_grows),
		cmocka_unit_test(throttle_unread_replies),
		cmocka_unit_test(oversized_output_drops_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
