/*
 * ring: the domain-ring transport (struct xenstore_domain_interface of
 * xs_wire.h), server side.
 *
 * The guest produces requests into req[] and consumes replies and watch
 * events from rsp[]; indices are free-running and masked. Messages may be
 * split anywhere, and the guest notifies only sometimes (Linux notifies only
 * when the server had caught up), so ring_service drains until nothing more
 * can move. Invariants: the server writes only req_cons, rsp_prod,
 * server_features, connection (on reconnect) and error; every index read
 * from the page is checked before use; a broken ring (bad indices: RINGIDX;
 * oversized message: PROTO) is marked in error and no longer served, and
 * its connection's watches, transactions and queued output are dropped (as
 * xenstored's ignore_connection) the next time ring_service runs; one
 * ring_service call takes at most RING_BUDGET request bytes, so a guest
 * that keeps its ring full cannot keep the daemon from other domains.
 */
#ifndef XSL_RING_H
#define XSL_RING_H

#include <stdbool.h>
#include "wire.h"
#include "xsd.h"

struct ring_conn;

/* Serve domid through the ring page intf; notify(arg) signals the guest's
 * event channel. Sets server_features. NULL on -ENOMEM. */
struct ring_conn *ring_attach(struct xsd *d, unsigned domid,
			      struct xenstore_domain_interface *intf,
			      void (*notify)(void *arg), void *arg);
/* Request bytes one ring_service call takes at most. */
#define RING_BUDGET (4 * XENSTORE_RING_SIZE)

/* Move what can move in both directions, up to RING_BUDGET request bytes;
 * call on every event from the guest. (Output queued by other connections'
 * requests, such as watch events, is pushed and notified at once; what did
 * not fit waits for the guest to consume and notify.) Handles a
 * guest-requested reconnection. Returns 0 when nothing more can move, 1
 * when the budget ran out with input left (call again later), -EIO once
 * the ring is broken or the connection was closed. */
int ring_service(struct ring_conn *r);
/* Forget the connection's state and empty the ring (indices zeroed, error
 * cleared, CONNECTED), as a guest's reconnection or a re-INTRODUCE does. */
void ring_reset(struct ring_conn *r);
/* Destroy the connection and forget the ring. */
void ring_detach(struct ring_conn *r);

#endif
