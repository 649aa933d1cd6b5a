/*
 * smp_vcpus (run with --vcpus 4): bringing up secondary vCPUs as Linux does
 * (smp_pv.c) and the errors around it. VCPUOP_is_up says vCPU 0 is up, 1..3
 * are down and 4 does not exist (-ENOENT); VCPUOP_up before initialise
 * fails; VCPUOP_initialise with a vcpu_guest_context (kernel CS/SS, our L4
 * in ctrlreg[3], kernel stack, event callback) and VCPUOP_up start vCPUs
 * 1..3 on their own stacks; each registers its own vcpu_info and event
 * callback, binds an IPI port to itself and signals vCPU 0 through vCPU 0's
 * IPI port; vCPU 0 sends each of them IPIs, which must be handled on the
 * right vCPU; initialise of a vCPU already initialised fails with -EEXIST;
 * VIRQ_DEBUG binds on vCPU 1 but cannot be moved, global VIRQs (CONSOLE,
 * DOM_EXC) only bind on vCPU 0; EVTCHNOP_bind_vcpu moves a port's events
 * to vCPU 2; vCPUs 1 and 3 sleep
 * on their own single-shot timers; a SCHEDOP_poll on vCPU 0 is woken by an
 * event vCPU 2 sends;
 * VCPUOP_down of oneself and of another vCPU stops it (is_up 0, IPIs wait
 * pending), VCPUOP_up resumes it where it stopped; every vcpu_op on vCPU 4
 * fails with -ENOENT.
 */
#include "evt/evt.h"

#define NCPU 4
#define MS 1000000ULL
#define IPIS 10

static struct vcpu_guest_context ctx;
static evtchn_port_t port0;                       /* vCPU 0's IPI port */
static volatile long ap_rc_vi[NCPU], ap_rc_cb[NCPU], ap_port[NCPU];
static volatile int ap_ready[NCPU], ap_quit[NCPU], ap_downed[NCPU], ap_resumed[NCPU];
static volatile unsigned int ap_cpu_seen[NCPU];
/* Work vCPU 0 hands an AP: 1 = a 10 ms timer sleep on its own VIRQ_TIMER,
 * 2 = spin 20 ms and then send on vCPU 0's port. */
static volatile int ap_cmd[NCPU], ap_cmd_done[NCPU];
static volatile uint64_t ap_timer_ns[NCPU];
static volatile long ap_timer_rc[NCPU];

/* Runs command CMD on the AP CPU; events enabled. */
static void ap_run(unsigned int cpu, int cmd)
{
    uint64_t t0 = evt_now();

    if (cmd == 1) {
        long tp = evt_timer_port();
        struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = t0 + 10 * MS };
        unsigned int c;

        ap_timer_rc[cpu] = tp;
        if (tp > 0) {
            c = evt_count[tp];
            ap_timer_rc[cpu] = hyp_vcpu_op(VCPUOP_set_singleshot_timer, cpu, &t);
            while (ap_timer_rc[cpu] == 0 && evt_count[tp] == c) {
                evt_disable();
                if (evt_count[tp] == c)
                    hyp_sched_op(SCHEDOP_block, NULL);
                evt_enable();
            }
            ap_timer_ns[cpu] = evt_now() - t0;
        }
    } else if (cmd == 2) {
        while (evt_now() < t0 + 20 * MS)
            __asm__ volatile("pause");
        evt_send(port0);
    }
    __atomic_store_n(&ap_cmd_done[cpu], cmd, __ATOMIC_SEQ_CST);
}

