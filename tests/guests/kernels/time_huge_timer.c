/*
 * time_huge_timer (run with --vcpus 2): a guest timer with an absurd period
 * or deadline must not stall anybody else.
 *
 * vCPU 1 (events masked, its VIRQ_TIMER and an IPI port bound and masked)
 * asks for periodic timers of 2^64-1, 2^63 and 2^62 ns (Xen 4.17 refuses a
 * period above STIME_DELTA_MAX = 2^62-1 with -EINVAL) and of 2^62-1 ns
 * (accepted: no event may follow), a single-shot deadline of INT64_MAX
 * (accepted, stopped again), set_timer_op(INT64_MAX) (Xen takes a deadline
 * more than 2^50 ns away as a wrapped Linux jiffy and fires in 100 ms), and
 * SCHEDOP_poll with a timeout of ~0 (a negative system time: in the past, so
 * it returns at once). Meanwhile vCPU 0 makes one cheap hypercall after
 * another and records the longest gap between two completions, from a
 * little before vCPU 1 starts until a second after it is done.
 *
 * How it fails: a hypervisor that computes now + period in 64 bits wraps
 * with 2^64-1 to a deadline just past, and a catch-up loop that adds one
 * period per iteration then runs about once per nanosecond of uptime in its
 * timer interrupt, holding the lock every hypercall needs (pvkit before the
 * fix: seconds). To make that certain the probe starts at >= 3 s of system
 * time. The bound: worst gap < 200 ms. A healthy run sees the time slice (10
 * ms, when the two vCPUs share a CPU) plus the host descheduling QEMU's vCPU
 * threads (2-15 ms bursts on a busy 2-CPU host, tests/guests/README), an
 * order of magnitude under it; the broken case is an order above it.
 */
#include "evt/evt.h"

#define MS 1000000ULL
#define START_AT (3000 * MS)     /* system time the probe waits for */
#define STALL_BOUND (200 * MS)
#define LEAD (200 * MS)          /* measured before vCPU 1 starts */
#define TAIL (1000 * MS)         /* measured after vCPU 1 is done */
#define GIVE_UP (30000 * MS)
#define POLL_RESCUE (2000 * MS)  /* vCPU 0 ends a poll that did not return */
#define INT64_MAX_NS 0x7fffffffffffffffULL

static const uint64_t periods[] = { ~0ULL, 1ULL << 63, 1ULL << 62, (1ULL << 62) - 1 };
#define NR_PERIODS (sizeof(periods) / sizeof(periods[0]))

static evtchn_port_t tport1, ipi1;
static volatile int ap_ready, go, polling, ap_done;
static volatile long period_rc[NR_PERIODS], sshot_rc, timer_op_rc, poll_rc, stop_rc;
static volatile int fired_after_accepted;         /* periodic 2^62-1 fired within 50 ms */
static volatile uint64_t timer_op_fire_ns, poll_ns;

static void set_period(unsigned int i)
{
    struct vcpu_set_periodic_timer p = { .period_ns = periods[i] };
    period_rc[i] = hyp_vcpu_op(VCPUOP_set_periodic_timer, 1, &p);
}

/* Spins (no hypercall) until PORT is pending or NS elapsed; returns the time waited. */
static uint64_t spin_until_pending(evtchn_port_t port, uint64_t ns)
{
    uint64_t t0 = evt_now(), t = t0;

    while (!evt_is_pending(port) && (t = evt_now()) - t0 < ns)
        __asm__ volatile("pause" ::: "memory");
    return t - t0;
}

/* vCPU 1: the hostile calls, results in the variables above; then down. */
void evt_ap_main(unsigned long cpu)
{
    struct vcpu_set_singleshot_timer s = { .timeout_abs_ns = INT64_MAX_NS };
    struct sched_poll p = { .nr_ports = 1, .timeout = ~0ULL };
    uint64_t t0;

    hyp_vcpu_op(VCPUOP_stop_periodic_timer, 1, NULL); /* Xen's default one */
    __atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&go, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause" ::: "memory");
    for (unsigned int i = 0; i + 1 < NR_PERIODS; i++)
        set_period(i);
    evt_clear_pending(tport1);
    set_period(NR_PERIODS - 1);
    fired_after_accepted = spin_until_pending(tport1, 50 * MS) < 50 * MS;
    stop_rc = hyp_vcpu_op(VCPUOP_stop_periodic_timer, 1, NULL);

    sshot_rc = hyp_vcpu_op(VCPUOP_set_singleshot_timer, 1, &s);
    hyp_vcpu_op(VCPUOP_stop_singleshot_timer, 1, NULL);

    evt_clear_pending(tport1);
    timer_op_rc = hyp_set_timer_op(INT64_MAX_NS);
    timer_op_fire_ns = spin_until_pending(tport1, 1000 * MS);
    hyp_set_timer_op(0);

    set_xen_guest_handle(p.ports, &ipi1);
    __atomic_store_n(&polling, 1, __ATOMIC_SEQ_CST);
    t0 = evt_now();
    poll_rc = hyp_sched_op(SCHEDOP_poll, &p);
    poll_ns = evt_now() - t0;
    __atomic_store_n(&ap_done, 1, __ATOMIC_SEQ_CST);
    for (;;)
        hyp_vcpu_op(VCPUOP_down, (unsigned int)cpu, NULL);
}

