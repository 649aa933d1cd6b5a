/*
 * Page-table helpers for the PV MMU test kernels.
 *
 * A PV guest sees its page tables with machine frame numbers in them and
 * may read (never write) them directly; every change goes through
 * hypercalls. These helpers translate between our virtual addresses,
 * pseudo-physical frames (pfn = (va - VIRT_BASE) >> 12, our PADDR_OFFSET is
 * 0) and machine frames (p2m = start_info->mfn_list, M2P at
 * MACH2PHYS_VIRT_START), walk the current kernel page tables to find the
 * entry (and its machine address) for a VA, and hand out zeroed pages from
 * a pool that the kernel provides (so kernels that do not need one pay
 * nothing). Only frames inside our image and page-table area have a VA; the
 * helpers return 0/NULL for anything else rather than dereference it.
 */
#ifndef GUEST_PT_H
#define GUEST_PT_H

#include "guest.h"
#include "hyp.h"

#define PTE_P    0x001UL
#define PTE_RW   0x002UL
#define PTE_US   0x004UL
#define PTE_PWT  0x008UL
#define PTE_PCD  0x010UL
#define PTE_A    0x020UL
#define PTE_D    0x040UL
#define PTE_PS   0x080UL
#define PTE_G    0x100UL
#define PTE_NX   (1UL << 63)
#define PTE_MFN  0x000ffffffffff000UL

/* Flags of an ordinary data mapping, RW and RO. */
#define PTE_DATA_RW (PTE_P | PTE_RW | PTE_A | PTE_D)
#define PTE_DATA_RO (PTE_P | PTE_A)
/* Flags of an entry pointing to a lower-level table. */
#define PTE_TABLE   (PTE_P | PTE_RW | PTE_US | PTE_A)

/* The machine frame of the kernel L4 we run on (NEW_BASEPTR updates it). */
extern unsigned long pt_cur_l4_mfn;

/* Pseudo-physical frame of our virtual address VA. */
unsigned long pt_pfn_of(const void *va);

/* Machine frame of our virtual address VA, from the p2m. */
unsigned long pt_mfn_of(const void *va);

/* Our VA of machine frame MFN through the M2P, or NULL if not ours/mapped. */
void *pt_va_of_mfn(unsigned long mfn);

/* Machine address of the byte at VA (mfn << 12 | offset). */
uint64_t pt_ma_of(const void *va);

/*
 * The LEVEL (1..4) entry that maps VA in the current kernel tables, or NULL
 * if a level above it is absent, a superpage, or outside our reach.
 */
uint64_t *pt_entry(unsigned long va, int level);

/* Machine address of that entry, or 0. */
uint64_t pt_entry_ma(unsigned long va, int level);

/* Hands POOL (N page-aligned pages, mapped RW) to pt_alloc and sets
 * pt_cur_l4_mfn from start_info; call it first. */
void pt_pool_init(void *pool, unsigned int n);

/* The whole test_main of a page-table kernel: pt_pool_init(POOL, N), the
 * trap handlers installed (checked), then each of the NT TESTS in order. */
void pt_run_tests(void *pool, unsigned int n, void (*const tests[])(void), unsigned int nt);

/* A zeroed, RW-mapped page from the pool; stops the test if none is left. */
void *pt_alloc(void);

/* Remaps our page PAGE read-only / read-write (update_va_mapping INVLPG). */
long pt_map_ro(void *page);
long pt_map_rw(void *page);

/* Pins PAGE (already RO) as a LEVEL table / unpins it; mmuext_op result. */
long pt_pin(int level, void *page);
long pt_unpin(void *page);

/* Saves the 512 entries of TABLE into COPY, maps TABLE read-only (checked)
 * and pins it as an L1; returns the pin's result. */
long pt_pin_l1_saved(uint64_t *table, uint64_t *copy);

/* How many of entries 0..N-1 of TABLE differ from COPY, entries SKIP_A and
 * SKIP_B not counted (pass N for none). */
unsigned int pt_entries_changed(const uint64_t *table, const uint64_t *copy, unsigned int n,
                                unsigned int skip_a, unsigned int skip_b);

/* The end of a pinned table's life in a test: unpins PAGE and maps it
 * read-write again. 0, or the first step's failure (then the second is
 * not tried). */
long pt_release(void *page);

