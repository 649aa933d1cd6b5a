/*
 * mmu_pin_sparse: pinning tables that are mostly not-present entries, with
 * the one entry that matters placed where a validation that steps over
 * empty entries could miss it.
 *
 * Why: validation skips not-present entries without looking at them (they
 * hold no reference, as in Xen) and applies the L1 adjustments (_PAGE_USER
 * set, G cleared, device frames read-only) in a second pass that looks
 * frames up only when the table maps a device frame. A skip that read past
 * a present entry, a not-present entry that took a reference, or an
 * adjustment left out would each let a guest keep a writable mapping of a
 * page table or of a frame the hypervisor keeps.
 *
 * Checks: an L1 whose only present entry is the last one (511), mapping our
 * own L4 writable, behind 511 not-present entries full of garbage (our L4
 * writable, reserved bits, a foreign frame) -> pin -EBUSY, the table still
 * untyped (RW remap works); the same at index 0 and 255; a bad entry after a
 * present writable mapping of page W -> refused, and W is no writable-typed
 * leftover (W pins as an L1 afterwards); the garbage table with two good
 * present entries (7: read-only, G, no _PAGE_USER; 511: writable) pins (0),
 * the garbage is left exactly as it was and entry 7 gets _PAGE_USER; a
 * garbage entry made present through mmu_update is checked like any update
 * (our L4 writable -EBUSY, address bit 51 -EPERM) and left unchanged; an L2
 * and an L4 whose only present entry (511) names a RW-mapped page are
 * refused (-EINVAL); the I/O APIC (privileged) at index 300 of a pinned L1
 * ends up read-only while a RAM entry at 0 keeps RW and gets _PAGE_USER.
 */
#include "traps.h"
#include "pt.h"

#define IOAPIC_MFN 0xFEC00UL
#define RSVD_BITS  (1UL << 51)      /* above any CPU's physical address width here */

static char pool[16][4096] __attribute__((aligned(4096)));

/* Fills every entry of t with a not-present value carrying garbage. */
static void fill_garbage(uint64_t *t)
{
    uint64_t l4 = (uint64_t)pt_cur_l4_mfn << 12;

    for (unsigned int i = 0; i < 512; i++) {
        switch (i % 3) {
        case 0: t[i] = l4 | PTE_RW | PTE_US; break;               /* our L4, writable */
        case 1: t[i] = l4 | RSVD_BITS | PTE_PS | PTE_RW; break;   /* reserved bits */
        default: t[i] = (pt_foreign_mfn() << 12) | PTE_RW; break; /* not our frame */
        }
    }
}

/* The only present entry at IDX maps our own L4 writable: the pin must fail. */
static void bad_entry_at(unsigned int idx)
{
    uint64_t *t = pt_alloc();

    fill_garbage(t);
    t[idx] = ((uint64_t)pt_cur_l4_mfn << 12) | PTE_DATA_RW;
    EXPECT_EQ(pt_map_ro(t), 0);
    long rc = pt_pin(1, t);
    guest_printf("     L1, garbage + our L4 writable at %u: %ld\n", idx, rc);
    EXPECT_EQ(rc, -XEN_EBUSY);
    EXPECT_EQ(pt_unpin(t), -XEN_EINVAL);
    EXPECT_EQ(pt_map_rw(t), 0); /* still an ordinary page */
}

static void test_last_entry(void)
{
    TEST("a bad entry among 511 not-present ones is found wherever it is");
    bad_entry_at(511);
    bad_entry_at(0);
    bad_entry_at(255);
}

/* A valid writable entry before the bad one: its reference must go with the refusal. */
static void test_release_on_refusal(void)
{
    uint64_t *t = pt_alloc(), *w = pt_alloc();

    TEST("a refused pin keeps nothing of the entries before the bad one");
    t[0] = pt_pte(w, PTE_DATA_RW);
    t[511] = ((uint64_t)pt_cur_l4_mfn << 12) | PTE_DATA_RW;
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_map_ro(w), 0);
    EXPECT_EQ(pt_pin(1, t), -XEN_EBUSY);
    EXPECT_EQ(pt_pin(1, w), 0); /* no writable type left on W */
    EXPECT_EQ(pt_release(w), 0);
    EXPECT_EQ(pt_map_rw(t), 0);
}

