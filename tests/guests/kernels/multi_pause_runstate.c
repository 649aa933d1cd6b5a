/*
 * multi_pause_runstate (the initial domain A = 0 and one --domu copy B = 1
 * with "role=1" and --domu-vcpus 2; pvkit only): pausing a domain whose two
 * vCPUs spin, as Xen 4.17's XEN_DOMCTL_pausedomain promises it -- the call
 * returns once no vCPU of the domain runs (domain_pause: vcpu_sleep_sync).
 *
 * B grants A a page holding two spin counters and vCPU 0's runstate area;
 * vCPU 1 registers its runstate area over B's own L4 (mapped read-only: the
 * hypervisor's writes there must fault and be dropped, the L4 unchanged).
 * Both vCPUs spin on their counters without hypercalls; vCPU 0 also checks,
 * each round, that its runstate times never go back and that they add up
 * to the elapsed time (sum(time) - state_entry_time is the same at every
 * publication: each transition moves exactly now - entry into a bucket),
 * and at the end that vCPU 1's times count from the domain's creation too
 * (its sum(time) - state_entry_time within 1 ms of vCPU 0's).
 *
 * A, 40 rounds: pausedomain B; at once getdomaininfo says paused and not
 * running, getvcpuinfo says neither vCPU runs, and the counters read now
 * stay unchanged over 20 ms, as do the vCPUs' cpu_time; B's vCPU 0 area
 * does not say running; unpause, both counters move again. Then A stops B,
 * which checks its L4 and its runstate bookkeeping and powers off.
 *
 * pvkit before the fix: pausedomain returned at once, B's vCPUs went on
 * running until their CPUs took the kick (getdomaininfo right after the
 * pause said running, counters moved after it); the time moved into a
 * bucket at a switch was read twice from the clock (drift per switch); a
 * secondary vCPU's first state counted from boot, not from its creation.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "multi.h"
#include "pt.h"
#include "gnt.h"
#include <xen/grant_table.h>

#define MS 1000000ULL
#define TIMEOUT (20000 * MS)
#define REF 10
#define ROUNDS 40

struct shared {                 /* the page B grants A */
    volatile uint64_t count[2];
    volatile uint8_t stop;
    struct vcpu_runstate_info rs0 __attribute__((aligned(64)));
};

static char pool[8][4096] __attribute__((aligned(4096)));
static uint8_t page[4096] __attribute__((aligned(4096)));
static uint8_t l4_copy[4096];
static volatile int ap_ready;
static volatile long ap_register_rc = 1;

/* A copy of a runstate area taken while it is not being updated. */
static struct vcpu_runstate_info rs_snap(const struct vcpu_runstate_info *rs)
{
    struct vcpu_runstate_info c;

    do {
        c = *(const volatile struct vcpu_runstate_info *)rs;
    } while (c.state_entry_time & XEN_RUNSTATE_UPDATE);
    return c;
}

/* sum(time) - state_entry_time: the same at every publication if no time is lost. */
static int64_t rs_offset(const struct vcpu_runstate_info *r)
{
    return (int64_t)(r->time[0] + r->time[1] + r->time[2] + r->time[3] - r->state_entry_time);
}

/* B's vCPU 1: runstate area over our read-only L4, then spin. */
static void b_ap(void)
{
    struct shared *s = (struct shared *)page;
    struct vcpu_register_runstate_memory_area area = { .addr.p = guest_start_info->pt_base };

    ap_register_rc = hyp_vcpu_op(VCPUOP_register_runstate_memory_area, 1, &area);
    ap_ready = 1;
    while (!s->stop)
        s->count[1]++;
    for (;;)
        hyp_sched_op(SCHEDOP_block, NULL);
}

void evt_ap_main(unsigned long cpu)
{
    (void)cpu;
    b_ap();
}

