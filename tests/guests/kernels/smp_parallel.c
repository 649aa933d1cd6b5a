/*
 * smp_parallel (run with --vcpus 2): the two vCPUs of a domain really run
 * at the same time, on two physical CPUs.
 *
 * vCPU 0 brings up vCPU 1 and the two play ping-pong through shared memory
 * ROUNDS times: vCPU 0 stores round number i in `ping`, vCPU 1 (spinning on
 * it) copies it to `pong`, vCPU 0 (spinning on that) goes on to i + 1. The
 * loop is plain loads, stores and PAUSE: no hypercall, no event, no block,
 * so nothing tells the hypervisor that a vCPU is waiting. Events stay
 * masked on both vCPUs.
 *
 * How it fails: a hypervisor that time-slices both vCPUs on one physical
 * CPU lets each spinner burn its whole slice before the other can answer,
 * so every round trip costs about two slices (pvkit's slice is 10 ms: 20.6
 * ms measured, 200 s for all rounds). vCPU 0 gives up at BUDGET (20 s of
 * system time, 2 ms per round trip on average) and fails with the number
 * of round trips done. With the vCPUs in parallel the whole run takes
 * milliseconds under QEMU TCG (Xen 4.17 on a quiet host: 0.5-20 us per
 * round trip); with the host's two CPUs also busy with two other
 * processes, so that QEMU's vCPU threads get descheduled, Xen 4.17 needed
 * 83-380 us per round trip, still 5x under the budget. A host much busier
 * than that, which seldom runs both QEMU vCPU threads at once, fails it
 * too. The elapsed time (pvclock of vCPU 0), the mean and slowest round
 * trip and the number slower than 1 ms are printed either way. The setup
 * and the stop of vCPU 1 may use hypercalls; only the timed loop must not.
 */
#include "evt/spin.h"

#define MS 1000000ULL
#define ROUNDS 10000
#define BUDGET (20000 * MS)     /* 2 ms per round trip on average */
#define SLOW (1 * MS)

/* The two flags live on separate cache lines. */
static volatile unsigned long ping __attribute__((aligned(64)));
static volatile unsigned long pong __attribute__((aligned(64)));
static volatile unsigned long ap_seen __attribute__((aligned(64)));
static volatile int ap_ready, ap_stop, ap_stopped;

/* vCPU 1: answers every new ping until told to stop, then downs itself. */
void evt_ap_main(unsigned long cpu)
{
    unsigned long seen = 0, p;

    __atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        p = __atomic_load_n(&ping, __ATOMIC_ACQUIRE);
        if (p != seen) {
            seen = p;
            ap_seen++;
            __atomic_store_n(&pong, p, __ATOMIC_RELEASE);
            continue;
        }
        if (__atomic_load_n(&ap_stop, __ATOMIC_ACQUIRE))
            break;
        cpu_relax();
    }
    __atomic_store_n(&ap_stopped, 1, __ATOMIC_SEQ_CST);
    for (;;)
        hyp_vcpu_op(VCPUOP_down, (unsigned int)cpu, NULL);
}

static uint64_t slowest;
static unsigned long slow_trips;

/* Plays the ping-pong; returns the round trips completed before BUDGET ran out
 * and the elapsed system time in *ELAPSED. */
static unsigned long ping_pong(uint64_t *elapsed)
{
    uint64_t t0 = evt_now(), deadline = t0 + BUDGET, start, now = t0;
    unsigned long i;

    for (i = 1; i <= ROUNDS; i++) {
        start = now;
        __atomic_store_n(&ping, i, __ATOMIC_RELEASE);
        while (__atomic_load_n(&pong, __ATOMIC_ACQUIRE) != i) {
            cpu_relax();
            if (evt_now() >= deadline) {
                *elapsed = evt_now() - t0;
                return i - 1;
            }
        }
        now = evt_now();
        if (now - start > slowest)
            slowest = now - start;
        if (now - start > SLOW)
            slow_trips++;
    }
    *elapsed = now - t0;
    return ROUNDS;
}

void test_main(void)
{
    uint64_t elapsed = 0;
    unsigned long done;

    if (!evt_setup("setup: bring up vCPU 1 spinning on shared memory"))
        return;
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    if (!EXPECT_EQ(evt_start_ap(1, &ap_ready), 0))
        return;

    TEST("10000 shared-memory round trips between vCPU 0 and vCPU 1 within 20 s");
    done = ping_pong(&elapsed);
    guest_printf("     %lu of %u round trips in %lu us (mean %lu ns, slowest %lu us, "
                 "%lu over 1 ms)\n", done, ROUNDS, (unsigned long)(elapsed / 1000),
                 (unsigned long)(done ? elapsed / done : 0),
                 (unsigned long)(slowest / 1000), slow_trips);
    if (done < ROUNDS)
        guest_printf("     gave up after %lu ms: the vCPUs do not run in parallel (or the "
                     "host seldom runs both QEMU vCPU threads)\n", (unsigned long)(elapsed / MS));
    EXPECT_EQ(done, ROUNDS);
    EXPECT(elapsed < BUDGET);

    TEST("stop vCPU 1");
    __atomic_store_n(&ap_stop, 1, __ATOMIC_SEQ_CST);
    EXPECT(evt_wait_flag(&ap_stopped, 5000 * MS));
    EXPECT(ap_seen >= done && ap_seen <= done + 1);   /* a last ping may be answered late */
    uint64_t end = evt_now() + 5000 * MS;
    while (hyp_vcpu_op(VCPUOP_is_up, 1, NULL) != 0 && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
}