/* A secondary vCPU: set up events, report, sleep until told to stop. */
void evt_ap_main(unsigned long cpu)
{
    long p;

    ap_cpu_seen[cpu] = evt_cpu();
    ap_rc_vi[cpu] = evt_register_vcpu_info((unsigned int)cpu);
    evt_vcpu_info((unsigned int)cpu)->evtchn_upcall_mask = 1;
    ap_rc_cb[cpu] = evt_register_callback();
    p = evt_bind_ipi((uint32_t)cpu);
    if (p > 0)
        evt_owner[p] = (unsigned char)cpu;
    ap_port[cpu] = p;
    __atomic_store_n(&ap_ready[cpu], 1, __ATOMIC_SEQ_CST);
    evt_enable();
    evt_send(port0);
    for (;;) {
        int cmd;

        evt_disable();
        if (ap_quit[cpu])
            break;
        cmd = ap_cmd[cpu];
        if (cmd) {
            ap_cmd[cpu] = 0;
            evt_enable();
            ap_run((unsigned int)cpu, cmd);
            continue;
        }
        hyp_sched_op(SCHEDOP_block, NULL);
    }
    evt_enable();
    ap_downed[cpu] = 1;
    for (;;) {
        hyp_vcpu_op(VCPUOP_down, (unsigned int)cpu, NULL);
        __atomic_fetch_add(&ap_resumed[cpu], 1, __ATOMIC_SEQ_CST);
    }
}

/* Spins (events on) until *FLAG is nonzero or TIMEOUT_NS passes. */
static int spin_until(volatile int *flag, uint64_t timeout_ns)
{
    uint64_t end = evt_now() + timeout_ns;

    while (!*flag && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    return *flag != 0;
}

/* Spins until evt_count[PORT] >= N or TIMEOUT_NS passes. */
static int spin_count(evtchn_port_t port, unsigned int n, uint64_t timeout_ns)
{
    uint64_t end = evt_now() + timeout_ns;

    while (evt_count[port] < n && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    return evt_count[port] >= n;
}

/* Spins until VCPUOP_is_up(CPU) == WANT or TIMEOUT_NS passes; the last result. */
static long wait_is_up(unsigned int cpu, long want, uint64_t timeout_ns)
{
    uint64_t end = evt_now() + timeout_ns;
    long rc;

    while ((rc = hyp_vcpu_op(VCPUOP_is_up, cpu, NULL)) != want && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    return rc;
}

static void test_enumerate(void)
{
    TEST("VCPUOP_is_up: 0 up, 1..3 down, 4 does not exist");
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 0, NULL), 1);
    for (unsigned int n = 1; n < NCPU; n++)
        EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, n, NULL), 0);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, NCPU, NULL), -XEN_ENOENT);

    TEST("hostile: vcpu ops on vCPU 4 and up before initialise");
    evt_ap_context(&ctx, 1);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_initialise, NCPU, &ctx), -XEN_ENOENT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_up, NCPU, NULL), -XEN_ENOENT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_down, NCPU, NULL), -XEN_ENOENT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_stop_singleshot_timer, NCPU, NULL), -XEN_ENOENT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1000, NULL), -XEN_ENOENT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL);     /* not initialised */
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
}

