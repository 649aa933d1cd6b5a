/*
 * hostile_stats: pvkit_op's PVKIT_OP_get_own_stats (public/pvkit.h) as a
 * hostile guest calls it, beyond stats_self's plain bad pointers: a buffer
 * straddling a page end into a read-only, an unmapped page or a pinned L1
 * (-EFAULT; the page we may not write is unchanged), a buffer that is a
 * pinned L1 itself, buffers straddling the end of the hypervisor's range or
 * wrapping past 2^64, sizes 1 and sizeof + 1, pvkit_op inside a multicall
 * (result per entry); our own grant table and shared_info, which we may
 * write, take the statistics like any of our pages and nothing else in
 * them changes. And that the counters stay exact where the
 * hypervisor splits work: a batch that is continued (mmu_update and
 * multicall of 1500 elements, more than one piece; mmu_update with and
 * without a `done` pointer) counts once in its histogram bucket and as one
 * call. Runs as the initial domain; pvkit only (Xen answers -ENOSYS).
 */
#include "pt.h"
#include "gnt.h"
#include "public/pvkit.h"

#define BIG_BATCH 1500 /* more than one piece's budget (BATCH_PER_CALL) */

static char pool[6][4096] __attribute__((aligned(4096))); /* [4] grant table, [5] for shared_info */
static struct pvkit_domain_stats a, b;
static mmu_update_t reqs[BIG_BATCH];
static multicall_entry_t mcs[BIG_BATCH];

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

/* True if N bytes at P all hold C. */
static int all_bytes(const void *p, size_t n, unsigned char c)
{
    const unsigned char *q = p;
    for (size_t i = 0; i < n; i++)
        if (q[i] != c)
            return 0;
    return 1;
}

/* A buffer running from page 0's last 8 bytes into page 1, in state WHAT. */
static void straddle(const char *what)
{
    long rc = pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)pool[1] - 8, 16);
    guest_printf("     into %s: %ld\n", what, rc);
    EXPECT_EQ(rc, -XEN_EFAULT);
}

/* Straddling into a read-only page, an unmapped page, a pinned L1. */
static void test_straddle(void)
{
    TEST("straddling into a read-only page: -EFAULT, that page unchanged");
    memset(pool[1], 0x5a, 4096);
    EXPECT_EQ(pt_map_ro(pool[1]), 0);
    straddle("read-only");
    EXPECT(all_bytes(pool[1], 4096, 0x5a));

    TEST("straddling into an unmapped page: -EFAULT");
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)pool[1], 0, UVMF_INVLPG), 0);
    straddle("unmapped");
    EXPECT_EQ(pt_map_rw(pool[1]), 0);
    EXPECT(all_bytes(pool[1], 4096, 0x5a));

    TEST("straddling into a pinned L1, and the L1 itself: -EFAULT, L1 still empty");
    memset(pool[1], 0, 4096);
    EXPECT_EQ(pt_map_ro(pool[1]), 0);
    EXPECT_EQ(pt_pin(1, pool[1]), 0);
    straddle("pinned L1");
    EXPECT_EQ(pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)pool[1], 4096), -XEN_EFAULT);
    EXPECT(all_bytes(pool[1], 4096, 0));
    EXPECT_EQ(pt_release(pool[1]), 0);
}

/* Ranges at the edges of what a guest may address. */
static void test_edges(void)
{
    static const struct { const char *what; unsigned long va, size; } bad[] = {
        { "last bytes of the hypervisor's range", 0xFFFF87FFFFFFFFF8UL, 16 },
        { "first page above it (unmapped)", 0xFFFF880000000000UL, 16 },
        { "wrapping past 2^64", 0xFFFFFFFFFFFFFFF8UL, ~0UL },
        { "wrapping, size 16", 0xFFFFFFFFFFFFFFF8UL, 16 },
        { "top of the lower half, huge size", 0x00007FFFFFFFF000UL, ~0UL },
    };

    TEST("buffers at the edges of the guest's range: -EFAULT");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        long rc = pvkit_op(PVKIT_OP_get_own_stats, bad[i].va, bad[i].size);
        guest_printf("     %s: %ld\n", bad[i].what, rc);
        EXPECT_EQ(rc, -XEN_EFAULT);
    }
}

/* Size 1 writes one byte; sizeof + 1 the whole structure and no more. */
static void test_sizes(void)
{
    TEST("size 1 and sizeof + 1");
    memset(pool[2], 0xa5, 4096);
    EXPECT_EQ(pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)pool[2], 1), 1);
    EXPECT(all_bytes(pool[2] + 1, 4095, 0xa5));
    memset(pool[2], 0xa5, 4096);
    EXPECT_EQ(pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)pool[2], sizeof(a) + 1),
              (long)sizeof(a));
    EXPECT(all_bytes(pool[2] + sizeof(a), 4096 - sizeof(a), 0xa5));
}