/*
 * vCPU 0: hypercall after hypercall, from LEAD before `go` until TAIL after
 * vCPU 1 is done (or GIVE_UP); returns the longest gap between completions.
 */
static uint64_t measure(uint64_t *elapsed, unsigned long *calls)
{
    uint64_t t0 = evt_now(), prev = t0, now = t0, worst = 0, done_at = 0, poll_seen = 0;
    int rescued = 0;

    *calls = 0;
    while (now - t0 < GIVE_UP) {
        hyp_xen_version(XENVER_version, NULL);
        now = evt_now();
        (*calls)++;
        if (now - prev > worst)
            worst = now - prev;
        prev = now;
        if (!go && now - t0 >= LEAD)
            __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
        if (polling && !poll_seen)
            poll_seen = now;
        if (poll_seen && !ap_done && !rescued && now - poll_seen >= POLL_RESCUE) {
            evt_send(ipi1);    /* the poll did not return by itself */
            rescued = 1;
        }
        if (ap_done && !done_at)
            done_at = now;
        if (done_at && now - done_at >= TAIL)
            break;
    }
    *elapsed = now - t0;
    return worst;
}

void test_main(void)
{
    uint64_t worst, elapsed;
    unsigned long calls;
    long t, i;

    if (!evt_setup("setup: vCPU 1 up, its VIRQ_TIMER and an IPI port bound and masked"))
        return;
    t = evt_bind_virq(VIRQ_TIMER, 1);
    i = evt_bind_ipi(1);
    EXPECT(t > 0);
    EXPECT(i > 0);
    if (t <= 0 || i <= 0)
        return;
    tport1 = (evtchn_port_t)t;
    ipi1 = (evtchn_port_t)i;
    evt_mask(tport1);
    evt_mask(ipi1);
    if (!EXPECT_EQ(evt_start_ap(1, &ap_ready), 0))
        return;
    while (evt_now() < START_AT)
        hyp_sched_op(SCHEDOP_yield, NULL);

    TEST("vCPU 1 sets absurd timers while vCPU 0 measures its worst stall");
    worst = measure(&elapsed, &calls);
    guest_printf("     system time at start %lu ms; %lu hypercalls in %lu ms, worst gap %lu us\n",
                 (unsigned long)(START_AT / MS), calls, (unsigned long)(elapsed / MS),
                 (unsigned long)(worst / 1000));
    EXPECT(ap_done);
    EXPECT(worst < STALL_BOUND);

    TEST("what each call answered");
    for (unsigned int k = 0; k < NR_PERIODS; k++)
        guest_printf("     set_periodic_timer(0x%lx): %ld\n", (unsigned long)periods[k],
                     period_rc[k]);
    guest_printf("     2^62-1 fired within 50 ms: %d; stop_periodic_timer: %ld\n",
                 fired_after_accepted, stop_rc);
    guest_printf("     singleshot(INT64_MAX): %ld\n", sshot_rc);
    guest_printf("     set_timer_op(INT64_MAX): %ld, fired after %lu ms\n", timer_op_rc,
                 (unsigned long)(timer_op_fire_ns / MS));
    guest_printf("     poll(timeout ~0): %ld after %lu ms\n", poll_rc,
                 (unsigned long)(poll_ns / MS));
    EXPECT_EQ(period_rc[0], -XEN_EINVAL);
    EXPECT_EQ(period_rc[1], -XEN_EINVAL);
    EXPECT_EQ(period_rc[2], -XEN_EINVAL);
    EXPECT_EQ(period_rc[3], 0);
    EXPECT(!fired_after_accepted);
    EXPECT_EQ(stop_rc, 0);
    EXPECT_EQ(sshot_rc, 0);
    EXPECT_EQ(timer_op_rc, 0);
    EXPECT(timer_op_fire_ns >= 50 * MS && timer_op_fire_ns < 900 * MS);
    EXPECT_EQ(poll_rc, 0);
    EXPECT(poll_ns < 1000 * MS);
}
