/*
 * ring: server side of the XenStore shared ring (see ring.h). Request bytes
 * are copied out of the shared page before they are parsed, so a guest
 * changing them concurrently cannot confuse the parser. Index loads from
 * the page use acquire ordering and index stores release ordering, which
 * pairs with the guest's barriers around its own index updates.
 */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "conn.h"

struct ring_conn {
	struct xenstore_domain_interface *intf;
	struct conn *c;
	void (*notify)(void *arg);
	void *arg;
	bool broken;
	bool dropped;		/* broken, and the connection's state dropped */
	bool closed;
};

/* Transport hook: the daemon wants the connection gone (RELEASE). */
static void ring_close(struct conn *c)
{
	struct ring_conn *r = c->tp_data;

	r->closed = true;
}

/* Transport hook: the connection is being destroyed. */
static void ring_destroy(struct conn *c)
{
	struct ring_conn *r = c->tp_data;

	r->c = NULL;
}

static long ring_push(struct ring_conn *r);

/* Transport hook: output was queued (a reply, or a watch event caused by
 * another connection): move what fits into the response ring now and
 * notify the guest. */
static void ring_kick(struct conn *c)
{
	struct ring_conn *r = c->tp_data;

	if (!r->broken && ring_push(r) > 0 && r->notify)
		r->notify(r->arg);
}

static const struct transport ring_transport = {
	.kick = ring_kick,
	.close = ring_close,
	.destroy = ring_destroy,
};

struct ring_conn *ring_attach(struct xsd *d, unsigned domid,
			      struct xenstore_domain_interface *intf,
			      void (*notify)(void *arg), void *arg)
{
	struct ring_conn *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->intf = intf;
	r->notify = notify;
	r->arg = arg;
	r->c = conn_new(d, domid, &ring_transport, r);
	if (!r->c) {
		free(r);
		return NULL;
	}
	r->c->strict = true;
	intf->server_features = XENSTORE_SERVER_FEATURE_RECONNECTION |
				XENSTORE_SERVER_FEATURE_ERROR;
	return r;
}

/* Mark the ring broken with a reason the guest can read. */
static int ring_fail(struct ring_conn *r, uint32_t why)
{
	__atomic_store_n(&r->intf->error, why, __ATOMIC_RELEASE);
	r->broken = true;
	return -EIO;
}

/* Feed available request bytes to the connection. Returns bytes consumed
 * or -EIO. */
static long ring_pull(struct ring_conn *r)
{
	struct xenstore_domain_interface *in = r->intf;
	XENSTORE_RING_IDX cons = in->req_cons;
	XENSTORE_RING_IDX prod = __atomic_load_n(&in->req_prod, __ATOMIC_ACQUIRE);
	uint8_t tmp[XENSTORE_RING_SIZE];
	uint32_t avail = prod - cons, off = MASK_XENSTORE_IDX(cons), n;
	long used;

	if (avail > XENSTORE_RING_SIZE)
		return ring_fail(r, XENSTORE_ERROR_RINGIDX);
	n = avail < XENSTORE_RING_SIZE - off ? avail : XENSTORE_RING_SIZE - off;
	if (n == 0)
		return 0;
	memcpy(tmp, in->req + off, n);
	used = conn_feed(r->c, tmp, n);
	if (used < 0)
		return ring_fail(r, XENSTORE_ERROR_PROTO);
	__atomic_store_n(&in->req_cons, cons + (uint32_t)used, __ATOMIC_RELEASE);
	return used;
}

/* Copy queued output into free response space. Returns bytes produced or
 * -EIO. */
static long ring_push(struct ring_conn *r)
{
	struct xenstore_domain_interface *in = r->intf;
	XENSTORE_RING_IDX prod = in->rsp_prod;
	XENSTORE_RING_IDX cons = __atomic_load_n(&in->rsp_cons, __ATOMIC_ACQUIRE);
	long total = 0;

	if (prod - cons > XENSTORE_RING_SIZE)
		return ring_fail(r, XENSTORE_ERROR_RINGIDX);
	for (;;) {
		uint32_t space = XENSTORE_RING_SIZE - (prod - cons);
		uint32_t off = MASK_XENSTORE_IDX(prod), n;
		size_t len;
		const uint8_t *p = conn_out_front(r->c, &len);

		if (!p || space == 0)
			break;
		n = space < XENSTORE_RING_SIZE - off ? space : XENSTORE_RING_SIZE - off;
		n = len < n ? (uint32_t)len : n;
		memcpy(in->rsp + off, p, n);
		prod += n;
		__atomic_store_n(&in->rsp_prod, prod, __ATOMIC_RELEASE);
		conn_out_advance(r->c, n);
		total += n;
	}
	return total;
}

void ring_reset(struct ring_conn *r)
{
	struct xenstore_domain_interface *in = r->intf;

	if (r->c)
		conn_reset(r->c);
	in->req_cons = in->req_prod = 0;
	in->rsp_cons = in->rsp_prod = 0;
	in->error = XENSTORE_ERROR_NONE;
	r->broken = false;
	r->dropped = false;
	__atomic_store_n(&in->connection, XENSTORE_CONNECTED, __ATOMIC_RELEASE);
}

/* A broken ring's connection keeps nothing (outside any request: ring_fail
 * may run inside one, when a reply is pushed, so it cannot do this). */
static void ring_drop(struct ring_conn *r)
{
	if (r->broken && !r->dropped) {
		conn_reset(r->c);
		r->dropped = true;
	}
}

int ring_service(struct ring_conn *r)
{
	bool moved_any = false;
	long in, out, budget = RING_BUDGET;

	if (!r->c || r->closed)
		return -EIO;
	if (__atomic_load_n(&r->intf->connection, __ATOMIC_ACQUIRE) == XENSTORE_RECONNECT) {
		ring_reset(r);
		moved_any = true;
	}
	if (r->broken) {
		ring_drop(r);
		return -EIO;
	}
	do {
		in = ring_pull(r);
		out = in < 0 ? 0 : ring_push(r);
		moved_any |= in > 0 || out > 0;
		budget -= in > 0 ? in : 0;
	} while (!r->broken && (in > 0 || out > 0) && budget > 0);
	if ((moved_any || r->broken) && r->notify)
		r->notify(r->arg);
	ring_drop(r);
	if (r->broken || r->closed)
		return -EIO;
	return budget <= 0 && (in > 0 || out > 0);
}

void ring_detach(struct ring_conn *r)
{
	if (r->c)
		conn_destroy(r->c);
	free(r);
}
