/*
 * multi_destroy_race (the initial domain A = 0 with --vcpus 2 and one
 * --domu copy B = 1 with "role=1" and --domu-vcpus 2; pvkit only):
 * destroydomain racing with itself, with pause/unpause, and with the
 * victim's long hypercalls.
 *
 * Why: destroydomain is a continued hypercall (domctl.c destroy_step runs a
 * stage per step, dropping the lock between pieces), so two destroys of the
 * same domain from two vCPUs interleave their pieces on one shared state
 * machine, a pause or unpause can land between two pieces, and the victim
 * may be half-way through a preempted multicall/mmu_update (its own
 * continuation) or flooding the console when it is killed. Whatever the
 * interleaving: no hypervisor crash or hang, every call answers something
 * sane, B is eventually freed, A keeps running.
 *
 * B: vCPU 1 loops multicalls of 32 mmu_update entries x 2048 updates of one
 * of its own PTEs (65536 updates per call, preempted and continued), vCPU 0
 * floods console_io writes. A: vCPU 1 loops pausedomain/unpausedomain of B;
 * 200 ms after B is up, A's vCPU 0 and vCPU 1 both destroy B in loops
 * (vCPU 1 still pausing/unpausing between its destroys) until -ESRCH.
 * Checks: every destroy answers 0 or -ESRCH, at least one 0; pause and
 * unpause answer 0, -EINVAL or -ESRCH; both loops end within 10 s;
 * getdomaininfo(1) -ESRCH; free pages up by at least B's pages; A's vCPU 1
 * still runs (heartbeat) after.
 *
 * pvkit: passes (the hypervisor lock serialises the pieces; the loser's
 * continuation finds no domain: -ESRCH).
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "multi.h"
#include "pt.h"

#define MS 1000000ULL
#define NREQ 2048
#define NMC 32

static char pool[8][4096] __attribute__((aligned(4096)));
static mmu_update_t reqs[NREQ];
static multicall_entry_t mc[NMC];
static volatile int ap_ready, go, ap_done;
static volatile long ap_bad, ap_destroy_ok, ap_pauses, ap_last_bad;
static volatile uint64_t ap_beat;
static volatile uint64_t b_calls;
static char line[] = "(flood) multi_destroy_race B console line\n";

static int pause_rc_ok(long rc)
{
    return rc == 0 || rc == -XEN_EINVAL || rc == -XEN_ESRCH;
}

/* A's vCPU 1: pause/unpause B; once told, destroy it too. */
static void a_ap(void)
{
    struct xen_domctl op;

    ap_ready = 1;
    for (;;) {
        ap_beat++;
        long p = dctl(XEN_DOMCTL_pausedomain, 1, &op);
        long d = go ? dctl(XEN_DOMCTL_destroydomain, 1, &op) : 0;
        long u = dctl(XEN_DOMCTL_unpausedomain, 1, &op);
        ap_pauses++;
        if (!pause_rc_ok(p) || !pause_rc_ok(u) || (d != 0 && d != -XEN_ESRCH)) {
            ap_bad++;
            ap_last_bad = !pause_rc_ok(p) ? 1000 + p : !pause_rc_ok(u) ? 2000 + u : 3000 + d;
        }
        if (go && d == 0)
            ap_destroy_ok++;
        if (go && d == -XEN_ESRCH)
            break;
    }
    ap_done = 1;
    for (;;) {
        ap_beat++;
        hyp_sched_op(SCHEDOP_yield, NULL);
    }
}