/* pvkit_op as multicall entries: each entry its own result. */
static void test_in_multicall(void)
{
    TEST("pvkit_op inside a multicall");
    memset(pool[2], 0xa5, 4096);
    mc_set(&mcs[0], __HYPERVISOR_pvkit_op, PVKIT_OP_get_own_stats, (unsigned long)pool[2], 64);
    mc_set(&mcs[1], __HYPERVISOR_pvkit_op, PVKIT_OP_get_own_stats, 0xFFFF830000000000UL, 64);
    mc_set(&mcs[2], __HYPERVISOR_pvkit_op, 7, (unsigned long)pool[2], 64);
    EXPECT_EQ(hyp_multicall(mcs, 3), 0);
    EXPECT_EQ((long)mcs[0].result, 64);
    EXPECT_EQ((long)mcs[1].result, -XEN_EFAULT);
    EXPECT_EQ((long)mcs[2].result, -XEN_EINVAL);
    EXPECT(all_bytes(pool[2] + 64, 4096 - 64, 0xa5));
}

/*
 * Our grant table and shared_info are pages we may write: the statistics
 * land there like any store of ours (nothing else in them changes), and we
 * clear what was written.
 */
static void test_own_special_pages(void)
{
    struct grant_entry_v1 *table = (struct grant_entry_v1 *)pool[4];
    TEST("our grant table (entries 100-107) and shared_info's unused tail as the buffer");
    if (!gnt_setup_expect(table))
        return;
    EXPECT_EQ(pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)&table[100], 64), 64);
    EXPECT(all_bytes(table, 100 * sizeof(*table), 0));
    EXPECT(all_bytes(&table[108], 4096 - 108 * sizeof(*table), 0));
    memset(&table[100], 0, 64);

    shared_info_t *si = pt_map_shared_info();
    if (!EXPECT(si != NULL))
        return;
    uint8_t mask = si->vcpu_info[0].evtchn_upcall_mask;
    EXPECT(all_bytes((char *)si + 4096 - 16, 16, 0));
    EXPECT_EQ(pvkit_op(PVKIT_OP_get_own_stats, (unsigned long)si + 4096 - 16, 16), 16);
    EXPECT_EQ(si->vcpu_info[0].evtchn_upcall_mask, mask);
    memset((char *)si + 4096 - 16, 0, 16);
}

/* Sum of a histogram's buckets. */
static uint64_t bucket_sum(const uint64_t *h)
{
    uint64_t n = 0;
    for (int i = 0; i < PVKIT_STATS_BUCKETS; i++)
        n += h[i];
    return n;
}

/* One mmu_update of BIG_BATCH plain stores into pool[3], with or without `done`. */
static void big_mmu_update(int with_done)
{
    unsigned int done = 0;
    uint64_t ma = pt_ma_of(pool[3]);

    for (unsigned int i = 0; i < BIG_BATCH; i++)
        reqs[i] = (mmu_update_t){ .ptr = (ma + (i % 512) * 8) | MMU_NORMAL_PT_UPDATE, .val = i };
    read_own(&a);
    long rc = hyp_mmu_update(reqs, BIG_BATCH, with_done ? &done : NULL, DOMID_SELF);
    read_own(&b);
    EXPECT_EQ(rc, 0);
    if (with_done)
        EXPECT_EQ(done, BIG_BATCH);
    EXPECT_EQ(((uint64_t *)pool[3])[511], 1023); /* the last i < 1500 with i % 512 == 511 */
    EXPECT_EQ(b.mmu_update_batches[10] - a.mmu_update_batches[10], 1);
    EXPECT_EQ(bucket_sum(b.mmu_update_batches) - bucket_sum(a.mmu_update_batches), 1);
    EXPECT_EQ(b.hypercalls[__HYPERVISOR_mmu_update] - a.hypercalls[__HYPERVISOR_mmu_update], 1);
}

/* Batches the hypervisor continues count once, as the guest issued them. */
static void test_continued_counts(void)
{
    TEST("mmu_update of 1500 with `done`: one batch (bucket 1024-2047), one call");
    big_mmu_update(1);
    TEST("mmu_update of 1500 without `done`: one batch, one call");
    big_mmu_update(0);

    TEST("multicall of 1500: one batch (bucket 1024-2047), one call, 1500 inner calls");
    for (int i = 0; i < BIG_BATCH; i++)
        mc_set(&mcs[i], __HYPERVISOR_xen_version, XENVER_version, 0, 0);
    read_own(&a);
    long rc = hyp_multicall(mcs, BIG_BATCH);
    read_own(&b);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ((long)mcs[BIG_BATCH - 1].result, (long)mcs[0].result);
    EXPECT_EQ(b.multicall_batches[10] - a.multicall_batches[10], 1);
    EXPECT_EQ(bucket_sum(b.multicall_batches) - bucket_sum(a.multicall_batches), 1);
    EXPECT_EQ(b.hypercalls[__HYPERVISOR_multicall] - a.hypercalls[__HYPERVISOR_multicall], 1);
    EXPECT_EQ(b.hypercalls[__HYPERVISOR_xen_version] - a.hypercalls[__HYPERVISOR_xen_version],
              BIG_BATCH);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    pt_pool_init(pool[5], 1);
    test_straddle();
    test_edges();
    test_sizes();
    test_in_multicall();
    test_own_special_pages();
    test_continued_counts();
}
