/*
 * ops: the request handlers, one per xs_wire.h message type.
 *
 * ops_dispatch always queues exactly one reply for a request: the result,
 * or an XS_ERROR naming the errno. WATCH additionally queues the watch's
 * initial event after its ack. Unknown types get EINVAL.
 */
#ifndef XSL_OPS_H
#define XSL_OPS_H

#include "conn.h"

/* GET_QUOTA / SET_QUOTA are newer than the installed 4.17 xs_wire.h; these
 * are the numbers later Xen releases assign (xenstore.txt: 25 and 26), used
 * only if the header lacks them. */
#ifndef XS_GET_QUOTA
#define XSL_GET_QUOTA (XS_DIRECTORY_PART + 3)
#define XSL_SET_QUOTA (XS_DIRECTORY_PART + 4)
#else
#define XSL_GET_QUOTA XS_GET_QUOTA
#define XSL_SET_QUOTA XS_SET_QUOTA
#endif

/* Handle one complete request whose payload is NUL-terminated at len. */
void ops_dispatch(struct conn *c, const struct xsd_sockmsg *hdr, char *payload);

#endif
