/*
 * bench_evt: single-domain event and timer benchmark (make bench-hv; issue
 * 4), run on pvkit and on Xen 4.17.
 *   - evtchn_loopback_rtt: a port pair bound to ourselves (bench_evt.h);
 *     one round trip = send on A, the callback handles B and sends on B,
 *     the callback handles A. Cycles (and ns) per round trip, mean over
 *     LB_ROUNDS after LB_WARMUP.
 *   - timer_jitter_mean / timer_jitter_max: JIT_TIMERS single-shot timers
 *     (VCPUOP_set_singleshot_timer) each 1 ms after arming, the vCPU
 *     sleeping in SCHEDOP_block until VIRQ_TIMER; lateness = pvclock time at
 *     which the callback saw the event minus the deadline, in µs.
 * It checks that nothing fired early (beyond 50 µs) and ends with a verdict.
 */
#include "bench_evt.h"

#define LB_WARMUP  500
#define LB_ROUNDS  10000
#define JIT_TIMERS 200
#define MS         1000000ULL

static evtchn_port_t tport;
static volatile uint64_t timer_seen_at;

/* The loopback echo, plus the timer's arrival time. */
static void hook(unsigned int port, unsigned int cpu)
{
    if (port == tport)
        timer_seen_at = evt_now();
    else
        bench_lb_hook(port, cpu);
}

static void bench_timer_jitter(void)
{
    uint64_t sum = 0, max = 0;
    unsigned int early = 0, lost = 0;

    TEST("timer jitter: 200 single-shot timers 1 ms apart, blocking between");
    for (int i = 0; i < JIT_TIMERS; i++) {
        unsigned int want = evt_count[tport] + 1;
        uint64_t deadline = evt_now() + MS;
        struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = deadline };
        int64_t late;

        if (hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t) != 0) {
            lost++;
            break;
        }
        for (;;) {
            evt_disable();
            if (evt_count[tport] >= want || evt_now() > deadline + 1000 * MS)
                break;
            hyp_sched_op(SCHEDOP_block, NULL);
        }
        evt_enable();
        if (evt_count[tport] < want) {
            lost++;
            continue;
        }
        late = (int64_t)(timer_seen_at - deadline);
        if (late < -50000)
            early++;
        if (late < 0)
            late = 0;
        sum += (uint64_t)late;
        if ((uint64_t)late > max)
            max = (uint64_t)late;
    }
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(early, 0);
    bench_print_milli("timer_jitter_mean", sum / JIT_TIMERS, "us");
    bench_print_milli("timer_jitter_max", max, "us");
}

void test_main(void)
{
    uint64_t total;
    long tp;

    if (!evt_setup("setup: shared_info, event callback, VIRQ_TIMER, loopback pair"))
        return;
    bench_tsc_init(evt_shared);
    tp = evt_timer_only();
    if (tp <= 0)
        return;
    tport = (evtchn_port_t)tp;
    EXPECT_EQ(bench_lb_setup(), 0);
    evt_hook = hook;

    TEST("event loopback round trip");
    EXPECT(bench_lb_run(LB_WARMUP) != 0);
    total = bench_lb_run(LB_ROUNDS);
    EXPECT(total != 0);
    if (total)
        bench_report_cost("evtchn_loopback_rtt", total, LB_ROUNDS);

    bench_timer_jitter();
    evt_disable();
}
