/*
 * conn: framing, dispatch and output queueing for one connection (see
 * conn.h). A header whose length exceeds XENSTORE_PAYLOAD_MAX gets an E2BIG
 * error and its payload is skipped, which keeps a socket client in sync;
 * on a strict (ring) connection it is a fatal protocol error instead, as the
 * ring protocol has no way to skip. A client that does not read its output
 * is first throttled (input paused at Q_OUTSTANDING unread replies) and then
 * dropped when its queue exceeds Q_OUTPUT bytes.
 */
#include "conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "domain.h"
#include "ops.h"
#include "txn.h"
#include "watch.h"

struct conn *conn_new(struct xsd *d, unsigned domid, const struct transport *tp,
		      void *tp_data)
{
	struct conn *c = calloc(1, sizeof(*c));
	const struct domain *dom = domain_find(d, domid);

	if (!c)
		return NULL;
	c->d = d;
	c->who.domid = domid;
	c->who.privileged = domid == 0;
	c->who.target = dom ? dom->target : -1;
	snprintf(c->home, sizeof(c->home), "/local/domain/%u", domid);
	c->tp = tp;
	c->tp_data = tp_data;
	c->next_txid = 1;
	c->next = d->conns;
	if (d->conns)
		d->conns->prev = c;
	d->conns = c;
	return c;
}

void conn_reset(struct conn *c)
{
	txn_clear(c);
	watch_clear(c);
	while (c->oh) {
		struct outmsg *m = c->oh;

		c->oh = m->next;
		free(m);
	}
	while (c->dh) {
		struct outmsg *m = c->dh;

		c->dh = m->next;
		free(m);
	}
	c->dt = NULL;
	c->ot = NULL;
	c->obytes = 0;
	c->oreplies = 0;
	c->hgot = c->pgot = c->skip = 0;
}

void conn_destroy(struct conn *c)
{
	struct xsd *d = c->d;

	conn_reset(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		d->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->tp && c->tp->destroy)
		c->tp->destroy(c);
	free(c);
}

void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->tp && c->tp->close)
		c->tp->close(c);
}

bool conn_paused(const struct conn *c)
{
	return c->oreplies >= (unsigned long)quota_limit(c->d, c->who.domid, Q_OUTSTANDING);
}

/* A complete header is in hbuf: validate it and set up payload reception.
 * Returns 0 or -EPROTO (strict connections only). */
static int conn_header_done(struct conn *c)
{
	memcpy(&c->hdr, c->hbuf, sizeof(c->hdr));
	c->pgot = 0;
	if (c->hdr.len <= XENSTORE_PAYLOAD_MAX)
		return 0;
	if (c->strict)
		return -EPROTO;
	xsd_log(c->d, LOG_INFO, "d%u: payload of %u bytes refused",
		c->who.domid, c->hdr.len);
	conn_send_error(c, &c->hdr, -E2BIG);
	c->skip = c->hdr.len;
	c->hgot = 0;
	return 0;
}

/* Append m to the output queue and account for it. */
static void conn_enqueue(struct conn *c, struct outmsg *m)
{
	if (c->ot)
		c->ot->next = m;
	else
		c->oh = m;
	c->ot = m;
	c->obytes += m->len;
	c->oreplies += m->reply;
}

/* Move events deferred during a request behind its reply. */
static void conn_undefer(struct conn *c)
{
	while (c->dh) {
		struct outmsg *m = c->dh;

		c->dh = m->next;
		m->next = NULL;
		conn_enqueue(c, m);
	}
	c->dt = NULL;
	if (c->tp && c->tp->kick && c->oh)
		c->tp->kick(c);
}

/* The payload of the current request is complete: handle it. */
static void conn_request_done(struct conn *c)
{
	c->payload[c->hdr.len] = '\0';
	c->hgot = 0;
	c->d->requests++;
	c->busy = true;
	ops_dispatch(c, &c->hdr, (char *)c->payload);
	c->busy = false;
	conn_undefer(c);
}

