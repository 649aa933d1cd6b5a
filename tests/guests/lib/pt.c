/*
 * Page-table helpers for the PV MMU test kernels (contract in pt.h).
 *
 * Reachability rule: a machine frame has a VA for us only if the M2P maps it
 * to a pfn below the end of the builder's page-table area plus one page (its
 * boot stack) — everything the builder mapped for us at VIRT_BASE and that
 * we can rely on under any Xen-ABI builder. The pool pages live in our .bss,
 * which is inside that range.
 */
#include "pt.h"
#include "traps.h"

unsigned long pt_cur_l4_mfn;

static unsigned char *pool_next;
static unsigned int pool_left;

/* Number of pfns, from 0, that are mapped at VIRT_BASE + pfn * 4096. */
static unsigned long mapped_pfns(void)
{
    const start_info_t *si = guest_start_info;

    return ((si->pt_base - GUEST_VIRT_BASE) >> 12) + si->nr_pt_frames + 1;
}

unsigned long pt_pfn_of(const void *va)
{
    return ((unsigned long)va - GUEST_VIRT_BASE) >> 12;
}

unsigned long pt_mfn_of(const void *va)
{
    return ((const unsigned long *)guest_start_info->mfn_list)[pt_pfn_of(va)];
}

void *pt_va_of_mfn(unsigned long mfn)
{
    unsigned long pfn;

    if (mfn >= MACH2PHYS_NR_ENTRIES)
        return NULL;
    pfn = GUEST_M2P[mfn];
    if (pfn >= mapped_pfns())
        return NULL;
    return (void *)(GUEST_VIRT_BASE + (pfn << 12));
}

uint64_t pt_ma_of(const void *va)
{
    return ((uint64_t)pt_mfn_of(va) << 12) | ((unsigned long)va & 4095);
}

/* The current L4's VA, learning it from start_info on first use. */
static uint64_t *cur_l4(void)
{
    if (!pt_cur_l4_mfn)
        pt_cur_l4_mfn = pt_mfn_of((void *)guest_start_info->pt_base);
    return pt_va_of_mfn(pt_cur_l4_mfn);
}

uint64_t *pt_entry(unsigned long va, int level)
{
    uint64_t *table = cur_l4();

    for (int l = 4; table; l--) {
        uint64_t *e = &table[pt_index(va, l)];

        if (l == level)
            return e;
        if (!(*e & PTE_P) || (l < 4 && (*e & PTE_PS)))
            return NULL;
        table = pt_va_of_mfn((*e & PTE_MFN) >> 12);
    }
    return NULL;
}

uint64_t pt_entry_ma(unsigned long va, int level)
{
    uint64_t *e = pt_entry(va, level);

    return e ? pt_ma_of(e) : 0;
}

void pt_pool_init(void *pool, unsigned int n)
{
    pool_next = pool;
    pool_left = n;
    cur_l4();
}

void *pt_alloc(void)
{
    void *page = pool_next;

    if (!pool_left) {
        guest_printf("FAIL pt_alloc: page pool exhausted\n");
        guest_shutdown(SHUTDOWN_crash);
    }
    pool_next += 4096;
    pool_left--;
    memset(page, 0, 4096);
    return page;
}

long pt_map_ro(void *page)
{
    return hyp_update_va_mapping((unsigned long)page,
                                 ((uint64_t)pt_mfn_of(page) << 12) | PTE_DATA_RO,
                                 UVMF_INVLPG);
}

long pt_map_rw(void *page)
{
    return hyp_update_va_mapping((unsigned long)page,
                                 ((uint64_t)pt_mfn_of(page) << 12) | PTE_DATA_RW,
                                 UVMF_INVLPG);
}

long pt_pin(int level, void *page)
{
    return hyp_mmuext1(pt_pin_cmd(level), pt_mfn_of(page));
}

long pt_unpin(void *page)
{
    return hyp_mmuext1(MMUEXT_UNPIN_TABLE, pt_mfn_of(page));
}

void pt_run_tests(void *pool, unsigned int n, void (*const tests[])(void), unsigned int nt)
{
    pt_pool_init(pool, n);
    EXPECT_EQ(trap_install(-1), 0);
    test_run_all(tests, nt);
}

long pt_pin_l1_saved(uint64_t *table, uint64_t *copy)
{
    for (unsigned int i = 0; i < 512; i++)
        copy[i] = table[i];
    EXPECT_EQ(pt_map_ro(table), 0);
    return pt_pin(1, table);
}

unsigned int pt_entries_changed(const uint64_t *table, const uint64_t *copy, unsigned int n,
                                unsigned int skip_a, unsigned int skip_b)
{
    unsigned int changed = 0;

    for (unsigned int i = 0; i < n; i++)
        changed += i != skip_a && i != skip_b && table[i] != copy[i];
    return changed;
}

long pt_release(void *page)
{
    long rc = pt_unpin(page);

    return rc ? rc : pt_map_rw(page);
}

/* 1 if machine frame MFN is in our p2m. */
static int ours(unsigned long mfn)
{
    unsigned long pfn;

    if (mfn >= MACH2PHYS_NR_ENTRIES)
        return 0;
    pfn = GUEST_M2P[mfn];
    return pfn < guest_start_info->nr_pages &&
           ((const unsigned long *)guest_start_info->mfn_list)[pfn] == mfn;
}

unsigned long pt_foreign_mfn(void)
{
    const unsigned long *p2m = (const unsigned long *)guest_start_info->mfn_list;
    unsigned long lo = ~0UL, hi = 0;
    long max_ram = hyp_memory_op(XENMEM_maximum_ram_page, NULL);

    for (unsigned long pfn = 0; pfn < guest_start_info->nr_pages; pfn++) {
        if (p2m[pfn] < lo)
            lo = p2m[pfn];
        if (p2m[pfn] > hi)
            hi = p2m[pfn];
    }
    if (max_ram > 0 && hi + 1 < (unsigned long)max_ram && !ours(hi + 1))
        return hi + 1;
    return lo - 1;
}

shared_info_t *pt_map_shared_info(void)
{
    void *win = pt_alloc();
    long rc = hyp_update_va_mapping((unsigned long)win,
                                    (guest_start_info->shared_info & PTE_MFN) | PTE_DATA_RW,
                                    UVMF_INVLPG);

    return rc ? NULL : win;
}