/*
 * Pins PAGE (already RO) as an L1 and unpins it: the first failure, or 0
 * (a page that still holds a writable type somewhere will not pin).
 */
static inline long pt_pin_and_unpin(void *page)
{
    long rc = pt_pin(1, page);
    return rc ? rc : pt_unpin(page);
}

/*
 * A RAM frame that is not ours: the one after the highest machine frame in
 * our p2m (the builder hands out a contiguous run on Xen and pvkit), if it
 * is below XENMEM_maximum_ram_page and not in our p2m; else the one before
 * the lowest. Hostile tests map, pin or write it and expect a refusal.
 */
unsigned long pt_foreign_mfn(void);

/*
 * Maps start_info->shared_info (a machine address) at a pool page with
 * update_va_mapping and returns it; NULL on failure.
 */
shared_info_t *pt_map_shared_info(void);

/*
 * Fills a three-level tree below L3: NR_L2 L2s (512 entries each, every one
 * naming an L1) and NR_L2 * 512 L1s, each with its first L1_ENTRIES entries
 * mapping DATA read-only; then remaps every table read-only (not pinned).
 * Returns how many of those remaps failed.
 */
static inline unsigned long pt_build_tree(uint64_t (*l1s)[512], int l1_entries,
                                          uint64_t (*l2s)[512], unsigned long nr_l2,
                                          uint64_t *l3, const void *data)
{
    unsigned long nr_l1 = nr_l2 * 512, bad = 0;

    for (unsigned long i = 0; i < nr_l1; i++)
        for (int j = 0; j < l1_entries; j++)
            l1s[i][j] = ((uint64_t)pt_mfn_of(data) << 12) | PTE_DATA_RO;
    for (unsigned long i = 0; i < nr_l2; i++)
        for (int j = 0; j < 512; j++)
            l2s[i][j] = ((uint64_t)pt_mfn_of(l1s[i * 512 + j]) << 12) | PTE_TABLE;
    for (unsigned long i = 0; i < nr_l2; i++)
        l3[i] = ((uint64_t)pt_mfn_of(l2s[i]) << 12) | PTE_TABLE;
    for (unsigned long i = 0; i < nr_l1; i++)
        bad += pt_map_ro(l1s[i]) != 0;
    for (unsigned long i = 0; i < nr_l2; i++)
        bad += pt_map_ro(l2s[i]) != 0;
    bad += pt_map_ro(l3) != 0;
    return bad;
}

/* An L1 entry mapping our page VA with FLAGS (PTE_DATA_RW, ...). */
static inline uint64_t pt_pte(const void *va, uint64_t flags)
{
    return ((uint64_t)pt_mfn_of(va) << 12) | flags;
}

/* The pin command for LEVEL (1..4). */
static inline unsigned int pt_pin_cmd(int level)
{
    return MMUEXT_PIN_L1_TABLE + (unsigned int)(level - 1);
}

/* Index of VA in a LEVEL table. */
static inline unsigned int pt_index(unsigned long va, int level)
{
    return (unsigned int)(va >> (12 + 9 * (level - 1))) & 511;
}

/* Invalidates the TLB entry for VA on this vCPU (MMUEXT_INVLPG_LOCAL). */
static inline long pt_invlpg(unsigned long va)
{
    return hyp_mmuext1(MMUEXT_INVLPG_LOCAL, va);
}

/* One mmu_update request, done count ignored; returns the result. */
static inline long pt_mmu1(uint64_t ptr, uint64_t val)
{
    mmu_update_t req = { .ptr = ptr, .val = val };

    return hyp_mmu_update(&req, 1, NULL, DOMID_SELF);
}

/*
 * Maps machine frame MFN of domain DOM (DOMID_SELF: ours) writable and
 * non-executable at our page VA (mmu_update of its L1 entry naming DOM as
 * the foreign domain), then drops VA's old TLB entry; mmu_update's result.
 */
static __attribute__((unused, noinline)) long pt_map_frame(void *va, uint64_t mfn, domid_t dom)
{
    mmu_update_t req = { .ptr = pt_entry_ma((unsigned long)va, 1),
                         .val = (mfn << 12) | PTE_DATA_RW | PTE_NX };
    long rc = hyp_mmu_update(&req, 1, NULL, dom);

    if (rc == 0)
        pt_invlpg((unsigned long)va);
    return rc;
}

#endif
