/*
 * mmu_refcount: page type and reference counts return to zero, so a
 * long-running guest leaks nothing and frames can change type again.
 *
 * Why: a frame may change type (writable <-> L1..L4) only when its type
 * count is zero; every pin, parent entry, base pointer and writable mapping
 * holds a reference. If any of them leaked, Linux's cycles (RO-remap + pin
 * at exec, unpin + RW-remap at exit, thousands of times) would start to
 * fail. The observable proof of "count back to zero" is that the frame
 * can be given a different type (or made writable) afterwards.
 *
 * Checks, each repeated CYCLES times and then verified by a type change:
 * pin L1 + hook into the L2 + unhook + unpin + RW remap; the same frame
 * pinned as L2 and unpinned; a new L4 used as NEW_BASEPTR and dropped
 * (then made writable); a data page mapped writable in 512 L1 slots and
 * unmapped (then pinnable as an L1, which needs zero writable mappings).
 */
#include "traps.h"
#include "pt.h"

#define CYCLES  300
#define TEST_VA (GUEST_VIRT_BASE + (64UL << 20))

static char pool[8][4096] __attribute__((aligned(4096)));
static mmu_update_t reqs[512];

/* One L1 life cycle; returns the number of failed steps. */
static int l1_cycle(uint64_t *t, uint64_t l2e_ma)
{
    int bad = 0;

    bad += pt_map_ro(t) != 0;
    bad += pt_pin(1, t) != 0;
    bad += pt_mmu1(l2e_ma, pt_pte(t, PTE_TABLE)) != 0;
    bad += pt_mmu1(l2e_ma, 0) != 0;
    bad += pt_unpin(t) != 0;
    bad += pt_map_rw(t) != 0;
    return bad;
}

/* L1 pin/hook/unhook/unpin cycles, then the frame becomes an L2. */
static void test_l1_cycles(void)
{
    uint64_t *t = pt_alloc();
    uint64_t l2e_ma = pt_entry_ma(TEST_VA, 2);
    int bad = 0;

    TEST("L1 pin/hook/unhook/unpin cycles");
    for (int i = 0; i < CYCLES; i++)
        bad += l1_cycle(t, l2e_ma);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(2, t), 0);
    EXPECT_EQ(pt_release(t), 0);
}

/* NEW_BASEPTR to an unpinned copy of our L4 and back, many times. */
static void test_baseptr_cycles(void)
{
    uint64_t *cur = pt_va_of_mfn(pt_cur_l4_mfn), *l4 = pt_alloc();
    unsigned long old = pt_cur_l4_mfn, mfn = pt_mfn_of(l4);
    int bad = 0;

    TEST("NEW_BASEPTR cycles with an unpinned L4");
    for (int i = 272; i < 512; i++)
        l4[i] = cur[i];
    for (int i = 0; i < CYCLES; i++) {
        bad += pt_map_ro(l4) != 0;
        bad += hyp_mmuext1(MMUEXT_NEW_BASEPTR, mfn) != 0;
        bad += hyp_mmuext1(MMUEXT_NEW_BASEPTR, old) != 0;
        bad += pt_map_rw(l4) != 0;
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(pt_map_ro(l4), 0);
    EXPECT_EQ(pt_pin(1, l4), -XEN_EBUSY);      /* as an L1 it would map our L3s RW */
    EXPECT_EQ(pt_pin(4, l4), 0);
    EXPECT_EQ(pt_release(l4), 0);
}

/* Sets entries 0..511 of L1 T to VAL in one batch; returns the result. */
static long fill(uint64_t *t, uint64_t val)
{
    for (int i = 0; i < 512; i++)
        reqs[i] = (mmu_update_t){ .ptr = pt_ma_of(&t[i]), .val = val };
    return hyp_mmu_update(reqs, 512, NULL, DOMID_SELF);
}

/* 512 writable mappings of a page, dropped; then the page can be an L1. */
static void test_writable_refs(void)
{
    uint64_t *t = pt_alloc();
    char *page = pt_alloc();
    int bad = 0;

    TEST("writable mapping references");
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    for (int i = 0; i < CYCLES / 30; i++) {
        bad += fill(t, pt_pte(page, PTE_DATA_RW)) != 0;
        bad += fill(t, 0) != 0;
    }
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(fill(t, pt_pte(page, PTE_DATA_RW)), 0);
    EXPECT_EQ(pt_map_ro(page), 0);
    EXPECT_EQ(pt_pin(1, page), -XEN_EINVAL);    /* still 512 writable mappings */
    EXPECT_EQ(fill(t, 0), 0);
    EXPECT_EQ(pt_pin(1, page), 0);
    EXPECT_EQ(pt_unpin(page), 0);
    EXPECT_EQ(pt_release(t), 0);
    EXPECT_EQ(pt_map_rw(page), 0);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    static void (*const tests[])(void) = {
        test_l1_cycles, test_baseptr_cycles, test_writable_refs,
    };

    pt_run_tests(pool, 8, tests, sizeof(tests) / sizeof(tests[0]));
}