static void test_bringup(void)
{
    for (unsigned int n = 1; n < NCPU; n++) {
        TEST("VCPUOP_initialise + VCPUOP_up");
        guest_printf("     vCPU %u\n", n);
        evt_shared->vcpu_info[n].evtchn_upcall_mask = 1;
        evt_ap_context(&ctx, n);
        EXPECT_EQ(hyp_vcpu_op(VCPUOP_initialise, n, &ctx), 0);
        EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, n, NULL), 0);
        EXPECT_EQ(hyp_vcpu_op(VCPUOP_up, n, NULL), 0);
        EXPECT(spin_until(&ap_ready[n], 5000 * MS));
        EXPECT(evt_wait(port0, n, 5000 * MS));
        EXPECT_EQ(ap_cpu_seen[n], n);
        EXPECT_EQ(ap_rc_vi[n], 0);
        EXPECT_EQ(ap_rc_cb[n], 0);
        EXPECT(ap_port[n] > 0);
        EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, n, NULL), 1);
        EXPECT_EQ(hyp_vcpu_op(VCPUOP_initialise, n, &ctx), -XEN_EEXIST);
    }
    TEST("VIRQs: per-vCPU ones on any vCPU, global ones only on vCPU 0");
    long dbg1 = evt_bind_virq(VIRQ_DEBUG, 1);
    EXPECT(dbg1 > 0);
    if (dbg1 > 0) {
        evt_owner[dbg1] = 1;
        EXPECT_EQ(evt_bind_vcpu((evtchn_port_t)dbg1, 2), -XEN_EINVAL);  /* per-vCPU VIRQ */
        EXPECT_EQ(evt_close((evtchn_port_t)dbg1), 0);
    }
    EXPECT_EQ(evt_bind_virq(VIRQ_CONSOLE, 1), -XEN_EINVAL);
    EXPECT_EQ(evt_bind_virq(VIRQ_DOM_EXC, 2), -XEN_EINVAL);

    TEST("every AP's signal reached vCPU 0");
    EXPECT_EQ(evt_count[port0], NCPU - 1);
    EXPECT_EQ(evt_last_cpu[port0], 0);
}

static void test_ipis(void)
{
    TEST("vCPU 0 sends IPIs to each AP");
    for (unsigned int n = 1; n < NCPU; n++) {
        evtchn_port_t p = (evtchn_port_t)ap_port[n];
        evtchn_status_t st;

        if (ap_port[n] <= 0)
            continue;
        EXPECT_EQ(evt_status(DOMID_SELF, p, &st), 0);
        EXPECT_EQ(st.status, EVTCHNSTAT_ipi);
        EXPECT_EQ(st.vcpu, n);
        for (int i = 0; i < IPIS; i++) {
            EXPECT_EQ(evt_send(p), 0);
            /* One at a time, so none is merged with a pending one. */
            EXPECT(spin_count(p, (unsigned int)i + 1, 5000 * MS));
        }
        EXPECT_EQ(evt_count[p], IPIS);
        EXPECT_EQ(evt_last_cpu[p], n);
        guest_printf("     vCPU %u: %u IPIs handled, %lu upcalls\n", n, evt_count[p],
                     evt_upcalls[n]);
    }
}

/* Hands CMD to AP CPU, wakes it with an IPI, waits until it is done. */
static int ap_do(unsigned int cpu, int cmd)
{
    ap_cmd_done[cpu] = 0;
    ap_cmd[cpu] = cmd;
    evt_send((evtchn_port_t)ap_port[cpu]);
    return spin_until(&ap_cmd_done[cpu], 5000 * MS);
}

