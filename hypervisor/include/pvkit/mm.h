/*
 * Machine memory as the hypervisor manages it: the direct map, the frame
 * table, the machine-to-phys (M2P) table, and page-table entry bits.
 *
 * All machine memory is mapped at DIRECTMAP_BASE, so any frame can be reached
 * with mfn_to_virt(). The M2P table is mapped read-only and user-accessible at
 * M2P_VIRT_START in every address space; the hypervisor updates it through
 * the direct map with m2p_set().
 */
#ifndef PVKIT_MM_H
#define PVKIT_MM_H

#include "pvkit/bootinfo.h"
#include "pvkit/frame.h"
#include "pvkit/layout.h"

#define PTE_P       (1ull << 0)
#define PTE_RW      (1ull << 1)
#define PTE_US      (1ull << 2)
#define PTE_PWT     (1ull << 3)
#define PTE_PCD     (1ull << 4)
#define PTE_A       (1ull << 5)
#define PTE_D       (1ull << 6)
#define PTE_PS      (1ull << 7)
#define PTE_G       (1ull << 8)
#define PTE_NX      (1ull << 63)
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ull
#define PT_ENTRIES  512

#define L4_INDEX(va) (((va) >> 39) & 511)
#define L3_INDEX(va) (((va) >> 30) & 511)
#define L2_INDEX(va) (((va) >> 21) & 511)
#define L1_INDEX(va) (((va) >> 12) & 511)

#define INVALID_M2P_ENTRY (~0ull)

extern struct frame_table frame_table;
/* The hypervisor's own L4; its slots 256-271 are copied into every guest L4. */
extern uint64_t *idle_l4;

static inline void *phys_to_virt(uint64_t pa)
{
    return (void *)(uintptr_t)(DIRECTMAP_BASE + pa);
}

static inline uint64_t virt_to_phys(const void *va)
{
    return (uint64_t)(uintptr_t)va - DIRECTMAP_BASE;
}

static inline void *mfn_to_virt(uint64_t mfn)
{
    return phys_to_virt(mfn << PAGE_SHIFT);
}

/*
 * Sets up the frame table, the direct map of all RAM and the M2P table from
 * the boot memory map, and switches to the hypervisor's own page tables.
 * Module frames stay reserved. Panics if memory is too small to continue.
 */
void mm_init(const struct boot_info *bi);

/* Allocates a zeroed frame for owner; returns its mfn or -XEN_ENOMEM. */
int64_t alloc_zeroed_frame(uint32_t owner);

void m2p_set(uint64_t mfn, uint64_t pfn);
/* The M2P entry of mfn; INVALID_M2P_ENTRY past the table. */
uint64_t m2p_get(uint64_t mfn);

/*
 * Frees a guest frame whatever still counts references to it, and forgets
 * its M2P entry: for a dead domain's frames, once nothing can use them.
 */
static inline void frame_reclaim(uint64_t mfn)
{
    struct frame *f = frame_get(&frame_table, mfn);
    if (!f)
        return;
    f->type_count = f->ref_count = 0;
    m2p_set(mfn, INVALID_M2P_ENTRY);
    frame_free(&frame_table, mfn);
}

/* Copies the hypervisor's L4 slots into a guest L4. */
void install_hv_l4_slots(uint64_t *l4);

/* The direct-map pointer to a frame's contents (unit tests provide their own). */
void *frame_page(uint64_t mfn);

/* Highest machine frame number + 1 (the M2P table's size in entries). */
uint64_t max_mfn(void);

#endif
