/*
 * xbstate.c - the XenbusState table: names and the backend's reaction to
 * its frontend's state.  Pure functions with no libc use, so the freestanding
 * frontends link this file too.
 */
#include "xbstate.h"

static const char *const state_names[] = {
    "Unknown", "Initialising", "InitWait", "Initialised", "Connected",
    "Closing", "Closed", "Reconfiguring", "Reconfigured",
};

/* Contract: any int in, a static string out. */
const char *xbstate_name(int state)
{
    if (state < 0 || state > XenbusStateReconfigured)
        return "Invalid";
    return state_names[state];
}

/* Contract: `s` holds `len` bytes of decimal digits naming a state 0..8. */
int xbstate_parse(const char *s, unsigned len)
{
    int v = 0;

    if (len == 0 || len > 2)
        return -1;
    for (unsigned i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= XenbusStateReconfigured ? v : -1;
}

/*
 * Contract: `be` is the backend's current state, `fe` the frontend's just
 * read.  The backend connects once the frontend has published its rings
 * (Initialised, or Connected as netfront does), follows the frontend to
 * Closing and to Closed (a vanished frontend counts as Closed), and returns to InitWait when a frontend comes back to
 * Initialising after a close (reconnect, docs/linux-pv-interface.md §3.2 step 6).
 */
enum xbact xbstate_backend_action(int be, int fe)
{
    switch (fe) {
    case XenbusStateInitialising:
        if (be == XenbusStateClosed || be == XenbusStateClosing)
            return XBACT_RESET;
        return XBACT_NONE;
    case XenbusStateInitialised:
    case XenbusStateConnected:
        if (be == XenbusStateInitWait)
            return XBACT_CONNECT;
        return XBACT_NONE;
    case XenbusStateClosing:
        if (be == XenbusStateConnected || be == XenbusStateInitWait)
            return XBACT_CLOSING;
        return XBACT_NONE;
    case XenbusStateClosed:
    case XenbusStateUnknown:
        if (be == XenbusStateConnected || be == XenbusStateInitWait ||
            be == XenbusStateClosing)
            return XBACT_CLOSED;
        return XBACT_NONE;
    default:
        return XBACT_NONE;
    }
}
