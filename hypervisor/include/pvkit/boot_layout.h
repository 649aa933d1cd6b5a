/*
 * The start-of-day virtual layout of a PV domain (xen.h "Start-of-day memory
 * layout"; docs/linux-pv-interface.md §1.4), computed without touching any
 * memory so it can be unit-tested:
 *
 *   pfn 0 .. kernel end     RAM, then the kernel image (mapped read-write)
 *   initrd                  (if any)
 *   p2m list                nr_pages 8-byte entries
 *   start_info              one page
 *   xenstore ring, console ring (domU only)
 *   page tables             L4, L3s, L2s, L1s -- mapped read-only
 *   boot stack              one page
 *   padding                 >= 512 KiB, the whole rounded up to 4 MiB
 *
 * Everything from pfn 0 to mapped_pages is mapped at VIRT_BASE + pfn * 4 KiB.
 */
#ifndef PVKIT_BOOT_LAYOUT_H
#define PVKIT_BOOT_LAYOUT_H

#include "pvkit/lib.h"

struct boot_layout {
    uint64_t virt_base;
    uint64_t nr_pages;          /* the domain's memory, in pages */
    uint64_t kernel_end_pfn;
    uint64_t initrd_pfn, initrd_pages;
    uint64_t p2m_pfn, p2m_pages;
    uint64_t start_info_pfn;
    uint64_t store_pfn, console_pfn;    /* 0 for the initial domain */
    uint64_t pt_pfn, nr_pt_frames;
    uint64_t nr_l3, nr_l2, nr_l1;       /* tables after the one L4, in that order */
    uint64_t stack_pfn;
    uint64_t mapped_pages;
};

/*
 * Lays out a domain of nr_pages pages whose kernel ends at pseudo-physical
 * kernel_end, with an initrd of initrd_bytes (0: none), at virt_base. domU
 * layouts get store and console ring pages. Returns 0, -XEN_ENOMEM if the
 * domain is too small to hold its own boot layout, or -XEN_EINVAL if the
 * layout would not fit in the 1 GiB the initial mapping may span.
 */
int boot_layout_compute(uint64_t virt_base, uint64_t kernel_end, uint64_t initrd_bytes,
                        uint64_t nr_pages, bool is_domU, struct boot_layout *out);

/* Number of page-table pages at each level needed to map [va, va + pages*4K). */
void boot_layout_count_tables(uint64_t va, uint64_t pages, uint64_t *l3, uint64_t *l2,
                              uint64_t *l1);

#endif
