/*
 * mmu_pin_counts: reference and type counts of sparse tables (mostly
 * not-present entries carrying garbage) across pin, mmu_update, unpin and
 * repin, and entries that must never become present in them.
 *
 * Why: validation and release step over not-present entries without a call
 * (mm/pagetype.c). An entry that validation took references for but release
 * skipped (or the reverse) would leak a count (a page table stays typed, a
 * page can never become a table again) or underflow one (a page still
 * mapped writable loses its writable type and can be pinned as a table,
 * then written through the old mapping). Counts are observed through what
 * the hypervisor then allows: pinning a page as an L1 needs its writable
 * type count at zero, mapping it writable needs it untyped.
 *
 * Checks: (counts) a garbage L1 T whose entry 5 maps page W (ours, mapped
 * read-only elsewhere) writable: pinned, W cannot be pinned (-EINVAL); entry
 * 5 made not-present by mmu_update with its other bits kept -> W pins and
 * unpins; made present RW again -> W refused again; made present read-only
 * -> W pins; unpin of T with 5 RW -> W pins, T maps writable; T repinned
 * with W mapped writable by us too, unpinned, W remapped read-only -> W
 * pins (no count left behind). (underflow) W mapped writable by us, T pins
 * with 5 RW, 5 made not-present by mmu_update, T unpinned and repinned
 * three times -> W can never be pinned while our RW mapping exists, and it
 * can once that is gone. (refusals in a pinned garbage L1, each made
 * present through mmu_update from a not-present entry with the same bits)
 * our L4, the L3, L2 and L1 that map this code, and T itself, writable ->
 * -EBUSY; read-only -> accepted (as Xen) and cleared again; a frame beyond
 * the end of memory (1 TiB) -> accepted by pvkit (we are the privileged
 * domain, it is I/O space), -EPERM on Xen 4.17, entry unchanged if refused; the local APIC -> -EPERM; another domain's RAM frame
 * -> refused; reserved address bit 51 -> -EPERM; the entry is unchanged after each
 * refusal and T unpins. (upper levels) our L4's first free slot set to our
 * L4 itself writable (a recursive mapping) -> refused; an L2 with a
 * not-present garbage entry at 0 and PS at 1 -> pin -EINVAL, and the same
 * L2 with PS cleared at 1 pins, its L1 child then cannot be mapped
 * writable, and after the unpin it can (the child's type was released).
 * (writable page tables) in a pinned garbage L1 hooked at WRPT_VA, direct
 * stores setting P on garbage entries (our L4 writable) -> #PF, entry
 * unchanged; a store mapping W writable, clearing P, setting P again: W's
 * pin refused, accepted, refused; unhooked and unpinned, W pins.
 */
#include "traps.h"
#include "pt.h"

#define BIT51        (1UL << 51)
#define LAPIC_MFN    0xFEE00UL
#define BEYOND_RAM   0xFFFFFFFUL   /* 1 TiB: below 36 address bits, above any RAM here */
#define WRPT_VA      (GUEST_VIRT_BASE + (66UL << 20)) /* a 2 MiB slot of the boot L2, unused */

static char pool[16][4096] __attribute__((aligned(4096)));

/* Fills t with not-present entries full of garbage (RW, US, PS, NX, an address). */
static void fill_garbage(uint64_t *t)
{
    for (unsigned int i = 0; i < 512; i++)
        t[i] = ((uint64_t)pt_cur_l4_mfn << 12) | PTE_RW | PTE_US | PTE_PS | PTE_A | PTE_D |
               (i & 1 ? PTE_NX : BIT51);
}

/* 0 if page pins as an L1 and unpins again (its type counts are at zero). */
static long pins_clean(void *page)
{
    long rc = pt_pin(1, page);
    if (rc)
        return rc;
    return pt_unpin(page);
}

