/*
 * guest: the guest side of a XenStore ring for the unit tests, written like
 * Linux's xenbus_comms.c: requests written into req[] and replies read from
 * rsp[] with free-running indices, split wherever the ring wraps.
 * Invariant: the helpers touch only the indices a guest owns (req_prod,
 * rsp_cons) and the bytes between them.
 */
#ifndef XSL_TEST_GUEST_H
#define XSL_TEST_GUEST_H

#include "harness.h"

struct guest {
	struct xenstore_domain_interface *in;
	int notified;
};

/* Ring transport hook: count the guest's notifications. */
static inline void notify(void *arg)
{
	((struct guest *)arg)->notified++;
}

/* Guest: write up to len bytes into req[]; returns bytes written. */
static inline size_t g_write(struct guest *g, const void *buf, size_t len)
{
	struct xenstore_domain_interface *in = g->in;
	size_t done = 0;

	while (done < len) {
		uint32_t prod = in->req_prod, space = XENSTORE_RING_SIZE - (prod - in->req_cons);
		uint32_t off = MASK_XENSTORE_IDX(prod), n = XENSTORE_RING_SIZE - off;

		n = n < space ? n : space;
		n = n < len - done ? n : (uint32_t)(len - done);
		if (n == 0)
			break;
		memcpy(in->req + off, (const char *)buf + done, n);
		__atomic_store_n(&in->req_prod, prod + n, __ATOMIC_RELEASE);
		done += n;
	}
	return done;
}

/* Guest: read up to len response bytes; returns bytes read. */
static inline size_t g_read(struct guest *g, void *buf, size_t len)
{
	struct xenstore_domain_interface *in = g->in;
	size_t done = 0;

	while (done < len && in->rsp_cons != in->rsp_prod) {
		uint32_t cons = in->rsp_cons, avail = in->rsp_prod - cons;
		uint32_t off = MASK_XENSTORE_IDX(cons), n = XENSTORE_RING_SIZE - off;

		n = n < avail ? n : avail;
		n = n < len - done ? n : (uint32_t)(len - done);
		memcpy((char *)buf + done, in->rsp + off, n);
		in->rsp_cons = cons + n;
		done += n;
	}
	return done;
}

/* Guest: build a request message into buf; returns its length. */
static inline size_t g_msg(void *buf, uint32_t type, uint32_t req, const char *body, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req, .len = len };

	memcpy(buf, &h, sizeof(h));
	memcpy((char *)buf + sizeof(h), body, len);
	return sizeof(h) + len;
}

/* Guest: writes one whole message (header and len bytes of body) to the
 * ring; it must fit (the test owns an empty ring). */
static inline void g_write_msg(struct guest *g, uint32_t type, uint32_t req, const char *body,
			  uint32_t len)
{
	char buf[sizeof(struct xsd_sockmsg) + 256];

	assert_true(len <= 256);
	assert_int_equal(g_write(g, buf, g_msg(buf, type, req, body, len)),
			 sizeof(struct xsd_sockmsg) + len);
}

/* Guest: read one complete reply (must be available). */
static inline void g_reply(struct guest *g, struct reply *r)
{
	assert_int_equal(g_read(g, &r->h, sizeof(r->h)), sizeof(r->h));
	assert_true(r->h.len <= XENSTORE_PAYLOAD_MAX);
	assert_int_equal(g_read(g, r->body, r->h.len), r->h.len);
	r->body[r->h.len] = '\0';
}

#endif
