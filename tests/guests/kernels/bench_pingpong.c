/*
 * bench_pingpong: event round trip between two domains and the cost of a
 * switch between them (make bench-hv; issue 4). pvkit only: the initial
 * domain A = 0 and a --domu copy B = 1 ("role=1 port=P").
 *   - A first times its own loopback round trip (bench_evt.h).
 *   - A offers port P to B; B binds it (retrying with SCHEDOP_yield), clears
 *     the bind-time pending bit and sends one "ready" event. Then A sends,
 *     B wakes from SCHEDOP_block and sends back, A wakes from its block:
 *     evtchn_interdomain_rtt = cycles per round trip over PP_ROUNDS after
 *     PP_WARMUP. Each side blocks between events with one long single-shot
 *     timer as a safety deadline (armed once, not per round).
 *   - domain_switch = (interdomain RTT - loopback RTT) / 2: a round trip
 *     between domains does what the loopback does (two sends, two upcalls)
 *     plus two block-and-wake switches.
 * Both domains print verdicts; A prints the numbers.
 */
#include "bench_evt.h"

#define LB_ROUNDS  5000
#define PP_WARMUP  50
#define PP_ROUNDS  1000
#define SEC        1000000000ULL

static uint64_t deadline;

/* Blocks until evt_count[PORT] >= TARGET; 0 if the deadline passed. */
static int block_for(evtchn_port_t port, unsigned int target)
{
    int ok;

    for (;;) {
        evt_disable();
        ok = evt_count[port] >= target;
        if (ok || evt_now() >= deadline)
            break;
        hyp_sched_op(SCHEDOP_block, NULL);
    }
    evt_enable();
    return ok;
}

static void arm_deadline(void)
{
    struct vcpu_set_singleshot_timer t;

    deadline = evt_now() + 60 * SEC;
    t.timeout_abs_ns = deadline;
    t.flags = 0;
    hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
}

static void role_a(void)
{
    uint64_t lb, t0 = 0, pp = 0;
    long p;
    unsigned int i;

    TEST("A: loopback round trip");
    EXPECT_EQ(bench_lb_setup(), 0);
    EXPECT(bench_lb_run(500) != 0);
    lb = bench_lb_run(LB_ROUNDS);
    EXPECT(lb != 0);

    TEST("A: ping-pong with B");
    p = evt_alloc_unbound(1);
    EXPECT_EQ(p, evt_cmdline_num("port", 4));
    if (p <= 0)
        return;
    arm_deadline();
    EXPECT(block_for((evtchn_port_t)p, 1));            /* B is ready */
    for (i = 0; i < PP_WARMUP + PP_ROUNDS; i++) {
        if (i == PP_WARMUP)
            t0 = bench_rdtsc();
        if (evt_send((evtchn_port_t)p) != 0 || !block_for((evtchn_port_t)p, i + 2))
            break;
    }
    if (i == PP_WARMUP + PP_ROUNDS)
        pp = bench_rdtsc() - t0;
    hyp_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL);
    EXPECT_EQ(i, PP_WARMUP + PP_ROUNDS);
    if (!pp || !lb)
        return;
    bench_report_cost("evtchn_interdomain_rtt", pp, PP_ROUNDS);
    uint64_t pp_m = pp * 1000 / PP_ROUNDS, lb_m = lb * 1000 / LB_ROUNDS;
    bench_report_cost("domain_switch", pp_m > lb_m ? (pp_m - lb_m) / 2 : 0, 1000);
}

static void role_b(void)
{
    evtchn_port_t pa = (evtchn_port_t)evt_cmdline_num("port", 4);
    long pb = -1;
    unsigned int i;

    TEST("B: bind A's port and bounce its events");
    arm_deadline();
    evt_disable();
    while (evt_now() < deadline) {
        pb = evt_bind_interdomain(0, pa);
        if (pb > 0)
            break;
        hyp_sched_op(SCHEDOP_yield, NULL);
    }
    EXPECT(pb > 0);
    if (pb > 0)
        evt_clear_pending((evtchn_port_t)pb);
    evt_enable();
    if (pb <= 0)
        return;
    EXPECT_EQ(evt_send((evtchn_port_t)pb), 0);
    for (i = 1; i <= PP_WARMUP + PP_ROUNDS; i++)
        if (!block_for((evtchn_port_t)pb, i) || evt_send((evtchn_port_t)pb) != 0)
            break;
    hyp_vcpu_op(VCPUOP_stop_singleshot_timer, 0, NULL);
    EXPECT_EQ(i, PP_WARMUP + PP_ROUNDS + 1);
}

void test_main(void)
{
    long role = evt_cmdline_num("role", 0);

    if (!evt_setup("setup: shared_info, event callback, VIRQ_TIMER"))
        return;
    if (role == 0)
        bench_tsc_init(evt_shared);
    evt_timer_only();
    evt_enable();
    if (role == 0)
        role_a();
    else
        role_b();
    evt_disable();
}
