/*
 * xbstate.h - the XenbusState machine shared by frontends and backends.
 *
 * The states are Xen's enum xenbus_state (xen/io/xenbus.h).  The functions
 * here are pure (freestanding, no libc) and decide, for one end, what the
 * next state is given the other end's state, so both the C backends and the
 * freestanding frontends follow the same table (docs/linux-pv-interface.md §3.2).
 */
#ifndef PVK_XBSTATE_H
#define PVK_XBSTATE_H

#include "pvk_abi.h"

/* Short name of a state ("InitWait"); "Invalid" for out-of-range values. */
const char *xbstate_name(int state);

/* Parses a decimal state value as read from xenstore; -1 if not a state. */
int xbstate_parse(const char *s, unsigned len);

/*
 * What a backend does when it sees the frontend in `fe` while itself in
 * `be`.  Returns one of the XBACT_* actions below.
 */
enum xbact {
    XBACT_NONE,        /* nothing to do                                   */
    XBACT_CONNECT,     /* map rings, bind channels, publish, go Connected */
    XBACT_CLOSING,     /* tear down the data path and go Closing          */
    XBACT_CLOSED,      /* tear down the data path and go Closed           */
    XBACT_RESET,       /* frontend restarted: back to InitWait            */
};
enum xbact xbstate_backend_action(int be, int fe);

#endif