static void test_count_cycles(void)
{
    uint64_t *t = pt_alloc(), *w = pt_alloc();
    uint64_t e5 = pt_ma_of(&t[5]);

    TEST("an entry toggled not-present/present in a pinned sparse L1: exact counts");
    fill_garbage(t);
    t[5] = pt_pte(w, PTE_DATA_RW);
    EXPECT_EQ(pt_map_ro(w), 0);
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    EXPECT_EQ(pt_pin(1, w), -XEN_EINVAL);
    EXPECT_EQ(pt_mmu1(e5, t[5] & ~PTE_P), 0);
    EXPECT_EQ(t[5] & PTE_P, 0);
    EXPECT_EQ(pins_clean(w), 0);
    EXPECT_EQ(pt_mmu1(e5, t[5] | PTE_P), 0);
    EXPECT_EQ(pt_pin(1, w), -XEN_EINVAL);
    EXPECT_EQ(pt_mmu1(e5, pt_pte(w, PTE_DATA_RO)), 0);
    EXPECT_EQ(pins_clean(w), 0);
    EXPECT_EQ(pt_mmu1(e5, pt_pte(w, PTE_DATA_RW)), 0);
    EXPECT_EQ(pt_unpin(t), 0);
    EXPECT_EQ(pins_clean(w), 0);
    EXPECT_EQ(pt_map_rw(t), 0);
    TEST("repin with W mapped writable twice, unpin: no count left behind");
    EXPECT_EQ(pt_map_rw(w), 0);
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    EXPECT_EQ(pt_unpin(t), 0);
    EXPECT_EQ(pt_pin(1, w), -XEN_EINVAL); /* our own RW mapping */
    EXPECT_EQ(pt_map_ro(w), 0);
    EXPECT_EQ(pins_clean(w), 0);
    EXPECT_EQ(pt_map_rw(w), 0);
    EXPECT_EQ(pt_map_rw(t), 0);
}

static void test_no_underflow(void)
{
    uint64_t *t = pt_alloc(), *w = pt_alloc();

    TEST("an entry cleared while pinned is not released again at unpin");
    fill_garbage(t);
    t[5] = pt_pte(w, PTE_DATA_RW);
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    EXPECT_EQ(pt_mmu1(pt_ma_of(&t[5]), t[5] & ~PTE_P), 0);
    for (int round = 0; round < 3; round++) {
        EXPECT_EQ(pt_unpin(t), 0);
        EXPECT_EQ(pt_pin(1, w), -XEN_EINVAL); /* still mapped RW by us */
        EXPECT_EQ(pt_pin(1, t), 0);
    }
    EXPECT_EQ(pt_unpin(t), 0);
    ((volatile uint64_t *)w)[0] = PTE_RW; /* still writable (a not-present entry if pinned) */
    EXPECT_EQ(pt_map_ro(w), 0);
    EXPECT_EQ(pins_clean(w), 0);
    EXPECT_EQ(pt_map_rw(w), 0);
    EXPECT_EQ(pt_map_rw(t), 0);
}

/* Makes not-present entry 9 of pinned t present as VAL; the entry must stay if refused. */
static long make_present(uint64_t *t, uint64_t val)
{
    uint64_t before = t[9];
    long rc = pt_mmu1(pt_ma_of(&t[9]), val);

    if (rc)
        EXPECT_EQ(t[9], before);
    return rc;
}

/* MFN writable -> want_rw; read-only -> accepted and cleared again. */
static void own_table(uint64_t *t, uint64_t mfn, const char *what)
{
    long rc = make_present(t, (mfn << 12) | PTE_DATA_RW);
    guest_printf("     %s writable: %ld\n", what, rc);
    EXPECT_EQ(rc, -XEN_EBUSY);
    EXPECT_EQ(make_present(t, (mfn << 12) | PTE_DATA_RO), 0);
    EXPECT_EQ(make_present(t, (mfn << 12) | PTE_RW | BIT51), 0); /* not present again */
}

static void test_refusals(void)
{
    uint64_t *t = pt_alloc();
    unsigned long va = (unsigned long)&test_refusals;

    TEST("entries made present in a pinned garbage L1");
    fill_garbage(t);
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    own_table(t, pt_cur_l4_mfn, "our L4");
    for (int level = 3; level >= 1; level--)
        own_table(t, pt_entry(va, level + 1) ? (*pt_entry(va, level + 1) & PTE_MFN) >> 12 : 0,
                  level == 3 ? "our L3" : level == 2 ? "our L2" : "our L1");
    own_table(t, pt_mfn_of(t), "T itself");
    long rc = make_present(t, (BEYOND_RAM << 12) | PTE_DATA_RO);
    guest_printf("     beyond RAM (we are the privileged domain): %ld\n", rc);
    EXPECT(rc == 0 || rc == -XEN_EPERM); /* pvkit: I/O space of dom0; Xen 4.17: -EPERM */
    EXPECT_EQ(make_present(t, 0), 0);
    EXPECT_EQ(make_present(t, (LAPIC_MFN << 12) | PTE_DATA_RO), -XEN_EPERM);
    rc = make_present(t, ((uint64_t)pt_foreign_mfn() << 12) | PTE_DATA_RO);
    guest_printf("     another domain's frame: %ld\n", rc);
    EXPECT(rc < 0);
    EXPECT_EQ(make_present(t, pt_pte(pool, PTE_DATA_RO | BIT51)), -XEN_EPERM);
    EXPECT_EQ(make_present(t, 0), 0);
    EXPECT_EQ(pt_release(t), 0);
}

