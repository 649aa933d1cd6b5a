/*
 * fuzz_ring: libFuzzer target for the domain-ring transport, where the
 * guest controls the shared page. The input is a list of guest actions:
 * honest ones (append request bytes within the free space, consume reply
 * bytes) and hostile ones (scribble any index, any byte of the page, or the
 * connection field). ring_service runs after every action. Checked: no
 * crash or sanitizer report; apart from a reconnection the server never
 * writes the guest's indices (req_prod, rsp_cons); when the server produces
 * replies it never puts more than a ring's worth in flight; the tree's
 * invariants hold at the end.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "conn.h"
#include "domain.h"
#include "ring.h"
#include "xsd.h"

/* Read a little-endian u32 from the input if 4 bytes remain. */
static uint32_t take32(const uint8_t *d, size_t size, size_t *off)
{
	uint32_t v = 0;

	if (*off + 4 <= size)
		memcpy(&v, d + *off, 4);
	*off += 4;
	return v;
}

/* Guest appends n bytes within the free request space (honest producer). */
static void guest_write(struct xenstore_domain_interface *in, const uint8_t *p, size_t n)
{
	while (n) {
		uint32_t space = XENSTORE_RING_SIZE - (in->req_prod - in->req_cons);
		uint32_t off = MASK_XENSTORE_IDX(in->req_prod), k = XENSTORE_RING_SIZE - off;

		if (space > XENSTORE_RING_SIZE)
			return;
		k = k < space ? k : space;
		k = k < n ? k : (uint32_t)n;
		if (k == 0)
			return;
		memcpy(in->req + off, p, k);
		in->req_prod += k;
		p += k;
		n -= k;
	}
}

/* Apply one action; returns the input bytes it used. */
static size_t act(struct xenstore_domain_interface *in, const uint8_t *d, size_t size, size_t off)
{
	size_t start = off;
	uint8_t op = d[off++];
	uint32_t v;

	switch (op % 7) {
	case 0: {
		size_t n = off < size ? d[off++] : 0;

		n = n < size - off ? n : size - off;
		guest_write(in, d + off, n);
		off += n;
		break;
	}
	case 1: {
		uint32_t avail = in->rsp_prod - in->rsp_cons;

		/* Consume part of what is there, if the indices make sense. */
		if (avail <= XENSTORE_RING_SIZE)
			in->rsp_cons += (off < size ? d[off++] : 0) % (avail + 1);
		break;
	}
	case 2: in->req_prod = take32(d, size, &off); break;
	case 3: in->rsp_cons = take32(d, size, &off); break;
	case 4: in->req_cons = take32(d, size, &off); break;
	case 5: in->connection = XENSTORE_RECONNECT; break;
	default:
		v = take32(d, size, &off);
		((uint8_t *)in)[v % sizeof(*in)] = (uint8_t)(v >> 24);
	}
	return off - start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xenstore_domain_interface *in = calloc(1, sizeof(*in));
	struct ring_conn *r;
	struct xsd d;
	size_t off = 0;

	if (!in || xsd_init(&d)) {
		free(in);
		return 0;
	}
	d.logf = NULL;
	domain_introduce(&d, 1, 0, 1);
	r = ring_attach(&d, 1, in, NULL, NULL);
	while (r && off < size) {
		uint32_t req_prod, rsp_cons, rsp_prod;
		bool reconnect;

		off += act(in, data, size, off);
		req_prod = in->req_prod;
		rsp_cons = in->rsp_cons;
		rsp_prod = in->rsp_prod;
		reconnect = in->connection == XENSTORE_RECONNECT;
		ring_service(r);
		if (reconnect)
			continue;
		if (in->req_prod != req_prod || in->rsp_cons != rsp_cons)
			abort();
		if (in->rsp_prod != rsp_prod && in->rsp_prod - in->rsp_cons > XENSTORE_RING_SIZE)
			abort();
	}
	if (r)
		ring_detach(r);
	if (store_check(&d.store))
		abort();
	xsd_fini(&d);
	free(in);
	return 0;
}