static void role_b(void)
{
    struct shared *s = (struct shared *)page;
    struct grant_entry_v1 *table = (struct grant_entry_v1 *)pool[0];
    struct vcpu_register_runstate_memory_area area = { .addr.v = &s->rs0 };

    TEST("B: grant the page; vCPU 1's runstate area over our read-only L4");
    memcpy(l4_copy, (void *)guest_start_info->pt_base, sizeof(l4_copy));
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_register_runstate_memory_area, 0, &area), 0);
    EXPECT_EQ(evt_start_ap(1, &ap_ready), 0);
    EXPECT_EQ(ap_register_rc, 0); /* as Xen: the address is not checked, writes fail */
    gnt_setup_expect(table);
    gnt_permit(table, REF, 0, page);

    TEST("B: spin until stopped; runstate times monotonic, summing to elapsed time");
    struct vcpu_runstate_info first = rs_snap(&s->rs0), prev = first;
    unsigned long back = 0, drift = 0, publications = 0;
    int64_t worst = 0;
    uint64_t end = evt_now() + 4 * TIMEOUT;
    while (!s->stop && evt_now() < end) {
        s->count[0]++;
        struct vcpu_runstate_info r = rs_snap(&s->rs0);
        if (r.state_entry_time == prev.state_entry_time)
            continue;
        publications++;
        for (int i = 0; i < 4; i++)
            back += r.time[i] < prev.time[i];
        back += r.state_entry_time < prev.state_entry_time;
        int64_t d = rs_offset(&r) - rs_offset(&first);
        int64_t ad = d < 0 ? -d : d;
        drift += ad != 0;
        worst = ad > worst ? ad : worst;
        prev = r;
    }
    EXPECT(s->stop);
    guest_printf("     %lu publications; running %lu runnable %lu blocked %lu offline %lu us; "
                 "%lu drifted (worst by %ld ns)\n", publications,
                 (unsigned long)(prev.time[RUNSTATE_running] / 1000),
                 (unsigned long)(prev.time[RUNSTATE_runnable] / 1000),
                 (unsigned long)(prev.time[RUNSTATE_blocked] / 1000),
                 (unsigned long)(prev.time[RUNSTATE_offline] / 1000), drift, (long)worst);
    EXPECT(publications >= ROUNDS);
    EXPECT_EQ(back, 0);
    EXPECT_EQ(drift, 0);
    EXPECT(prev.time[RUNSTATE_offline] + prev.time[RUNSTATE_runnable] >= ROUNDS * 15 * MS);

    TEST("B: vCPU 1's runstate counts from the domain's creation, as vCPU 0's");
    struct vcpu_runstate_info r1;
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_get_runstate_info, 1, &r1), 0);
    int64_t apart = rs_offset(&r1) - rs_offset(&first);
    guest_printf("     vCPU 1's start %ld ns from vCPU 0's\n", (long)apart);
    EXPECT(apart > -(int64_t)MS && apart < (int64_t)MS);

    TEST("B: our L4 unchanged by the runstate writes");
    EXPECT_EQ(guest_memcmp(l4_copy, (void *)guest_start_info->pt_base, sizeof(l4_copy)), 0);
}