long conn_feed(struct conn *c, const uint8_t *data, size_t len)
{
	size_t used = 0;

	while (used < len && !c->closing && !conn_paused(c)) {
		size_t n, avail = len - used;

		if (c->skip) {
			n = avail < c->skip ? avail : c->skip;
			c->skip -= (uint32_t)n;
		} else if (c->hgot < sizeof(c->hbuf)) {
			n = sizeof(c->hbuf) - c->hgot;
			n = n < avail ? n : avail;
			memcpy(c->hbuf + c->hgot, data + used, n);
			c->hgot += (uint32_t)n;
			if (c->hgot == sizeof(c->hbuf) && conn_header_done(c))
				return -EPROTO;
		} else {
			n = c->hdr.len - c->pgot;
			n = n < avail ? n : avail;
			memcpy(c->payload + c->pgot, data + used, n);
			c->pgot += (uint32_t)n;
		}
		used += n;
		if (!c->skip && c->hgot == sizeof(c->hbuf) && c->pgot == c->hdr.len)
			conn_request_done(c);
	}
	return (long)used;
}

int conn_send(struct conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
	      const void *body, uint32_t len)
{
	struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = len };
	struct outmsg *m;

	if (c->closing)
		return 0;
	m = malloc(sizeof(*m) + sizeof(h) + len);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->len = (uint32_t)sizeof(h) + len;
	m->off = 0;
	m->reply = type != XS_WATCH_EVENT;
	memcpy(m->data, &h, sizeof(h));
	if (len)
		memcpy(m->data + sizeof(h), body, len);
	if (c->busy && !m->reply) {
		if (c->dt)
			c->dt->next = m;
		else
			c->dh = m;
		c->dt = m;
		return 0;
	}
	conn_enqueue(c, m);
	if (c->obytes > (unsigned long)quota_limit(c->d, c->who.domid, Q_OUTPUT)) {
		quota_refuse(c->d, c->who.domid, Q_OUTPUT, -ENOSPC);
		conn_close(c);
		return -ENOSPC;
	}
	if (c->tp && c->tp->kick)
		c->tp->kick(c);
	return 0;
}

const char *xs_errname(int err)
{
	size_t i;

	for (i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
		if (xsd_errors[i].errnum == -err)
			return xsd_errors[i].errstring;
	return "EINVAL";
}

int conn_send_error(struct conn *c, const struct xsd_sockmsg *req, int err)
{
	const char *name = xs_errname(err);

	return conn_send(c, XS_ERROR, req->req_id, req->tx_id, name,
			 (uint32_t)strlen(name) + 1);
}

int conn_send_event(struct conn *c, const char *path, const char *token)
{
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
	char buf[XENSTORE_PAYLOAD_MAX];

	if (pl + tl > sizeof(buf))
		return -E2BIG;
	memcpy(buf, path, pl);
	memcpy(buf + pl, token, tl);
	return conn_send(c, XS_WATCH_EVENT, 0, 0, buf, (uint32_t)(pl + tl));
}

const uint8_t *conn_out_front(const struct conn *c, size_t *len)
{
	if (!c->oh) {
		*len = 0;
		return NULL;
	}
	*len = c->oh->len - c->oh->off;
	return c->oh->data + c->oh->off;
}

void conn_out_advance(struct conn *c, size_t n)
{
	while (n) {
		struct outmsg *m = c->oh;
		size_t k = m->len - m->off < n ? m->len - m->off : n;

		m->off += (uint32_t)k;
		c->obytes -= k;
		n -= k;
		if (m->off < m->len)
			return;
		c->oh = m->next;
		if (!c->oh)
			c->ot = NULL;
		c->oreplies -= m->reply;
		free(m);
	}
}

int conn_out_iov(const struct conn *c, struct iovec *v, int max)
{
	const struct outmsg *m;
	int n = 0;

	for (m = c->oh; m && n < max; m = m->next, n++) {
		v[n].iov_base = (void *)(m->data + m->off);
		v[n].iov_len = m->len - m->off;
	}
	return n;
}
