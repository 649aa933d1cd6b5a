/*
 * The frame of the two-role multi-domain kernels (multi_domctl,
 * multi_destroy_*, multi_dying_wallclock, multi_console_takeover,
 * multi_crash, multi_grant): the runner boots one image as the initial
 * domain (role A: no role= or role=0 on the command line) and as domUs
 * (role B: role=1 or more), and test_main is the same setup and dispatch in
 * each.
 */
#ifndef GUEST_MULTI_H
#define GUEST_MULTI_H

#include "evt/evt.h"
#include "pt.h"

/*
 * The "setup" group: evt_init (one check), then pt_pool_init(POOL, N) unless
 * POOL is NULL. Returns 1 if shared_info is mapped (the roles can run), 0 if
 * not (nothing else was done).
 */
static inline int multi_setup(void *pool, unsigned int n)
{
    if (!evt_setup("setup"))
        return 0;
    if (pool)
        pt_pool_init(pool, n);
    return 1;
}

/*
 * Runs ROLE_A if our command line has role=0 (or none), else ROLE_B; with
 * event delivery enabled around it (evt_enable/evt_disable) if EVENTS.
 */
static inline void multi_roles(int events, void (*role_a)(void), void (*role_b)(void))
{
    if (events)
        evt_enable();
    if (evt_cmdline_num("role", 0) == 0)
        role_a();
    else
        role_b();
    if (events)
        evt_disable();
}

#endif
