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
 * oversized message: PROTO) is marked in error and no longer served.
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
/* Move everything that can move in both directions; call on every event
 * from the guest. (Output queued by other connections' requests, such as
 * watch events, is pushed and notified at once; what did not fit waits for
 * the guest to consume and notify.) Handles a guest-requested reconnection.
 * Returns 0, or -EIO once the ring is broken or the connection was closed. */
int ring_service(struct ring_conn *r);
/* Destroy the connection and forget the ring. */
void ring_detach(struct ring_conn *r);

#endif