static void test_upper_levels(void)
{
    uint64_t *l4 = (uint64_t *)pt_va_of_mfn(pt_cur_l4_mfn);
    uint64_t *l2 = pt_alloc(), *l1 = pt_alloc();
    unsigned int slot = 1;

    TEST("a recursive L4 entry, PS in a sparse L2, and the child's type after unpin");
    while (slot < 256 && (l4[slot] & PTE_P))
        slot++;
    EXPECT(slot < 256);
    long rc = pt_mmu1(((uint64_t)pt_cur_l4_mfn << 12) + slot * 8,
                      ((uint64_t)pt_cur_l4_mfn << 12) | PTE_TABLE);
    guest_printf("     L4[%u] = our L4, writable: %ld\n", slot, rc);
    EXPECT(rc < 0);
    EXPECT_EQ(l4[slot] & PTE_P, 0);
    EXPECT_EQ(pt_map_rw(l4), -XEN_EBUSY);
    fill_garbage(l2);
    l2[1] = pt_pte(l1, PTE_TABLE | PTE_PS);
    EXPECT_EQ(pt_map_ro(l1), 0);
    EXPECT_EQ(pt_map_ro(l2), 0);
    EXPECT_EQ(pt_pin(2, l2), -XEN_EINVAL);
    EXPECT_EQ(pt_map_rw(l1), 0); /* not left typed by the refusal */
    EXPECT_EQ(pt_map_ro(l1), 0);
    EXPECT_EQ(pt_mmu1(pt_ma_of(&l2[1]), l2[1] & ~PTE_PS), 0); /* L2 untyped: a plain store */
    EXPECT_EQ(pt_pin(2, l2), 0);
    EXPECT_EQ(pt_map_rw(l1), -XEN_EBUSY);
    EXPECT_EQ(pt_unpin(l2), 0);
    EXPECT_EQ(pt_map_rw(l1), 0);
    EXPECT_EQ(pt_map_rw(l2), 0);
}

/* A direct MOV of V into *P (a read-only L1 entry): the traps it took (0: emulated). */
static unsigned long direct_store(uint64_t *p, uint64_t v)
{
    unsigned long before = trap_last.count;

    __asm__ volatile(TRAP_PROBE_ASM("movq %1, (%0)") : : "r"(p), "r"(v) : "r11", "memory");
    trap_resume = 0;
    return trap_last.count - before;
}

static void test_wrpt(void)
{
    uint64_t *t = pt_alloc(), *w = pt_alloc();

    TEST("garbage entries made present by emulated stores into an in-use L1");
    fill_garbage(t);
    EXPECT_EQ(pt_map_ro(w), 0);
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    EXPECT_EQ(pt_mmu1(pt_entry_ma(WRPT_VA, 2), pt_pte(t, PTE_TABLE)), 0);
    EXPECT_EQ(hyp_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
    uint64_t before = t[9];
    EXPECT_EQ(direct_store(&t[9], before | PTE_P), 1); /* our L4 RW (NX set) */
    EXPECT_EQ(trap_last.vector, 14);
    EXPECT_EQ(t[9], before);
    EXPECT_EQ(direct_store(&t[10], t[10] | PTE_P), 1); /* our L4 RW, bit 51 */
    EXPECT_EQ(direct_store(&t[11], pt_pte(w, PTE_DATA_RW)), 0);
    EXPECT_EQ(pt_pin(1, w), -XEN_EINVAL);
    EXPECT_EQ(direct_store(&t[11], t[11] & ~PTE_P), 0);
    EXPECT_EQ(pins_clean(w), 0);
    EXPECT_EQ(direct_store(&t[11], t[11] | PTE_P), 0);
    EXPECT_EQ(pt_pin(1, w), -XEN_EINVAL);
    EXPECT_EQ(pt_mmu1(pt_entry_ma(WRPT_VA, 2), 0), 0);
    EXPECT_EQ(pt_unpin(t), 0);
    EXPECT_EQ(pins_clean(w), 0);
    EXPECT_EQ(pt_map_rw(t), 0);
    EXPECT_EQ(pt_map_rw(w), 0);
}

void test_main(void)
{
    static void (*const tests[])(void) = {
        test_count_cycles, test_no_underflow, test_refusals, test_upper_levels, test_wrpt,
    };

    pt_run_tests(pool, 16, tests, sizeof(tests) / sizeof(tests[0]));
}