/* B's vCPU 1: long continued multicalls of mmu_update. */
static void b_ap(void)
{
    unsigned long va = (unsigned long)pool[2];
    uint64_t ma = pt_entry_ma(va, 1), val = *pt_entry(va, 1);
    static unsigned int done[NMC];

    for (unsigned int i = 0; i < NREQ; i++)
        reqs[i] = (mmu_update_t){ .ptr = ma | MMU_NORMAL_PT_UPDATE, .val = val };
    for (unsigned int i = 0; i < NMC; i++) {
        mc_set(&mc[i], __HYPERVISOR_mmu_update, (unsigned long)reqs, NREQ,
               (unsigned long)&done[i]);
        mc[i].args[3] = DOMID_SELF;
    }
    ap_ready = 1;
    for (;;) {
        hyp_multicall(mc, NMC);
        b_calls++;
    }
}

void evt_ap_main(unsigned long cpu)
{
    (void)cpu;
    if (evt_cmdline_num("role", 0) == 0)
        a_ap();
    else
        b_ap();
}

static void role_b(void)
{
    TEST("B: vCPU 1 in long multicalls, vCPU 0 floods the console, until destroyed");
    EXPECT_EQ(evt_start_ap(1, &ap_ready), 0);
    for (;;)
        hyp_console_io(CONSOLEIO_write, sizeof(line) - 1, line);
}

static void role_a(void)
{
    struct xen_domctl op = { .cmd = XEN_DOMCTL_getdomaininfo,
                             .interface_version = XEN_DOMCTL_INTERFACE_VERSION, .domain = 1 };

    TEST("A: wait for B's two vCPUs; vCPU 1 pauses/unpauses B");
    uint64_t end = evt_now() + 20000 * MS;
    long rc;
    while ((rc = hypercall3(__HYPERVISOR_domctl, (unsigned long)&op, 0, 0)) == 0 &&
           op.u.getdomaininfo.nr_online_vcpus < 2 && evt_now() < end) {
        evt_sleep_ms(5);
        op.domain = 1;
    }
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(op.u.getdomaininfo.nr_online_vcpus, 2);
    uint64_t b_pages = op.u.getdomaininfo.tot_pages;
    uint64_t free0 = free_pages();
    EXPECT_EQ(evt_start_ap(1, &ap_ready), 0);
    evt_sleep_ms(200);

    TEST("A: both vCPUs destroy B (vCPU 1 still pausing/unpausing)");
    long ok = 0, bad = 0, last_bad = 0, calls = 0;
    go = 1;
    end = evt_now() + 10000 * MS;
    while (evt_now() < end) {
        rc = dctl(XEN_DOMCTL_destroydomain, 1, &op);
        calls++;
        if (rc == 0)
            ok++;
        else if (rc == -XEN_ESRCH)
            break;
        else {
            bad++;
            last_bad = rc;
        }
    }
    EXPECT_EQ(rc, -XEN_ESRCH);
    EXPECT_EQ(evt_wait_flag(&ap_done, 10000 * MS), 1);
    guest_printf("     vCPU 0: %ld destroy calls, %ld answered 0; vCPU 1: %ld rounds, %ld "
                 "destroys answered 0\n", calls, ok, (long)ap_pauses, (long)ap_destroy_ok);
    EXPECT_EQ(bad, 0);
    if (bad)
        guest_printf("     vCPU 0: last bad answer %ld\n", last_bad);
    EXPECT_EQ(ap_bad, 0);
    if (ap_bad)
        guest_printf("     vCPU 1: last bad answer code %ld\n", (long)ap_last_bad);
    EXPECT(ok + ap_destroy_ok >= 1);

    TEST("A: B is gone, its memory back, our vCPU 1 still runs");
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_getdomaininfo,
                              .interface_version = XEN_DOMCTL_INTERFACE_VERSION, .domain = 1 };
    EXPECT_EQ(hypercall3(__HYPERVISOR_domctl, (unsigned long)&op, 0, 0), -XEN_ESRCH);
    expect_pages_back(free0, b_pages);
    uint64_t beat = ap_beat;
    evt_sleep_ms(50);
    EXPECT(ap_beat != beat);
}

void test_main(void)
{
    if (multi_setup(pool[4], 4))
        multi_roles(1, role_a, role_b);
}
