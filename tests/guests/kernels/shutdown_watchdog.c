/*
 * shutdown_watchdog: ends with SCHEDOP_shutdown(SHUTDOWN_watchdog) after a passing
 * check, so the runner can verify that the hypervisor turns this shutdown
 * reason into the matching launcher status.
 */
#include "guest.h"

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    TEST("shutdown with SHUTDOWN_watchdog");
    EXPECT(hyp_xen_version(XENVER_version, NULL) > 0);
    guest_shutdown_reason = SHUTDOWN_watchdog;
}