static void test_cross_vcpu(void)
{
    long a, b;
    evtchn_status_t st;
    uint64_t t0, t1;

    TEST("EVTCHNOP_bind_vcpu moves an interdomain port's events to vCPU 2");
    evt_disable();
    a = evt_alloc_unbound(DOMID_SELF);
    b = evt_bind_interdomain(DOMID_SELF, (evtchn_port_t)a);
    EXPECT(a > 0 && b > 0);
    if (a > 0 && b > 0) {
        evt_clear_pending((evtchn_port_t)b);     /* Xen's bind-time event */
        evt_owner[b] = 2;
        EXPECT_EQ(evt_bind_vcpu((evtchn_port_t)b, 2), 0);
        EXPECT_EQ(evt_status(DOMID_SELF, (evtchn_port_t)b, &st), 0);
        EXPECT_EQ(st.vcpu, 2);
    }
    evt_enable();
    if (a > 0 && b > 0) {
        for (unsigned int i = 1; i <= 5; i++) {
            EXPECT_EQ(evt_send((evtchn_port_t)a), 0);
            EXPECT(spin_count((evtchn_port_t)b, i, 5000 * MS));
        }
        EXPECT_EQ(evt_count[b], 5);
        EXPECT_EQ(evt_last_cpu[b], 2);
        EXPECT_EQ(evt_close((evtchn_port_t)a), 0);
        EXPECT_EQ(evt_close((evtchn_port_t)b), 0);
    }

    TEST("a vCPU's own single-shot timer (VIRQ_TIMER bound on vCPU 1 and 3)");
    for (unsigned int n = 1; n < NCPU; n += 2) {
        EXPECT(ap_do(n, 1));
        EXPECT_EQ(ap_timer_rc[n], 0);
        EXPECT(ap_timer_ns[n] >= 10 * MS);
        EXPECT(ap_timer_ns[n] < 1000 * MS);
        guest_printf("     vCPU %u: timer after %lu us\n", n,
                     (unsigned long)(ap_timer_ns[n] / 1000));
    }

    TEST("SCHEDOP_poll on vCPU 0 woken by an event from vCPU 2");
    evtchn_port_t ports[1] = { port0 };
    struct sched_poll poll = { .nr_ports = 1 };
    unsigned int c = evt_count[port0];

    set_xen_guest_handle(poll.ports, ports);
    evt_disable();
    t0 = evt_now();
    poll.timeout = t0 + 5000 * MS;
    ap_cmd_done[2] = 0;
    ap_cmd[2] = 2;
    evt_send((evtchn_port_t)ap_port[2]);
    EXPECT_EQ(hyp_sched_op(SCHEDOP_poll, &poll), 0);
    t1 = evt_now();
    EXPECT(evt_is_pending(port0));
    EXPECT(t1 - t0 >= 10 * MS);
    EXPECT(t1 - t0 < 4000 * MS);
    guest_printf("     poll returned after %lu us\n", (unsigned long)((t1 - t0) / 1000));
    evt_enable();
    EXPECT_EQ(evt_count[port0], c + 1);
    EXPECT(spin_until(&ap_cmd_done[2], 5000 * MS));
}

static void test_down_up(void)
{
    evtchn_port_t p3 = (evtchn_port_t)ap_port[3];

    TEST("VCPUOP_down of itself (vCPU 1), then up resumes it");
    ap_quit[1] = 1;
    evt_send((evtchn_port_t)ap_port[1]);
    EXPECT(spin_until(&ap_downed[1], 5000 * MS));
    EXPECT_EQ(wait_is_up(1, 0, 5000 * MS), 0);
    EXPECT_EQ(ap_resumed[1], 0);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_initialise, 1, &ctx), -XEN_EEXIST);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_up, 1, NULL), 0);
    EXPECT_EQ(wait_is_up(1, 0, 5000 * MS), 0);   /* it downs itself again */
    EXPECT_EQ(ap_resumed[1], 1);

    TEST("VCPUOP_down of another running vCPU (3): IPIs wait until up");
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_down, 3, NULL), 0);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 3, NULL), 0);
    unsigned int c = evt_count[p3];
    EXPECT_EQ(evt_send(p3), 0);
    for (int i = 0; i < 50; i++)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(evt_count[p3], c);
    EXPECT(evt_is_pending(p3));
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_up, 3, NULL), 0);
    EXPECT(spin_count(p3, c + 1, 5000 * MS));
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 3, NULL), 1);

    TEST("stop the others as Linux does at shutdown");
    for (unsigned int n = 2; n < NCPU; n++) {
        ap_quit[n] = 1;
        evt_send((evtchn_port_t)ap_port[n]);
        EXPECT_EQ(wait_is_up(n, 0, 5000 * MS), 0);
    }
}

void test_main(void)
{
    long p;

    if (!evt_setup("setup: shared_info, event callback, IPI port on vCPU 0"))
        return;
    p = evt_bind_ipi(0);
    EXPECT(p > 0);
    if (p <= 0)
        return;
    port0 = (evtchn_port_t)p;
    evt_enable();
    test_enumerate();
    test_bringup();
    test_ipis();
    test_cross_vcpu();
    test_down_up();
    evt_disable();
}
