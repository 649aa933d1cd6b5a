/*
 * PVH guest-physical memory: nested page tables and guest-virtual access
 * (see pvkit/npt.h for the invariants).
 *
 * The nested tables use the host's 4-level long-mode format; tables are
 * allocated on demand as hypervisor frames. The guest walk reads the
 * guest's own page-table entries through the nested map, one entry at a
 * time, so a guest table outside its memory is a fault, never a read of
 * someone else's frame.
 */
#include "pvkit/npt.h"
#include "pvkit/mm.h"
#include "pvkit/svm.h"
#include "pvkit/x86.h"

#define NPT_TABLE_FLAGS (PTE_P | PTE_RW | PTE_US)
#define NPT_LEAF_FLAGS  (PTE_P | PTE_RW | PTE_US)

int npt_create(struct domain *d)
{
    int64_t mfn = alloc_zeroed_frame(OWNER_HV);
    if (mfn < 0)
        return -XEN_ENOMEM;
    d->npt_root = (uint64_t)mfn;
    return 0;
}

/* The table entry at `level` (4..1) for gfn, allocating tables on the way if `alloc`; NULL if none. */
static uint64_t *npt_entry(uint64_t root, uint64_t gfn, bool alloc)
{
    uint64_t *table = mfn_to_virt(root);
    for (unsigned int level = 4; level > 1; level--) {
        uint64_t *e = &table[(gfn >> (9 * (level - 1))) & 511];
        if (!(*e & PTE_P)) {
            if (!alloc)
                return NULL;
            int64_t mfn = alloc_zeroed_frame(OWNER_HV);
            if (mfn < 0)
                return NULL;
            *e = ((uint64_t)mfn << PAGE_SHIFT) | NPT_TABLE_FLAGS;
        }
        table = mfn_to_virt((*e & PTE_ADDR_MASK) >> PAGE_SHIFT);
    }
    return &table[gfn & 511];
}

int npt_map(struct domain *d, uint64_t gfn, uint64_t mfn)
{
    if (gfn >= PVH_MAX_GFNS)
        return -XEN_EINVAL;
    uint64_t *e = npt_entry(d->npt_root, gfn, true);
    if (!e)
        return -XEN_ENOMEM;
    *e = (mfn << PAGE_SHIFT) | NPT_LEAF_FLAGS;
    return 0;
}

void npt_unmap(struct domain *d, uint64_t gfn)
{
    uint64_t *e = gfn < PVH_MAX_GFNS ? npt_entry(d->npt_root, gfn, false) : NULL;
    if (e)
        *e = 0;
}

int64_t npt_lookup(const struct domain *d, uint64_t gfn)
{
    if (gfn >= PVH_MAX_GFNS || !d->npt_root)
        return -XEN_EFAULT;
    const uint64_t *e = npt_entry(d->npt_root, gfn, false);
    if (!e || !(*e & PTE_P))
        return -XEN_EFAULT;
    return (int64_t)((*e & PTE_ADDR_MASK) >> PAGE_SHIFT);
}

/* Frees the table at mfn of `level` and the tables below it. */
static void npt_free_table(uint64_t mfn, unsigned int level)
{
    uint64_t *table = mfn_to_virt(mfn);
    for (unsigned int i = 0; level > 1 && i < PT_ENTRIES; i++)
        if (table[i] & PTE_P)
            npt_free_table((table[i] & PTE_ADDR_MASK) >> PAGE_SHIFT, level - 1);
    frame_free(&frame_table, mfn);
}

void npt_destroy(struct domain *d)
{
    if (d->npt_root)
        npt_free_table(d->npt_root, 4);
    d->npt_root = 0;
}

/* --- guest walk --------------------------------------------------------- */

/* Reads the guest-physical entry of `size` bytes at gpa. 0 or -XEN_EFAULT. */
static int read_gpa_entry(const struct domain *d, uint64_t gpa, unsigned int size, uint64_t *out)
{
    int64_t mfn = npt_lookup(d, gpa >> PAGE_SHIFT);
    if (mfn < 0)
        return -XEN_EFAULT;
    const uint8_t *p = (const uint8_t *)mfn_to_virt((uint64_t)mfn) + (gpa & (PAGE_SIZE - 1));
    *out = size == 4 ? *(const uint32_t *)p : *(const uint64_t *)p;
    return 0;
}

