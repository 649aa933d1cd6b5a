/*
 * conn: one client connection, independent of its transport.
 *
 * Input arrives as a byte stream (conn_feed) and is framed into xsd_sockmsg
 * requests that are handled one at a time, in order. Output (replies and
 * watch events) is queued as whole messages; the transport drains the queue
 * with conn_out_front/conn_out_advance when it can. Invariants: a request is
 * dispatched only when its full payload is present; payload[len] is always a
 * NUL so handlers may use string functions; a connection never has more
 * than Q_OUTSTANDING unread replies queued before its input is paused.
 */
#ifndef XSL_CONN_H
#define XSL_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "wire.h"
#include "perms.h"
#include "xsd.h"

struct conn;
struct watch;
struct txn;

struct transport {
	/* Output was queued: send what the transport can now. */
	void (*kick)(struct conn *c);
	/* c must go: arrange for conn_destroy to be called soon, outside the
	 * current request (NULL: the owner polls c->closing). */
	void (*close)(struct conn *c);
	/* The daemon is destroying c: release transport resources. */
	void (*destroy)(struct conn *c);
};

struct outmsg {
	struct outmsg *next;
	uint32_t len, off;
	bool reply;
	uint8_t data[];
};

struct conn {
	struct xsd *d;
	struct conn *next, *prev;
	struct principal who;
	char home[32];
	const struct transport *tp;
	void *tp_data;
	bool strict;		/* ring: protocol violations are fatal */
	bool closing;		/* transport asked to go away */
	/* input framing */
	uint8_t hbuf[sizeof(struct xsd_sockmsg)];
	uint32_t hgot, pgot, skip;
	struct xsd_sockmsg hdr;
	uint8_t payload[XENSTORE_PAYLOAD_MAX + 1];
	/* output queue; while a request is handled (busy), events for this
	 * connection wait in the deferred list so the reply goes out first */
	bool busy;
	struct outmsg *dh, *dt;
	struct outmsg *oh, *ot;
	size_t obytes;
	unsigned oreplies;
	/* per-connection state */
	struct watch *watches;
	unsigned nwatches;
	struct txn *txns;
	unsigned ntxns;
	uint32_t next_txid;
};

/* Create a connection for domid (privileged if domid is 0) on transport tp.
 * NULL on -ENOMEM. */
struct conn *conn_new(struct xsd *d, unsigned domid, const struct transport *tp,
		      void *tp_data);
/* Drop watches and transactions, free queued output, tell the transport. */
void conn_destroy(struct conn *c);
/* Forget all of c's state (watches, transactions, partial input, queued
 * output), as a ring reconnection requires; c stays connected. */
void conn_reset(struct conn *c);
/* Mark c closing (no further input is handled) and ask the transport to
 * destroy it once the current request is finished. */
void conn_close(struct conn *c);
/* Consume up to len input bytes, dispatching complete requests. Returns the
 * number of bytes consumed (less than len when input is paused because too
 * many replies are unread), or -EPROTO on a fatal violation of a strict
 * connection. */
long conn_feed(struct conn *c, const uint8_t *data, size_t len);
/* True while input is paused for unread replies. */
bool conn_paused(const struct conn *c);

/* Queue a message; body may be NULL when len is 0. Returns 0, or -ENOMEM.
 * If the queue exceeds Q_OUTPUT the connection is marked closing. */
int conn_send(struct conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
	      const void *body, uint32_t len);
/* Queue an XS_ERROR reply naming -err as xs_wire.h spells it. */
int conn_send_error(struct conn *c, const struct xsd_sockmsg *req, int err);
/* Queue a watch event. */
int conn_send_event(struct conn *c, const char *path, const char *token);
/* Bytes at the head of the output queue (NULL if empty). */
const uint8_t *conn_out_front(const struct conn *c, size_t *len);
/* Mark n bytes of queued output sent (may span messages). */
void conn_out_advance(struct conn *c, size_t n);
/* Describe up to max queued messages as iovecs; returns how many. */
int conn_out_iov(const struct conn *c, struct iovec *v, int max);

/* errno name as xs_wire.h spells it ("EINVAL" for anything unknown). */
const char *xs_errname(int err);

#endif
