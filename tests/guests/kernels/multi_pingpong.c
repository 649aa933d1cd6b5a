/*
 * multi_pingpong (three domains: the initial domain A = 0 and two --domu
 * copies of this kernel, B = 1 with "role=1 port=P" and C = 2 with
 * "role=2 port=P"): event channels between domains.
 *
 * A offers an unbound port to B (alloc_unbound remote_dom = 1; in a fresh
 * domain, after VIRQ_TIMER on port 1, it is port P = 2), then one to C. B binds the
 * first with bind_interdomain (retrying after SCHEDOP_yield until A has
 * created it) and the two exchange ROUNDS events, each side sleeping in
 * SCHEDOP_block between them; both check the counts and B prints the mean
 * round trip. Hostile: C first binds the port offered to it (which proves
 * A has created both) and then must fail to bind the one offered to B;
 * B must fail to bind the one offered to C; an unprivileged domain may
 * not allocate ports in, or read the status of, another domain's ports;
 * sending on a port one does not have fails. Each domain prints its own
 * verdict (tests/guests/run expects one per domain, all passing).
 */
#include "evt/evt.h"

#define MS 1000000ULL
#define DOM_A 0
#define DOM_B 1
#define DOM_C 2

static long rounds;

/* Binds (REMOTE, PORT), retrying with SCHEDOP_yield for up to 10 s while
 * the remote end does not exist yet; the last result. */
static long bind_retry(domid_t remote, evtchn_port_t port)
{
    uint64_t end = evt_now() + 10000 * MS;
    long rc;

    do {
        rc = evt_bind_interdomain(remote, port);
        if (rc > 0)
            break;
        hyp_sched_op(SCHEDOP_yield, NULL);
    } while (evt_now() < end);
    return rc;
}

static void role_a(void)
{
    long pb, pc;
    unsigned long blocks = 0;
    evtchn_status_t st;
    int i;

    TEST("A: offer ports to B and C");
    pb = evt_alloc_unbound(DOM_B);
    guest_printf("     port for B: %ld\n", pb);
    EXPECT_EQ(pb, evt_cmdline_num("port", 2));   /* after VIRQ_TIMER = 1 */
    pc = evt_alloc_unbound(DOM_C);
    EXPECT(pc > 0 && pc != pb);
    if (pb <= 0)
        return;
    /* B runs on another CPU at the same time and may have bound it already. */
    EXPECT_EQ(evt_status(DOMID_SELF, (evtchn_port_t)pb, &st), 0);
    EXPECT(st.status == EVTCHNSTAT_unbound || st.status == EVTCHNSTAT_interdomain);
    EXPECT_EQ(st.status == EVTCHNSTAT_unbound ? st.u.unbound.dom : st.u.interdomain.dom,
              DOM_B);

    TEST("A: ping-pong with B, blocking between events");
    for (i = 1; i <= rounds; i++) {
        if (!evt_block_until((evtchn_port_t)pb, (unsigned int)i, 10000 * MS, &blocks))
            break;
        if (evt_send((evtchn_port_t)pb) != 0)
            break;
    }
    EXPECT_EQ(i, rounds + 1);
    EXPECT_EQ(evt_count[pb], rounds);
    EXPECT(blocks >= 1);
    guest_printf("     A: %u events from B, %lu blocks\n", evt_count[pb], blocks);
    EXPECT_EQ(evt_status(DOMID_SELF, (evtchn_port_t)pb, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_interdomain);
    EXPECT_EQ(st.u.interdomain.dom, DOM_B);

    TEST("A: C's port (bound by C, which then signals once)");
    EXPECT(evt_block_until((evtchn_port_t)pc, 1, 10000 * MS, NULL));
    EXPECT_EQ(evt_status(DOMID_SELF, (evtchn_port_t)pc, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_interdomain);
    EXPECT_EQ(st.u.interdomain.dom, DOM_C);
}

static void role_b(void)
{
    evtchn_port_t pa = (evtchn_port_t)evt_cmdline_num("port", 2);
    unsigned long blocks = 0;
    uint64_t t0, t1;
    long pb;
    int i;

    TEST("B: bind the port A offered (retrying until it exists)");
    /* Xen marks a new interdomain port pending at bind: not a ping, so
     * events stay masked until that bit is cleared. */
    evt_disable();
    pb = bind_retry(DOM_A, pa);
    EXPECT(pb > 0);
    if (pb <= 0)
        return;
    EXPECT(evt_is_pending((evtchn_port_t)pb));
    evt_clear_pending((evtchn_port_t)pb);
    evt_enable();
    EXPECT_EQ(evt_count[pb], 0);

    TEST("B: ping-pong with A, blocking between events");
    t0 = evt_now();
    for (i = 1; i <= rounds; i++) {
        if (evt_send((evtchn_port_t)pb) != 0)
            break;
        if (!evt_block_until((evtchn_port_t)pb, (unsigned int)i, 10000 * MS, &blocks))
            break;
    }
    t1 = evt_now();
    EXPECT_EQ(i, rounds + 1);
    EXPECT_EQ(evt_count[pb], rounds);
    guest_printf("     B: %u replies, %lu blocks, mean round trip %lu us\n",
                 evt_count[pb], blocks, (unsigned long)((t1 - t0) / 1000 / (rounds ? rounds : 1)));

    TEST("B hostile: C's port, foreign ports, other domains' state");
    evtchn_status_t st;
    EXPECT_EQ(evt_bind_interdomain(DOM_A, pa + 1), -XEN_EINVAL);  /* offered to C */
    EXPECT_EQ(evt_bind_interdomain(DOM_A, pa), -XEN_EINVAL);      /* already bound */
    EXPECT_EQ(evt_send(300), -XEN_EINVAL);
    EXPECT_EQ(evt_status(DOM_A, pa, &st), -XEN_EPERM);
    struct evtchn_alloc_unbound au = { .dom = DOM_A, .remote_dom = DOM_B };
    EXPECT_EQ(hyp_evtchn_op(EVTCHNOP_alloc_unbound, &au), -XEN_EPERM);
    EXPECT_EQ(evt_bind_interdomain(9, 1), -XEN_ESRCH);
}

static void role_c(void)
{
    evtchn_port_t pa = (evtchn_port_t)evt_cmdline_num("port", 2);
    long pc;

    TEST("C: bind the port A offered to C (so both of A's ports exist)");
    pc = bind_retry(DOM_A, pa + 1);
    EXPECT(pc > 0);

    TEST("C hostile: bind the port A offered to B");
    EXPECT_EQ(evt_bind_interdomain(DOM_A, pa), -XEN_EINVAL);
    EXPECT_EQ(evt_bind_interdomain(DOM_B, 1), -XEN_EINVAL);
    if (pc > 0)
        EXPECT_EQ(evt_send((evtchn_port_t)pc), 0);
}

void test_main(void)
{
    long role = evt_cmdline_num("role", 0);

    rounds = evt_cmdline_num("rounds", 100);
    guest_printf("     role %ld, rounds %ld\n", role, rounds);
    if (!evt_setup("setup: shared_info, event callback, VIRQ_TIMER"))
        return;
    evt_timer_only();
    evt_enable();
    if (role == 0)
        role_a();
    else if (role == 1)
        role_b();
    else
        role_c();
    evt_disable();
}