/* The guest's paging format: levels, entry size, and bits per level index. */
struct guest_paging {
    unsigned int levels, entry_size, index_bits;
    uint64_t top;                   /* guest-physical address of the top table */
};

/*
 * Translates guest linear va to a guest-physical address under v's paging
 * mode; `write` also requires every level writable (the hypervisor acts as
 * the guest kernel with CR0.WP set). 0 or -XEN_EFAULT.
 */
static int guest_translate(const struct vcpu *v, uint64_t va, bool write, uint64_t *gpa)
{
    const struct vmcb *vmcb = v->vmcb;
    const uint64_t efer_lma = 1ull << 10, cr0_pg = 1ull << 31, cr4_pse = 1ull << 4;
    struct guest_paging g;

    if (!(vmcb->cr0 & cr0_pg)) {
        *gpa = va & 0xffffffffull;
        return 0;
    }
    if (vmcb->efer & efer_lma)
        g = (struct guest_paging){ 4, 8, 9, vmcb->cr3 & PTE_ADDR_MASK };
    else if (vmcb->cr4 & CR4_PAE)
        g = (struct guest_paging){ 3, 8, 9, vmcb->cr3 & 0xffffffe0ull };
    else
        g = (struct guest_paging){ 2, 4, 10, vmcb->cr3 & 0xfffff000ull };
    if (!(vmcb->efer & efer_lma))
        va &= 0xffffffffull;

    uint64_t table = g.top, e = 0;
    for (unsigned int level = g.levels; level >= 1; level--) {
        unsigned int shift = PAGE_SHIFT + g.index_bits * (level - 1);
        uint64_t index = (va >> shift) & ((1ull << g.index_bits) - 1);
        if (g.levels == 3 && level == 3)
            index = (va >> 30) & 3;   /* PAE: four PDPTEs at CR3 */
        if (read_gpa_entry(v->domain, table + index * g.entry_size, g.entry_size, &e))
            return -XEN_EFAULT;
        bool pdpte = g.levels == 3 && level == 3;
        if (!(e & PTE_P) || (write && !pdpte && !(e & PTE_RW)))
            return -XEN_EFAULT;
        bool large = level == 2 && (e & PTE_PS) && (g.entry_size == 8 || (vmcb->cr4 & cr4_pse));
        if (large || level == 1) {
            uint64_t mask = (1ull << shift) - 1;
            uint64_t base = g.entry_size == 4 ? (e & 0xfffff000ull) : (e & PTE_ADDR_MASK);
            *gpa = (base & ~mask) | (va & mask);
            return 0;
        }
        if (level == 3 && g.levels == 4 && (e & PTE_PS))
            return -XEN_EFAULT;   /* 1 GiB pages are not offered (CPUID hides them) */
        table = g.entry_size == 4 ? (e & 0xfffff000ull) : (e & PTE_ADDR_MASK);
    }
    return -XEN_EFAULT;
}

/* Copies n bytes between buf and guest linear va of v, page by page. */
static int pvh_copy(const struct vcpu *v, uint64_t va, void *buf, size_t n, bool to_guest)
{
    uint8_t *p = buf;
    while (n) {
        uint64_t gpa, chunk = MIN((uint64_t)n, PAGE_SIZE - (va & (PAGE_SIZE - 1)));
        if (guest_translate(v, va, to_guest, &gpa))
            return -XEN_EFAULT;
        int64_t mfn = npt_lookup(v->domain, gpa >> PAGE_SHIFT);
        if (mfn < 0)
            return -XEN_EFAULT;
        uint8_t *mem = (uint8_t *)mfn_to_virt((uint64_t)mfn) + (gpa & (PAGE_SIZE - 1));
        if (to_guest)
            memcpy(mem, p, chunk);
        else
            memcpy(p, mem, chunk);
        va += chunk;
        p += chunk;
        n -= chunk;
    }
    return 0;
}

int pvh_copy_from_guest(const struct vcpu *v, void *dst, uint64_t va, size_t n)
{
    return pvh_copy(v, va, dst, n, false);
}

int pvh_copy_to_guest(const struct vcpu *v, uint64_t va, const void *src, size_t n)
{
    return pvh_copy(v, va, (void *)(uintptr_t)src, n, true);
}