/* Garbage in not-present entries is ignored, kept as it is, and takes nothing. */
static void test_garbage_accepted(void)
{
    uint64_t *t = pt_alloc(), *copy = pt_alloc();
    void *data = pt_alloc();

    TEST("not-present garbage: accepted, unchanged, holds no reference");
    fill_garbage(t);
    t[7] = pt_pte(data, PTE_DATA_RO | PTE_G);   /* G, no _PAGE_USER */
    t[511] = pt_pte(data, PTE_DATA_RW);
    EXPECT_EQ(pt_pin_l1_saved(t, copy), 0);
    unsigned int changed = pt_entries_changed(t, copy, 512, 7, 511);
    guest_printf("     not-present entries changed by the pin: %u\n", changed);
    EXPECT_EQ(changed, 0);
    guest_printf("     entry 7 0x%lx, entry 511 0x%lx\n", (unsigned long)t[7],
                 (unsigned long)t[511]);
    EXPECT_EQ(t[7] & (PTE_P | PTE_US), PTE_P | PTE_US); /* pvkit also strips G: unit-tested */
    EXPECT_EQ(t[511] & (PTE_US | PTE_RW), PTE_US | PTE_RW);
    /* garbage made present goes through the checks like any update */
    long rc = pt_mmu1(pt_ma_of(&t[0]), t[0] | PTE_P);
    guest_printf("     garbage entry 0 made present (our L4 writable): %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EBUSY);
    rc = pt_mmu1(pt_ma_of(&t[1]), t[1] | PTE_P);
    guest_printf("     garbage entry 1 made present (address bit 51): %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EPERM);
    EXPECT_EQ(t[0], copy[0]);
    EXPECT_EQ(t[1], copy[1]);
    EXPECT_EQ(pt_release(t), 0);
}

/* Upper levels: the only present entry, at 511, names a page mapped writable. */
static void test_upper_levels(void)
{
    uint64_t *l2 = pt_alloc(), *l4 = pt_alloc(), *rw = pt_alloc();

    TEST("L2 and L4 whose only present entry (511) names a writable page");
    l2[511] = pt_pte(rw, PTE_TABLE);
    EXPECT_EQ(pt_map_ro(l2), 0);
    long rc = pt_pin(2, l2);
    guest_printf("     L2 pin: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    l4[511] = pt_pte(rw, PTE_TABLE);
    EXPECT_EQ(pt_map_ro(l4), 0);
    rc = pt_pin(4, l4);
    guest_printf("     L4 pin: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    EXPECT_EQ(pt_map_rw(l2), 0);
    EXPECT_EQ(pt_map_rw(l4), 0);
    rw[0] = 1; /* still ours, still writable */
}

/* A device frame in a table being pinned: read-only, while RAM keeps its RW. */
static void test_device_in_pin(void)
{
    uint64_t *t = pt_alloc();
    void *data = pt_alloc();

    TEST("the I/O APIC in a pinned L1 is made read-only, RAM entries keep RW");
    t[0] = pt_pte(data, PTE_DATA_RW);
    t[300] = (IOAPIC_MFN << 12) | PTE_P | PTE_RW;
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    guest_printf("     entry 0 0x%lx, entry 300 0x%lx\n", (unsigned long)t[0],
                 (unsigned long)t[300]);
    EXPECT_EQ(t[300] & (PTE_P | PTE_RW), PTE_P);
    EXPECT_EQ(t[0] & (PTE_P | PTE_RW | PTE_US), PTE_P | PTE_RW | PTE_US);
    EXPECT_EQ(pt_release(t), 0);
}

void test_main(void)
{
    static void (*const tests[])(void) = {
        test_last_entry, test_release_on_refusal, test_garbage_accepted, test_upper_levels,
        test_device_in_pin,
    };

    pt_run_tests(pool, 16, tests, sizeof(tests) / sizeof(tests[0]));
}
