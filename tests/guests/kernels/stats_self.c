/*
 * stats_self: pvkit_op's PVKIT_OP_get_own_stats (public/pvkit.h), the
 * hypercall through which a domain reads its own statistics (the research
 * kernel's /sys/hypervisor/pvkit/ is built on it). Checks that the counts
 * are exact (N xen_version calls count N, a multicall of 5 lands in the
 * 4-7 bucket, failing calls are counted as errors of pvkit_op), that a
 * short buffer gets a prefix and nothing past it, that the snapshot equals
 * the one PVKIT_DOMCTL_get_stats gives the privileged domain, and that
 * nonsense gets -EINVAL (unknown sub-op, size 0: buffer untouched) or
 * -EFAULT (NULL, hypervisor, M2P, non-canonical, unmapped, straddling the
 * top of the lower half, our own read-only L4, which stays unchanged).
 * Runs as the initial domain (for the domctl comparison); pvkit only.
 */
#include "domctl.h"
#include "hyp.h"
#include "public/pvkit.h"

static struct pvkit_domain_stats a, b, via_domctl;
static unsigned char scratch[sizeof(struct pvkit_domain_stats) + 64];

/* pvkit_op(cmd, buffer, size); returns the hypercall's result. */
static long pvkit_op(unsigned long cmd, unsigned long buffer, unsigned long size)
{
    return hypercall3(__HYPERVISOR_pvkit_op, cmd, buffer, size);
}

/* Reads our own statistics into *S; returns the hypercall's result. */
static long read_own(struct pvkit_domain_stats *s)
{
    return pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)s, sizeof(*s));
}

/* True if scratch[from..] still holds 0xa5 everywhere. */
static int scratch_untouched(size_t from)
{
    for (size_t i = from; i < sizeof(scratch); i++)
        if (scratch[i] != 0xa5)
            return 0;
    return 1;
}

/* Counts are exact: N calls of one hypercall count N, the read itself one. */
static void test_counts(void)
{
    TEST("counts: 100 xen_version calls, one pvkit_op call");
    long r1 = read_own(&a);
    for (int i = 0; i < 100; i++)
        hyp_xen_version(XENVER_version, NULL);
    long r2 = read_own(&b);
    EXPECT_EQ(r1, (long)sizeof(a));
    EXPECT_EQ(r2, (long)sizeof(b));
    EXPECT_EQ(b.hypercalls[__HYPERVISOR_xen_version] - a.hypercalls[__HYPERVISOR_xen_version], 100);
    EXPECT_EQ(b.hypercalls[__HYPERVISOR_pvkit_op] - a.hypercalls[__HYPERVISOR_pvkit_op], 1);
    EXPECT_EQ(b.hypercall_errors[__HYPERVISOR_pvkit_op], a.hypercall_errors[__HYPERVISOR_pvkit_op]);
    EXPECT(b.hypercalls[__HYPERVISOR_console_io] > 0);
    EXPECT(b.validations > 0);  /* the boot tables were validated */
}

/* A multicall of 5 counts in bucket 2 (sizes 4-7) and 5 inner calls. */
static void test_batches(void)
{
    multicall_entry_t mc[5];

    TEST("batch histogram: one multicall of 5");
    for (int i = 0; i < 5; i++)
        mc_set(&mc[i], __HYPERVISOR_xen_version, XENVER_version, 0, 0);
    read_own(&a);
    long rc = hyp_multicall(mc, 5);
    read_own(&b);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(b.multicall_batches[2] - a.multicall_batches[2], 1);
    EXPECT_EQ(b.hypercalls[__HYPERVISOR_multicall] - a.hypercalls[__HYPERVISOR_multicall], 1);
    EXPECT_EQ(b.hypercalls[__HYPERVISOR_xen_version] - a.hypercalls[__HYPERVISOR_xen_version], 5);
}

