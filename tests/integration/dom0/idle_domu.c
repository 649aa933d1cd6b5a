/*
 * idle_domu: a PV test kernel that stays up doing nothing, for the pvkit
 * command's checks in dom0 (pvkit-check.sh): an unprivileged domain to
 * list, pause, unpause, read statistics of and destroy. It prints
 * "idle_domu: up", then sleeps (SCHEDOP_block with its timer armed a
 * second ahead, waiting on an unbound port nobody signals) until `wait=` seconds (command line, default 600)
 * have passed, and powers off.
 */
#include "evt/evt.h"

#define SECOND 1000000000ULL

void test_main(void)
{
    long port;

    TEST("idle_domu: stays up");
    EXPECT_EQ(evt_init(), 0);
    EXPECT(evt_timer_port() > 0);
    port = evt_alloc_unbound(0);
    EXPECT(port > 0);
    if (port <= 0)
        return;
    uint64_t end = evt_now() + (uint64_t)evt_cmdline_num("wait", 600) * SECOND;
    guest_printf("idle_domu: up\n");
    while (evt_now() < end)
        evt_block_until((evtchn_port_t)port, 1, SECOND, NULL);
}
