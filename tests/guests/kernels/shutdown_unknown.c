/*
 * shutdown_unknown: ends with SCHEDOP_shutdown and reason 99, which no
 * SHUTDOWN_* code names. Xen 4.17 does not refuse it: the domain ends as a
 * shutdown "(unknown reason 99)". pvkit must do the same and report it as
 * "other shutdown reason" (launcher status 12).
 */
#include "guest.h"

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    TEST("shutdown with an unknown reason");
    EXPECT(hyp_xen_version(XENVER_version, NULL) > 0);
    guest_shutdown_reason = 99;
}
