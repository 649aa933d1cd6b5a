/*
 * Start-of-day layout computation (see pvkit/boot_layout.h).
 *
 * The page tables must map themselves, so their number depends on where the
 * mapping ends, which depends on their number: we iterate from one table
 * until the count is stable (it converges in two or three rounds).
 */
#include "pvkit/boot_layout.h"
#include "pvkit/layout.h"
#include "pvkit/xenabi.h"

#define PAGES(bytes)        (ALIGN_UP((uint64_t)(bytes), PAGE_SIZE) >> PAGE_SHIFT)
#define PADDING_PAGES       128   /* 512 KiB */
#define ROUND_PAGES         1024  /* 4 MiB */
#define MAX_MAPPED_PAGES    (1ull << 18) /* 1 GiB */

static uint64_t spans(uint64_t va, uint64_t pages, unsigned int shift)
{
    uint64_t first = va >> shift;
    uint64_t last = (va + (pages << PAGE_SHIFT) - 1) >> shift;
    return last - first + 1;
}

void boot_layout_count_tables(uint64_t va, uint64_t pages, uint64_t *l3, uint64_t *l2,
                              uint64_t *l1)
{
    *l3 = spans(va, pages, 39);
    *l2 = spans(va, pages, 30);
    *l1 = spans(va, pages, 21);
}

int boot_layout_compute(uint64_t virt_base, uint64_t kernel_end, uint64_t initrd_bytes,
                        uint64_t nr_pages, bool is_domU, struct boot_layout *out)
{
    struct boot_layout l = { .virt_base = virt_base, .nr_pages = nr_pages };
    uint64_t pfn;

    l.kernel_end_pfn = PAGES(kernel_end);
    l.initrd_pfn = l.kernel_end_pfn;
    l.initrd_pages = PAGES(initrd_bytes);
    l.p2m_pfn = l.initrd_pfn + l.initrd_pages;
    l.p2m_pages = PAGES(nr_pages * sizeof(uint64_t));
    l.start_info_pfn = l.p2m_pfn + l.p2m_pages;
    pfn = l.start_info_pfn + 1;
    if (is_domU) {
        l.store_pfn = pfn++;
        l.console_pfn = pfn++;
    }
    l.pt_pfn = pfn;

    for (l.nr_pt_frames = 1;;) {
        l.stack_pfn = l.pt_pfn + l.nr_pt_frames;
        l.mapped_pages = ALIGN_UP(l.stack_pfn + 1 + PADDING_PAGES, ROUND_PAGES);
        if (l.mapped_pages > MAX_MAPPED_PAGES)
            return -XEN_EINVAL;
        boot_layout_count_tables(virt_base, l.mapped_pages, &l.nr_l3, &l.nr_l2, &l.nr_l1);
        uint64_t needed = 1 + l.nr_l3 + l.nr_l2 + l.nr_l1;
        if (needed <= l.nr_pt_frames)
            break;
        l.nr_pt_frames = needed;
    }
    if (l.mapped_pages > nr_pages)
        return -XEN_ENOMEM;
    *out = l;
    return 0;
}
