/*
 * multi_stats_own (the initial domain A = 0 and one --domu copy B = 1 with
 * "role=1"; pvkit only): pvkit_op's PVKIT_OP_get_own_stats gives a domain
 * its own counters and never another's, even while the other domain makes
 * the same calls on another CPU at the same time (the snapshot is built in
 * one buffer shared by all CPUs, under the hypervisor lock).
 *
 * B, for ~1.5 s: reads its statistics, makes 50 xen_version calls, reads
 * again, and checks that exactly 50 xen_version calls and one pvkit_op
 * were added and no domctl (B never makes one successfully; A makes
 * thousands); then an unprivileged PVKIT_DOMCTL_get_stats of A is refused
 * (-EPERM) and counted as B's domctl error; then B powers off. A, meanwhile,
 * loops over xen_version, pvkit_op into its own buffer and
 * PVKIT_DOMCTL_get_stats of B until B has shut down, and checks its own
 * reads showed its own domctl calls growing; B's statistics read by A at the
 * end show B's one domctl, refused.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "multi.h"
#include "public/pvkit.h"

#define MS 1000000ULL
#define B_RUN (1500 * MS)
#define TIMEOUT (30000 * MS)
#define CALLS 50

static char pool[4][4096] __attribute__((aligned(4096)));
static struct pvkit_domain_stats s0, s1, other;

/* pvkit_op(PVKIT_OP_get_own_stats) into *S; the hypercall's result. */
static long read_own(struct pvkit_domain_stats *s)
{
    return hypercall3(__HYPERVISOR_pvkit_op, PVKIT_OP_get_own_stats, (unsigned long)s,
                      sizeof(*s));
}

/* PVKIT_DOMCTL_get_stats of DOM into *S; the hypercall's result. */
static long read_other(domid_t dom, struct pvkit_domain_stats *s)
{
    struct xen_domctl op = { .cmd = PVKIT_DOMCTL_get_stats,
                             .interface_version = XEN_DOMCTL_INTERFACE_VERSION,
                             .domain = dom };
    struct pvkit_domctl_get_stats *g = (struct pvkit_domctl_get_stats *)&op.u;

    g->buffer = (unsigned long)s;
    g->size = sizeof(*s);
    return hyp_domctl(&op);
}

static void role_b(void)
{
    unsigned long rounds = 0, wrong = 0;
    uint64_t end = evt_now() + B_RUN;

    TEST("B: own counters only, while A makes the same calls");
    while (evt_now() < end) {
        long r0 = read_own(&s0);
        for (int i = 0; i < CALLS; i++)
            hyp_xen_version(XENVER_version, NULL);
        long r1 = read_own(&s1);
        if (r0 != (long)sizeof(s0) || r1 != (long)sizeof(s1) ||
            s1.hypercalls[__HYPERVISOR_xen_version] - s0.hypercalls[__HYPERVISOR_xen_version] != CALLS ||
            s1.hypercalls[__HYPERVISOR_pvkit_op] - s0.hypercalls[__HYPERVISOR_pvkit_op] != 1 ||
            s1.hypercalls[__HYPERVISOR_domctl] != 0)
            wrong++;
        rounds++;
    }
    guest_printf("     %lu rounds, %lu wrong\n", rounds, wrong);
    EXPECT(rounds > 10);
    EXPECT_EQ(wrong, 0);

    TEST("B: PVKIT_DOMCTL_get_stats of A refused, counted as B's domctl error");
    EXPECT_EQ(read_other(0, &other), -XEN_EPERM);
    EXPECT_EQ(read_own(&s1), (long)sizeof(s1));
    EXPECT_EQ(s1.hypercalls[__HYPERVISOR_domctl], 1);
    EXPECT_EQ(s1.hypercall_errors[__HYPERVISOR_domctl], 1);
}

/* True once domain 1 has shut down (or is gone). */
static int b_done(void)
{
    struct xen_domctl op;
    if (dctl(XEN_DOMCTL_getdomaininfo, 1, &op) || op.domain != 1)
        return 1;
    return (op.u.getdomaininfo.flags & XEN_DOMINF_shutdown) != 0;
}

static void role_a(void)
{
    unsigned long rounds = 0, refused = 0;
    uint64_t first_domctls = ~0ULL, end = evt_now() + TIMEOUT;

    TEST("A: the same calls as B until B has shut down");
    while (!b_done() && evt_now() < end) {
        for (int i = 0; i < CALLS; i++)
            hyp_xen_version(XENVER_version, NULL);
        refused += read_own(&s0) != (long)sizeof(s0);
        refused += read_other(1, &other) != 0;
        if (first_domctls == ~0ULL)
            first_domctls = s0.hypercalls[__HYPERVISOR_domctl];
        rounds++;
    }
    guest_printf("     %lu rounds\n", rounds);
    EXPECT(b_done());
    EXPECT(rounds > 10);
    EXPECT_EQ(refused, 0);
    EXPECT(s0.hypercalls[__HYPERVISOR_domctl] > first_domctls);

    TEST("A: B's statistics show B's one refused domctl");
    EXPECT_EQ(read_other(1, &other), 0);
    EXPECT_EQ(other.hypercalls[__HYPERVISOR_domctl], 1);
    EXPECT_EQ(other.hypercall_errors[__HYPERVISOR_domctl], 1);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    if (multi_setup(pool, 4))
        multi_roles(0, role_a, role_b);
}
