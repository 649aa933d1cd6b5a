/*
 * sched_fair (run with --vcpus 2 and one --domu copy with "role=1"): a
 * domain that spins forever without hypercalls must not starve another.
 *
 * The spinner is the initial domain (0): it offers a port to domain 1, then
 * both of its vCPUs spin in plain loops with no hypercall at all (vCPU 1
 * for good; vCPU 0 until its event callback sees domain 1's "done" event,
 * delivered asynchronously into the loop), so every physical CPU QEMU gives
 * pvkit-run (max(2, vCPUs) = 2) is taken by a spinner. The measurer
 * (domain 1) binds the port and completes 50 sleeps of 10 ms on its
 * single-shot timer with SCHEDOP_block: each must last at least 10 ms and
 * all together at most 10 s (TCG is slow; a starving scheduler never
 * finishes, and the launcher's timeout ends the run). It prints the mean
 * sleep, signals done and powers off; the spinner then stops its vCPU 1
 * (VCPUOP_down of a running vCPU), checks that it was really spinning and
 * powers off last, ending the machine. Both verdicts are judged
 * (tests/guests/run).
 */
#include "evt/evt.h"

#define MS 1000000ULL
#define SLEEPS 50

static volatile int done;
static volatile unsigned long spins[2];
static evtchn_port_t done_port;
static struct vcpu_guest_context ctx;

static void on_event(unsigned int port, unsigned int cpu)
{
    (void)cpu;
    if (port == done_port)
        done = 1;
}

/* vCPU 1 of the spinner: sets up nothing, spins forever. */
void evt_ap_main(unsigned long cpu)
{
    (void)cpu;
    for (;;)
        spins[1]++;
}

static void spinner(void)
{
    long p;

    TEST("spinner: offer a port to domain 1, start vCPU 1 spinning");
    p = evt_alloc_unbound(1);
    EXPECT(p > 0);
    if (p <= 0)
        return;
    done_port = (evtchn_port_t)p;
    evt_hook = on_event;
    evt_ap_context(&ctx, 1);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, &ctx), 0);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_up, 1, NULL), 0);
    evt_enable();
    guest_printf("     spinning without hypercalls until domain 1 is done\n");
    while (!done)
        spins[0]++;

    TEST("spinner: domain 1 finished; stop vCPU 1");
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_down, 1, NULL), 0);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    guest_printf("     spins: vCPU 0 %lu, vCPU 1 %lu\n", spins[0], spins[1]);
    EXPECT(spins[0] > 1000);
    EXPECT(spins[1] > 1000);
    EXPECT_EQ(evt_count[done_port], 1);
}

static void measurer(void)
{
    uint64_t t0, start, worst = 0;
    long p, tp;
    int i, short_sleeps = 0;

    TEST("measurer: bind the spinner's port");
    tp = evt_timer_port();
    EXPECT(tp > 0);
    start = evt_now();
    do {
        p = evt_bind_interdomain(0, 1);
        if (p <= 0)
            hyp_sched_op(SCHEDOP_yield, NULL);
    } while (p <= 0 && evt_now() < start + 10000 * MS);
    EXPECT(p > 0);
    if (p <= 0 || tp <= 0)
        return;
    evt_enable();

    TEST("measurer: 50 timer-driven sleeps of 10 ms beside the spinner");
    start = evt_now();
    for (i = 0; i < SLEEPS; i++) {
        t0 = evt_now();
        evt_sleep_until(tp, t0 + 10 * MS);
        uint64_t d = evt_now() - t0;
        if (d < 10 * MS)
            short_sleeps++;
        if (d > worst)
            worst = d;
        if (evt_now() - start > 10000 * MS)
            break;
    }
    uint64_t total = evt_now() - start;
    EXPECT_EQ(i, SLEEPS);
    EXPECT_EQ(short_sleeps, 0);
    EXPECT(total < 10000 * MS);
    guest_printf("     %d sleeps in %lu ms (mean %lu us, worst %lu us)\n", i,
                 (unsigned long)(total / MS), (unsigned long)(total / 1000 / (i ? i : 1)),
                 (unsigned long)(worst / 1000));
    EXPECT_EQ(evt_send((evtchn_port_t)p), 0);
}

void test_main(void)
{
    if (!evt_setup("setup: shared_info, event callback"))
        return;
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    if (evt_cmdline_num("role", 0) == 0)
        spinner();
    else
        measurer();
    evt_disable();
}
