/*
 * multi_crash (the initial domain A = 0 and one --domu copy B = 1 with
 * "role=1"): one domain's crash leaves the others running. A offers B a
 * port (port 2, after VIRQ_TIMER); B binds it, sends one event, prints its
 * verdict and ends with SHUTDOWN_crash on purpose. A receives the event,
 * waits until B is gone (its end of the channel is no longer interdomain,
 * or 1 s passes: Xen without a toolstack keeps a crashed domain's channels
 * until it is destroyed), checks that sending to the dead peer does not
 * fail it, keeps running (20 timer sleeps of 10 ms) and powers off last, so
 * the machine's status is A's poweroff. The status printed for A's port
 * after B's crash is informational (unbound once B's channels are closed).
 */
#include "multi.h"

#define MS 1000000ULL

static long tport;

static void role_a(void)
{
    evtchn_status_t st;
    uint64_t t0, end;
    long p;
    int i;

    TEST("A: offer a port to B and wait for its event");
    p = evt_alloc_unbound(1);
    EXPECT_EQ(p, 2);
    if (p <= 0)
        return;
    EXPECT(evt_wait((evtchn_port_t)p, 1, 10000 * MS));

    TEST("A: B crashes; A goes on");
    end = evt_now() + 1000 * MS;
    do {
        evt_sleep_until(tport, evt_now() + 10 * MS);
        EXPECT_EQ(evt_status(DOMID_SELF, (evtchn_port_t)p, &st), 0);
    } while (st.status == EVTCHNSTAT_interdomain && evt_now() < end);
    guest_printf("     A's port after B's crash: status %u (%s)\n", st.status,
                 st.status == EVTCHNSTAT_unbound ? "unbound" :
                 st.status == EVTCHNSTAT_interdomain ? "still interdomain" : "other");
    EXPECT(st.status == EVTCHNSTAT_unbound || st.status == EVTCHNSTAT_interdomain);
    EXPECT_EQ(evt_send((evtchn_port_t)p), 0);
    t0 = evt_now();
    for (i = 0; i < 20; i++)
        evt_sleep_until(tport, evt_now() + 10 * MS);
    EXPECT(evt_now() - t0 >= 200 * MS);
    guest_printf("     A: 20 sleeps of 10 ms after the crash took %lu ms\n",
                 (unsigned long)((evt_now() - t0) / MS));
}

static void role_b(void)
{
    uint64_t end = evt_now() + 10000 * MS;
    long p;

    TEST("B: bind A's port, signal, then crash on purpose");
    do {
        p = evt_bind_interdomain(0, 2);
        if (p <= 0)
            hyp_sched_op(SCHEDOP_yield, NULL);
    } while (p <= 0 && evt_now() < end);
    EXPECT(p > 0);
    if (p > 0)
        EXPECT_EQ(evt_send((evtchn_port_t)p), 0);
    guest_shutdown_reason = SHUTDOWN_crash;
}

void test_main(void)
{
    if (!multi_setup(NULL, 0))
        return;
    tport = evt_timer_only();  /* 1 in A; B, a domU, has its console on 1 */
    if (tport > 0)
        multi_roles(1, role_a, role_b);
}