/* getvcpuinfo of B's vCPU `vcpu` into *op; 0 or -errno. */
static long vcpu_info_of(unsigned int vcpu, struct xen_domctl *op)
{
    *op = (struct xen_domctl){ .cmd = XEN_DOMCTL_getvcpuinfo, .domain = 1,
                               .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    op->u.getvcpuinfo.vcpu = vcpu;
    return hyp_domctl(op);
}

/* Waits until both of B's counters have moved (true) or TIMEOUT. */
static int both_move(volatile struct shared *s)
{
    uint64_t c0 = s->count[0], c1 = s->count[1], end = evt_now() + TIMEOUT;
    while ((s->count[0] == c0 || s->count[1] == c1) && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    return s->count[0] != c0 && s->count[1] != c1;
}

/* Failures of one kind over the rounds, and the first round that had one. */
struct tally {
    unsigned long n;
    int first;
};

static void tally(struct tally *t, int bad, int round)
{
    if (bad && !t->n++)
        t->first = round;
}

static void report(const char *what, const struct tally *t)
{
    if (t->n)
        guest_printf("     %s: %lu of %d rounds (first %d)\n", what, t->n, ROUNDS, t->first);
}

static void role_a(void)
{
    struct xen_domctl op, v0, v1;
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)pool[1],
                                        .flags = GNTMAP_host_map, .ref = REF, .dom = 1 };
    volatile struct shared *s = (volatile struct shared *)pool[1];
    struct tally dom_running = { 0 }, vcpu_running = { 0 }, moved = { 0 }, time_grew = { 0 },
                 area_running = { 0 }, not_paused = { 0 }, stuck = { 0 }, rc_bad = { 0 };

    TEST("A: map B's page, both counters move");
    gnt_map_retry(&map, evt_now() + TIMEOUT);
    if (!EXPECT_EQ(map.status, GNTST_okay))
        return;
    EXPECT(both_move(s));

    TEST("A: 40 pauses: none of B runs once pausedomain returns");
    for (int round = 0; round < ROUNDS; round++) {
        long rc = dctl(XEN_DOMCTL_pausedomain, 1, &op);
        long r0 = dctl(XEN_DOMCTL_getdomaininfo, 1, &op);
        long r1 = vcpu_info_of(0, &v0), r2 = vcpu_info_of(1, &v1);
        uint64_t c0 = s->count[0], c1 = s->count[1];
        tally(&rc_bad, rc || r0 || r1 || r2, round);
        tally(&not_paused, !(op.u.getdomaininfo.flags & XEN_DOMINF_paused), round);
        tally(&dom_running, !!(op.u.getdomaininfo.flags & XEN_DOMINF_running), round);
        tally(&vcpu_running, v0.u.getvcpuinfo.running || v1.u.getvcpuinfo.running, round);
        uint64_t t0 = v0.u.getvcpuinfo.cpu_time, t1 = v1.u.getvcpuinfo.cpu_time;
        evt_sleep_ms(20);
        tally(&moved, s->count[0] != c0 || s->count[1] != c1, round);
        vcpu_info_of(0, &v0);
        vcpu_info_of(1, &v1);
        tally(&time_grew, v0.u.getvcpuinfo.cpu_time != t0 || v1.u.getvcpuinfo.cpu_time != t1,
              round);
        tally(&area_running, rs_snap((const struct vcpu_runstate_info *)&s->rs0).state ==
                             RUNSTATE_running, round);
        tally(&rc_bad, dctl(XEN_DOMCTL_unpausedomain, 1, &op) != 0, round);
        tally(&stuck, !both_move(s), round);
    }
    report("a call failed", &rc_bad);
    report("not paused", &not_paused);
    report("getdomaininfo running right after the pause", &dom_running);
    report("getvcpuinfo running right after the pause", &vcpu_running);
    report("a counter moved after the pause returned", &moved);
    report("cpu_time grew while paused", &time_grew);
    report("vCPU 0's area said running while paused", &area_running);
    report("a counter did not move after the unpause", &stuck);
    EXPECT_EQ(rc_bad.n, 0);
    EXPECT_EQ(not_paused.n, 0);
    EXPECT_EQ(dom_running.n, 0);
    EXPECT_EQ(vcpu_running.n, 0);
    EXPECT_EQ(moved.n, 0);
    EXPECT_EQ(time_grew.n, 0);
    EXPECT_EQ(area_running.n, 0);
    EXPECT_EQ(stuck.n, 0);

    TEST("A: unpaused, B shows running again");
    uint64_t end = evt_now() + TIMEOUT;
    while (dctl(XEN_DOMCTL_getdomaininfo, 1, &op) == 0 &&
           !(op.u.getdomaininfo.flags & XEN_DOMINF_running) && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT(op.u.getdomaininfo.flags & XEN_DOMINF_running);
    EXPECT_EQ(op.u.getdomaininfo.flags & XEN_DOMINF_paused, 0);

    TEST("A: stop B, unmap");
    s->stop = 1;
    gnt_unmap_expect(pool[1], map.handle);
}

void test_main(void)
{
    if (multi_setup(pool[4], 4))
        multi_roles(1, role_a, role_b);
}
