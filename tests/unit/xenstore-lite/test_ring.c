/*
 * test_ring: the domain-ring transport over an in-memory
 * xenstore_domain_interface, with a guest side that behaves like Linux's
 * xenbus_comms.c (messages split anywhere, pipelining, free-running indices
 * that wrap, a response ring the guest drains late) and like a hostile guest
 * (bad indices, oversized messages), plus the reconnection handshake.
 */
#include "guest.h"
#include "ring.h"

struct fixture {
	struct world *w;
	struct xenstore_domain_interface in;
	struct guest g;
	struct ring_conn *r;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->w = world_new();
	f->g.in = &f->in;
	f->r = ring_attach(&f->w->d, 1, &f->in, notify, &f->g);
	assert_non_null(f->r);
	{
		static const struct step domid[] = {
			{ 0, XS_WRITE, 0, "/local/domain/1/domid|1", "OK" },
		};

		RUN(f->w, domid);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ring_detach(f->r);
	world_free(f->w);
	free(f);
	return 0;
}

static void request_reply(void **state)
{
	struct fixture *f = *state;
	char buf[256];
	struct reply r;
	size_t n = g_msg(buf, XS_WRITE, 9, "data\0hello", 10);

	assert_int_equal(f->in.server_features,
			 XENSTORE_SERVER_FEATURE_RECONNECTION | XENSTORE_SERVER_FEATURE_ERROR);
	assert_int_equal(g_write(&f->g, buf, n), n);
	assert_int_equal(ring_service(f->r), 0);
	assert_true(f->g.notified > 0);
	assert_int_equal(f->in.req_cons, f->in.req_prod);
	g_reply(&f->g, &r);
	assert_int_equal(r.h.type, XS_WRITE);
	assert_int_equal(r.h.req_id, 9);
	assert_string_equal(r.body, "OK");
	g_write_msg(&f->g, XS_READ, 10, "/local/domain/1/data", 21);
	ring_service(f->r);
	g_reply(&f->g, &r);
	assert_int_equal(r.h.len, 5);
	assert_memory_equal(r.body, "hello", 5);
}

static void split_anywhere(void **state)
{
	struct fixture *f = *state;
	char buf[256];
	struct reply r;
	size_t n = g_msg(buf, XS_READ, 3, "domid", 6), i;

	for (i = 0; i < n; i++) {
		g_write(&f->g, buf + i, 1);
		assert_int_equal(ring_service(f->r), 0);
		if (i + 1 < n)
			assert_int_equal(f->in.rsp_prod, 0);
	}
	g_reply(&f->g, &r);
	assert_int_equal(r.h.req_id, 3);
	assert_int_equal(r.h.type, XS_READ);
}

static void pipelined_and_wrapping(void **state)
{
	struct fixture *f = *state;
	char buf[64];
	struct reply r;
	uint32_t i, next = 0;

	/* Free-running indices close to the 32-bit wrap. */
	f->in.req_cons = f->in.req_prod = 0xFFFFFF00u;
	f->in.rsp_cons = f->in.rsp_prod = 0xFFFFFF80u;
	for (i = 0; i < 500; i++) {
		size_t n = g_msg(buf, XS_READ, i, "domid", 6), done = 0;

		while ((done += g_write(&f->g, buf + done, n - done)) != n) {
			assert_int_equal(ring_service(f->r), 0);
			while (f->in.rsp_prod != f->in.rsp_cons) {
				g_reply(&f->g, &r);
				assert_int_equal(r.h.req_id, next++);
			}
		}
	}
	while (next < 500) {
		assert_int_equal(ring_service(f->r), 0);
		g_reply(&f->g, &r);
		assert_int_equal(r.h.req_id, next++);
	}
	assert_true(f->in.req_prod < 0xFFFFFF00u);
}

static void full_response_ring(void **state)
{
	struct fixture *f = *state;
	char big[900], buf[1100];
	struct reply r;
	size_t n;
	int i, got = 0;

	memset(big, 'v', sizeof(big));
	n = g_msg(buf, XS_WRITE, 1, "big", 4);
	memcpy(buf + n, big, sizeof(big));
	((struct xsd_sockmsg *)buf)->len += sizeof(big);
	g_write(&f->g, buf, n + sizeof(big));
	ring_service(f->r);
	g_reply(&f->g, &r);
	assert_string_equal(r.body, "OK");
	/* Ten reads whose replies cannot all fit: the server fills the ring
	 * and continues only as the guest consumes. */
	for (i = 0; i < 10; i++) {
		n = g_msg(buf, XS_READ, (uint32_t)i, "big", 4);
		assert_int_equal(g_write(&f->g, buf, n), n);
	}
	assert_int_equal(ring_service(f->r), 0);
	assert_int_equal(f->in.rsp_prod - f->in.rsp_cons, XENSTORE_RING_SIZE);
	while (got < 10) {
		g_reply(&f->g, &r);
		assert_int_equal(r.h.req_id, (uint32_t)got);
		assert_int_equal(r.h.len, sizeof(big));
		got++;
		assert_int_equal(ring_service(f->r), 0);
	}
}

static void watch_event_on_ring(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	static const struct step poweroff[] = {
		{ 0, XS_WRITE, 0, "/local/domain/1/control/shutdown|poweroff", "OK" },
	};

	g_write_msg(&f->g, XS_WATCH, 5, "control/shutdown\0tok", 21);
	ring_service(f->r);
	g_reply(&f->g, &r);
	assert_int_equal(r.h.type, XS_WATCH);
	g_reply(&f->g, &r);
	assert_int_equal(r.h.type, XS_WATCH_EVENT);
	assert_memory_equal(r.body, "control/shutdown\0tok", 21);
	f->g.notified = 0;
	RUN(f->w, poweroff);
	/* Another connection's change reaches the ring without a guest event. */
	assert_true(f->g.notified > 0);
	g_reply(&f->g, &r);
	assert_int_equal(r.h.type, XS_WATCH_EVENT);
	assert_memory_equal(r.body, "control/shutdown\0tok", 21);
}

static void bad_indices(void **state)
{
	struct fixture *f = *state;

	f->in.req_prod = f->in.req_cons + XENSTORE_RING_SIZE + 1;
	assert_int_equal(ring_service(f->r), -EIO);
	assert_int_equal(f->in.error, XENSTORE_ERROR_RINGIDX);
	assert_int_equal(ring_service(f->r), -EIO);
}

static void bad_rsp_indices(void **state)
{
	struct fixture *f = *state;

	f->in.rsp_cons = f->in.rsp_prod + 5000;
	g_write_msg(&f->g, XS_READ, 1, "domid", 6);
	assert_int_equal(ring_service(f->r), -EIO);
	assert_int_equal(f->in.error, XENSTORE_ERROR_RINGIDX);
}

static void oversized_message(void **state)
{
	struct fixture *f = *state;
	struct xsd_sockmsg h = { .type = XS_WRITE, .len = XENSTORE_PAYLOAD_MAX + 1 };

	g_write(&f->g, &h, sizeof(h));
	assert_int_equal(ring_service(f->r), -EIO);
	assert_int_equal(f->in.error, XENSTORE_ERROR_PROTO);
}

static void reconnect(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	g_write_msg(&f->g, XS_WATCH, 5, "/x\0tok", 7);
	ring_service(f->r);
	f->in.req_prod = f->in.req_cons + 4000;	/* and break the ring */
	assert_int_equal(ring_service(f->r), -EIO);
	f->in.connection = XENSTORE_RECONNECT;
	assert_int_equal(ring_service(f->r), 0);
	assert_int_equal(f->in.connection, XENSTORE_CONNECTED);
	assert_int_equal(f->in.error, XENSTORE_ERROR_NONE);
	assert_int_equal(f->in.req_prod, 0);
	assert_int_equal(f->in.rsp_prod, 0);
	static const struct step poke[] = { { 0, XS_WRITE, 0, "/x|1", "OK" } };
	RUN(f->w, poke);
	ring_service(f->r);
	assert_int_equal(f->in.rsp_prod, 0);	/* the watch was forgotten */
	g_write_msg(&f->g, XS_READ, 6, "/x", 3);
	assert_int_equal(ring_service(f->r), 0);
	g_reply(&f->g, &r);
	assert_int_equal(r.h.req_id, 6);
}

static void release_closes_ring(void **state)
{
	struct fixture *f = *state;
	static const struct step rel[] = {
		{ 0, XS_RELEASE, 0, "1", "OK" },
	};

	RUN(f->w, rel);
	assert_int_equal(ring_service(f->r), -EIO);
}

int main(void)
{
#define FT(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
	static const struct CMUnitTest tests[] = {
		FT(request_reply),
		FT(split_anywhere),
		FT(pipelined_and_wrapping),
		FT(full_response_ring),
		FT(watch_event_on_ring),
		FT(bad_indices),
		FT(bad_rsp_indices),
		FT(oversized_message),
		FT(reconnect),
		FT(release_closes_ring),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
