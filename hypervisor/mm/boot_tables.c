/*
 * A new domain's initial page tables, built by the domain builder
 * (common/domain_build.c) in the boot region boot_layout computed: the L4,
 * then the L3s, L2s and L1s, in pseudo-physical frames from l->pt_pfn on.
 *
 * Every page from pfn 0 to l->mapped_pages is mapped at l->virt_base + pfn *
 * 4 KiB, read-write, except the page-table pages themselves, mapped
 * read-only; pages past the kernel image are no-execute. The tables are
 * written directly and their frames given the state validation would have
 * left (so no validation runs): the L4 pinned and the current kernel CR3
 * (type count 2), each other table referenced once by its parent (type
 * count 1), every other mapped page typed writable with one mapping, and
 * every frame one reference per mapping of it. The frames are the
 * builder's alone (the domain is unreachable while it is built), under the
 * hypervisor lock.
 */
#include "pvkit/boot_tables.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"

#define BOOT_PTE_FLAGS   (PTE_P | PTE_US | PTE_A)
#define BOOT_TABLE_FLAGS (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)

/* Sets a frame's type, counts and flags as the tables built here leave them. */
static void set_frame_state(uint64_t mfn, enum frame_type type, uint32_t type_count,
                            uint32_t ref_count, uint8_t flags)
{
    struct frame *f = frame_get(&frame_table, mfn);
    f->type = (uint8_t)type;
    f->type_count = type_count;
    f->ref_count = ref_count;
    f->flags = flags;
}

/* Returns the table below entry *e, creating it at the next pfn of its level. */
static uint64_t *next_level(uint64_t *e, uint64_t *next_pfn, enum frame_type type,
                            boot_p2m_fn *p2m)
{
    if (!(*e & PTE_P)) {
        uint64_t mfn = p2m((*next_pfn)++);
        *e = (mfn << PAGE_SHIFT) | BOOT_TABLE_FLAGS;
        /* Referenced by its parent entry and by its read-only mapping. */
        set_frame_state(mfn, type, 1, 2, FRAME_VALIDATED);
    }
    return mfn_to_virt((*e & PTE_ADDR_MASK) >> PAGE_SHIFT);
}

void boot_tables_build(const struct boot_layout *l, boot_p2m_fn *p2m)
{
    uint64_t next_l3 = l->pt_pfn + 1;
    uint64_t next_l2 = next_l3 + l->nr_l3;
    uint64_t next_l1 = next_l2 + l->nr_l2;
    uint64_t l4_mfn = p2m(l->pt_pfn);
    uint64_t *l4 = mfn_to_virt(l4_mfn);

    install_hv_l4_slots(l4);
    /* Pinned, and the current CR3: two type references, plus its mapping. */
    set_frame_state(l4_mfn, FRAME_TYPE_L4, 2, 3, FRAME_PINNED | FRAME_VALIDATED);

    for (uint64_t pfn = 0; pfn < l->mapped_pages; pfn++) {
        uint64_t va = l->virt_base + (pfn << PAGE_SHIFT);
        uint64_t *l3 = next_level(&l4[L4_INDEX(va)], &next_l3, FRAME_TYPE_L3, p2m);
        uint64_t *l2 = next_level(&l3[L3_INDEX(va)], &next_l2, FRAME_TYPE_L2, p2m);
        uint64_t *l1 = next_level(&l2[L2_INDEX(va)], &next_l1, FRAME_TYPE_L1, p2m);
        uint64_t mfn = p2m(pfn);
        bool is_table = pfn >= l->pt_pfn && pfn - l->pt_pfn < l->nr_pt_frames;

        /*
         * Nothing past the kernel image is code: map it no-execute, so the
         * part of the boot map the guest does not tear down (padding beyond
         * the 4 MiB its clean-up rounds to) is not writable and executable.
         */
        uint64_t nx = pfn >= l->kernel_end_pfn ? pte_nx_mask : 0;
        l1[L1_INDEX(va)] = (mfn << PAGE_SHIFT) | BOOT_PTE_FLAGS | (is_table ? 0 : PTE_RW) | nx;
        if (!is_table)
            set_frame_state(mfn, FRAME_TYPE_WRITABLE, 1, 1, 0);
    }
}
