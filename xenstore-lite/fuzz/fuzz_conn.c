/*
 * fuzz_conn: libFuzzer target for the request parser and every handler.
 *
 * Input: byte 0 picks the client under test (0 = dom0 over a socket-like
 * stream, otherwise an unprivileged domain with that domid on a strict
 * ring-like stream). The rest is a sequence of records <sel> <len> <bytes>:
 * the bytes go to the client under test, or (odd sel) to a second,
 * privileged connection that also watches "/", so requests of two clients
 * interleave (transactions meet concurrent changes) and every change
 * exercises watch delivery. Both byte streams may split messages anywhere.
 * After each record both output queues are drained and their framing
 * checked; at the end the tree's invariants must hold (store_check).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conn.h"
#include "domain.h"
#include "xsd.h"

/* Drain c's output queue; every message must be well framed. */
static void drain(struct conn *c)
{
	const uint8_t *p;
	size_t len;

	while ((p = conn_out_front(c, &len))) {
		struct xsd_sockmsg h;

		if (len < sizeof(h))
			abort();
		memcpy(&h, p, sizeof(h));
		if (h.len > XENSTORE_PAYLOAD_MAX || h.len + sizeof(h) != len)
			abort();
		conn_out_advance(c, len);
	}
}

/* Feed one well-formed request to c. */
static void request(struct conn *c, uint32_t type, const char *body, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .len = len };

	conn_feed(c, (const uint8_t *)&h, sizeof(h));
	conn_feed(c, (const uint8_t *)body, len);
}

/* Give domain domid a home it owns, as a toolstack would. */
static void make_home(struct conn *dom0, unsigned domid)
{
	char buf[64];
	int n = snprintf(buf, sizeof(buf), "/local/domain/%u", domid) + 1;

	request(dom0, XS_MKDIR, buf, (uint32_t)n);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "b%u", domid) + 1;
	request(dom0, XS_SET_PERMS, buf, (uint32_t)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xsd d;
	struct conn *c, *w;
	size_t off;

	if (size < 1 || xsd_init(&d))
		return 0;
	d.logf = NULL;
	w = conn_new(&d, 0, NULL, NULL);
	request(w, XS_WATCH, "/\0tok", 6);
	if (data[0]) {
		domain_introduce(&d, data[0], 1, 1);
		make_home(w, data[0]);
	}
	drain(w);
	c = conn_new(&d, data[0], NULL, NULL);
	c->strict = data[0] != 0;
	for (off = 1; off + 2 <= size && !c->closing; ) {
		struct conn *to = data[off] & 1 ? w : c;
		size_t n = data[off + 1];

		off += 2;
		n = n < size - off ? n : size - off;
		if (conn_feed(to, data + off, n) < 0)
			break;
		off += n;
		drain(c);
		drain(w);
	}
	drain(c);
	drain(w);
	if (store_check(&d.store))
		abort();
	xsd_fini(&d);
	return 0;
}