/* The domctl's snapshot and ours agree, but for the two calls themselves. */
static void test_same_as_domctl(void)
{
    struct xen_domctl op;
    struct pvkit_domctl_get_stats *g = (struct pvkit_domctl_get_stats *)&op.u;

    TEST("same snapshot as PVKIT_DOMCTL_get_stats");
    read_own(&a);
    op = (struct xen_domctl){ .cmd = PVKIT_DOMCTL_get_stats,
                              .interface_version = XEN_DOMCTL_INTERFACE_VERSION,
                              .domain = 0 };
    g->buffer = (unsigned long)&via_domctl;
    g->size = sizeof(via_domctl);
    EXPECT_EQ(hyp_domctl(&op), 0);
    EXPECT_EQ(via_domctl.hypercalls[__HYPERVISOR_pvkit_op] - a.hypercalls[__HYPERVISOR_pvkit_op], 1);
    via_domctl.hypercalls[__HYPERVISOR_pvkit_op] = a.hypercalls[__HYPERVISOR_pvkit_op];
    EXPECT_EQ(guest_memcmp(&via_domctl, &a, sizeof(a)), 0);
}

/* A short buffer gets a prefix, a huge size the whole structure. */
static void test_sizes(void)
{
    TEST("prefix for a short buffer, whole structure for a huge size");
    memset(scratch, 0xa5, sizeof(scratch));
    EXPECT_EQ(pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)scratch, 8), 8);
    EXPECT(scratch_untouched(8));
    memset(scratch, 0xa5, sizeof(scratch));
    EXPECT_EQ(pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)scratch, 13), 13);
    EXPECT(scratch_untouched(13));
    memset(scratch, 0xa5, sizeof(scratch));
    EXPECT_EQ(pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)scratch, ~0UL),
              (long)sizeof(struct pvkit_domain_stats));
    EXPECT(scratch_untouched(sizeof(struct pvkit_domain_stats)));
}

/* Unknown sub-ops and size 0: -EINVAL, nothing written. */
static void test_einval(void)
{
    static const unsigned long bad_cmds[] = { 0, 2, 3, 0x7002, 1UL << 32 | 1, ~0UL };

    TEST("nonsense sub-op or size: -EINVAL, buffer untouched");
    memset(scratch, 0xa5, sizeof(scratch));
    for (size_t i = 0; i < sizeof(bad_cmds) / sizeof(bad_cmds[0]); i++) {
        long rc = pvkit_op(bad_cmds[i], (unsigned long)scratch, sizeof(scratch));
        guest_printf("     cmd 0x%lx: %ld\n", bad_cmds[i], rc);
        EXPECT_EQ(rc, -XEN_EINVAL);
    }
    EXPECT_EQ(pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)scratch, 0), -XEN_EINVAL);
    EXPECT(scratch_untouched(0));
}

/* Bad buffers: -EFAULT, and our read-only L4 is not written. */
static void test_efault(void)
{
    static const struct { const char *what; unsigned long va, size; } bad[] = {
        { "NULL", 0, 16 },
        { "hypervisor", 0xFFFF830000000000UL, 16 },
        { "M2P", 0xFFFF800000000000UL, 16 },
        { "non-canonical", 0x0000800000000000UL, 16 },
        { "unmapped", 0x12345000UL, 16 },
        { "straddling the lower half's top", 0x00007FFFFFFFFFF8UL, 16 },
    };
    unsigned long before = guest_l4_checksum();

    TEST("bad buffers: -EFAULT");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long rc = pvkit_op(PVKIT_OP_get_own_stats, bad[i].va, bad[i].size);
        guest_printf("     %s: %ld\n", bad[i].what, rc);
        EXPECT_EQ(rc, -XEN_EFAULT);
    }
    TEST("our read-only L4 as the buffer: -EFAULT, L4 unchanged");
    EXPECT_EQ(pvkit_op(PVKIT_OP_get_own_stats, guest_start_info->pt_base, 4096), -XEN_EFAULT);
    EXPECT_EQ(guest_l4_checksum(), before);
}

/* Every failing call above was counted as an error of pvkit_op. */
static void test_errors_counted(void)
{
    TEST("failing calls count as pvkit_op errors");
    read_own(&a);
    pvkit_op(0, (unsigned long)scratch, 8);
    pvkit_op(PVKIT_OP_get_own_stats, 0, 8);
    pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)scratch, 0);
    read_own(&b);
    EXPECT_EQ(b.hypercall_errors[__HYPERVISOR_pvkit_op] - a.hypercall_errors[__HYPERVISOR_pvkit_op], 3);
    EXPECT_EQ(b.hypercalls[__HYPERVISOR_pvkit_op] - a.hypercalls[__HYPERVISOR_pvkit_op], 4);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    test_counts();
    test_batches();
    test_same_as_domctl();
    test_sizes();
    test_einval();
    test_efault();
    test_errors_counted();
}
