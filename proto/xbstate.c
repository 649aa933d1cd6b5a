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
#define XB(state) (1u << XenbusState##state)

/* For each frontend state: the backend states it moves the backend from, and the action that does it. */
static const struct { unsigned from; enum xbact act; } reaction[] = {
    [XenbusStateUnknown]      = { XB(Connected) | XB(InitWait) | XB(Closing), XBACT_CLOSED },
    [XenbusStateInitialising] = { XB(Closed) | XB(Closing), XBACT_RESET },
    [XenbusStateInitialised]  = { XB(InitWait), XBACT_CONNECT },
    [XenbusStateConnected]    = { XB(InitWait), XBACT_CONNECT },
    [XenbusStateClosing]      = { XB(Connected) | XB(InitWait), XBACT_CLOSING },
    [XenbusStateClosed]       = { XB(Connected) | XB(InitWait) | XB(Closing), XBACT_CLOSED },
};

enum xbact xbstate_backend_action(int be, int fe)
{
    if (fe < 0 || fe >= (int)(sizeof(reaction) / sizeof(reaction[0])) ||
        be < 0 || be > XenbusStateReconfigured)
        return XBACT_NONE;
    return (reaction[fe].from & (1u << be)) ? reaction[fe].act : XBACT_NONE;
}
