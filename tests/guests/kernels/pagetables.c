/*
 * pagetables: the initial page tables the builder made, inspected by
 * walking them from pt_base (a write to a page-table page would fault, and
 * with no trap table a fault kills the domain, so we read the RW bits
 * instead). Entries hold machine frame numbers; each is turned back into a
 * virtual address through the M2P and VIRT_BASE, which only works for
 * frames inside the initial mapping (checked before every dereference).
 *
 * Checks: the L4 slot of VIRT_BASE leads to an L3 inside the page-table
 * area; every page-table frame [pt_base, pt_base + nr_pt_frames) is mapped
 * present and read-only; ordinary pages (our stack, start_info, the p2m)
 * are mapped present and writable; no 2 MiB/1 GiB pages are used; the
 * hypervisor's M2P slot (L4 256) is present.
 */
#include "guest.h"

#define PTE_P   0x001UL
#define PTE_RW  0x002UL
#define PTE_PS  0x080UL
#define PTE_MFN 0x000ffffffffff000UL

/* Converts the MFN in PTE to our VA through the M2P; 0 if not reachable. */
static unsigned long pte_to_va(unsigned long pte)
{
    unsigned long mfn = (pte & PTE_MFN) >> 12, pfn;

    if (mfn >= MACH2PHYS_NR_ENTRIES)
        return 0;
    pfn = GUEST_M2P[mfn];
    if (pfn >= guest_start_info->nr_pages)
        return 0;
    return GUEST_VIRT_BASE + (pfn << 12);
}

/*
 * Walks the tables for VA down to its L1 entry; returns the L1 entry, or 0
 * if any level is absent, a superpage, or points outside our reach.
 */
static unsigned long walk(unsigned long va)
{
    const unsigned long *table = (const unsigned long *)guest_start_info->pt_base;

    for (int level = 4; level >= 1; level--) {
        unsigned long pte = table[(va >> (12 + 9 * (level - 1))) & 511];

        if (!(pte & PTE_P))
            return 0;
        if (level == 1)
            return pte;
        if (pte & PTE_PS)
            return 0;
        table = (const unsigned long *)pte_to_va(pte);
        if (!table)
            return 0;
    }
    return 0;
}

/* Checks L4 at pt_base; counts one result per EXPECT. */
static void test_l4(void)
{
    const start_info_t *si = guest_start_info;
    const unsigned long *l4 = (const unsigned long *)si->pt_base;
    unsigned long l3_va = pte_to_va(l4[511]);

    TEST("L4 at pt_base");
    EXPECT(l4[511] & PTE_P);
    EXPECT(l3_va >= si->pt_base && l3_va < si->pt_base + si->nr_pt_frames * 4096);
    EXPECT(l4[256] & PTE_P);
    for (int slot = 0; slot < 256; slot++)
        if (l4[slot] & PTE_P)
            guest_printf("     guest L4 slot %d present\n", slot);
}

/* Checks page-table frames mapped read-only; counts one result per EXPECT. */
static void test_pt_frames_readonly(void)
{
    const start_info_t *si = guest_start_info;
    unsigned long unmapped = 0, writable = 0;

    TEST("page-table frames mapped read-only");
    for (unsigned long i = 0; i < si->nr_pt_frames; i++) {
        unsigned long pte = walk(si->pt_base + i * 4096);

        if (!pte)
            unmapped++;
        else if (pte & PTE_RW)
            writable++;
    }
    guest_printf("     %lu frames: %lu unmapped, %lu writable\n",
                 si->nr_pt_frames, unmapped, writable);
    EXPECT_EQ(unmapped, 0);
    EXPECT_EQ(writable, 0);
}

/* Checks that the page holding VA is mapped present and writable. */
static void expect_writable(const char *what, unsigned long va)
{
    unsigned long pte = walk(va);

    guest_printf("     %s 0x%lx: pte 0x%lx\n", what, va, pte);
    EXPECT((pte & (PTE_P | PTE_RW)) == (PTE_P | PTE_RW));
}

/* Checks ordinary pages mapped writable; counts one result per EXPECT. */
static void test_data_writable(void)
{
    static unsigned long probe;

    TEST("ordinary pages mapped writable");
    expect_writable("bss", (unsigned long)&probe);
    expect_writable("start_info", (unsigned long)guest_start_info);
    expect_writable("mfn_list", guest_start_info->mfn_list);
    probe = 1;
    EXPECT_EQ(probe, 1);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    test_l4();
    test_pt_frames_readonly();
    test_data_writable();
}
