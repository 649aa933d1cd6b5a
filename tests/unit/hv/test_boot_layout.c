/*
 * Tests hypervisor/common/boot_layout.c: where a PV domain's start-of-day
 * pieces go (kernel, initrd, p2m list, start_info, store and console rings,
 * page tables, stack) and how many page-table pages the initial mapping
 * needs. The guest trusts this layout blindly: overlapping pieces, or too few
 * page tables to map the region, would corrupt the guest or make the builder
 * write past what it allocated. The tests check ordering and sizes over many
 * inputs, that the table counts really cover the mapped region (recomputed
 * independently with a brute-force walk), the error cases, and exact numbers
 * for Linux-like domains worked out by hand.
 */
#include <stdbool.h>
#include "unit.h"
#include "pvkit/boot_layout.h"
#include "pvkit/xenabi.h"

#define LINUX_VB   0xffffffff80000000ull
#define MiB        (1ull << 20)
#define GiB        (1ull << 30)
#define PAGE       4096ull

/* Counts distinct (va >> shift) values over the pages, page by page: obviously right, slow. */
static uint64_t brute_tables(uint64_t va, uint64_t pages, unsigned shift)
{
    uint64_t n = 0, last = 0;
    for (uint64_t p = 0; p < pages; p++) {
        uint64_t idx = (va + p * PAGE) >> shift;
        if (p == 0 || idx != last)
            n++;
        last = idx;
    }
    return n;
}

/* Checks every invariant of a computed layout. */
static void check_layout(const struct boot_layout *l, uint64_t virt_base, uint64_t kernel_end,
                         uint64_t initrd_bytes, uint64_t nr_pages, bool domU)
{
    assert_true(l->virt_base == virt_base);
    assert_int_equal(l->nr_pages, nr_pages);
    assert_int_equal(l->kernel_end_pfn, (kernel_end + PAGE - 1) / PAGE);
    /* Ordering: nothing overlaps, nothing is out of order. */
    assert_int_equal(l->initrd_pfn, l->kernel_end_pfn);
    assert_int_equal(l->initrd_pages, (initrd_bytes + PAGE - 1) / PAGE);
    assert_int_equal(l->p2m_pfn, l->initrd_pfn + l->initrd_pages);
    assert_true(l->p2m_pages * PAGE >= nr_pages * 8);
    assert_true((l->p2m_pages - 1) * PAGE < nr_pages * 8 || nr_pages == 0);
    assert_true(l->start_info_pfn >= l->p2m_pfn + l->p2m_pages);
    if (domU) {
        assert_true(l->store_pfn > l->start_info_pfn);
        assert_true(l->console_pfn > l->store_pfn);
        assert_true(l->pt_pfn > l->console_pfn);
    } else {
        assert_int_equal(l->store_pfn, 0);
        assert_int_equal(l->console_pfn, 0);
        assert_true(l->pt_pfn > l->start_info_pfn);
    }
    assert_true(l->stack_pfn >= l->pt_pfn + l->nr_pt_frames);
    /* The mapped region covers the stack plus 512 KiB, in 4 MiB units. */
    assert_int_equal(l->mapped_pages % 1024, 0);
    assert_true(l->mapped_pages >= l->stack_pfn + 1 + 128);
    assert_true(l->mapped_pages < l->stack_pfn + 1 + 128 + 1024);
    assert_true(l->mapped_pages <= nr_pages);
    assert_true(l->mapped_pages <= GiB / PAGE);
    /* The tables suffice to map the region, as counted by the function itself... */
    uint64_t l3, l2, l1;
    boot_layout_count_tables(virt_base, l->mapped_pages, &l3, &l2, &l1);
    assert_int_equal(l->nr_l3, l3);
    assert_int_equal(l->nr_l2, l2);
    assert_int_equal(l->nr_l1, l1);
    assert_true(l->nr_pt_frames >= 1 + l3 + l2 + l1);
    /* ... and by a brute-force walk of the region. */
    assert_int_equal(l3, brute_tables(virt_base, l->mapped_pages, 39));
    assert_int_equal(l2, brute_tables(virt_base, l->mapped_pages, 30));
    assert_int_equal(l1, brute_tables(virt_base, l->mapped_pages, 21));
}

/* Computes the layout of those arguments into *l, which must succeed, and checks its invariants. */
static void layout_of(struct boot_layout *l, uint64_t virt_base, uint64_t kernel_end,
                      uint64_t initrd_bytes, uint64_t nr_pages, bool domU)
{
    assert_int_equal(boot_layout_compute(virt_base, kernel_end, initrd_bytes, nr_pages, domU, l), 0);
    check_layout(l, virt_base, kernel_end, initrd_bytes, nr_pages, domU);
}

static void linux_128m_dom0(void **state)
{
    (void)state;
    struct boot_layout l;
    layout_of(&l, LINUX_VB, 0x3E00000, 0, 128 * MiB / PAGE, false);
    /* Worked out by hand: kernel ends at pfn 15872; p2m 32768*8 bytes = 64 pages. */
    assert_int_equal(l.kernel_end_pfn, 15872);
    assert_int_equal(l.p2m_pfn, 15872);
    assert_int_equal(l.p2m_pages, 64);
    assert_int_equal(l.start_info_pfn, 15936);
    assert_int_equal(l.pt_pfn, 15937);
    /* 64 MiB mapped at 0xffffffff80000000: one L3, one L2, 32 L1s, plus the L4. */
    assert_int_equal(l.mapped_pages, 16384);
    assert_int_equal(l.nr_l3, 1);
    assert_int_equal(l.nr_l2, 1);
    assert_int_equal(l.nr_l1, 32);
    assert_int_equal(l.nr_pt_frames, 35);
    assert_int_equal(l.stack_pfn, 15972);
}

static void linux_2g_dom0_with_initrd(void **state)
{
    (void)state;
    struct boot_layout l;
    /* 2 GiB: p2m = 524288*8 bytes = 1024 pages. No initrd first. */
    layout_of(&l, LINUX_VB, 0x3E00000, 0, 2 * GiB / PAGE, false);
    assert_int_equal(l.p2m_pages, 1024);
    assert_int_equal(l.start_info_pfn, 16896);
    assert_int_equal(l.mapped_pages, 17408);     /* 68 MiB */
    assert_int_equal(l.nr_l1, 34);
    assert_int_equal(l.nr_pt_frames, 37);
    assert_int_equal(l.stack_pfn, 16897 + 37);

    /* A 30 MB initrd (not a page multiple) goes right after the kernel. */
    uint64_t initrd = 30 * 1000 * 1000;
    layout_of(&l, LINUX_VB, 0x3E00000, initrd, 2 * GiB / PAGE, false);
    assert_int_equal(l.initrd_pfn, 15872);
    assert_int_equal(l.initrd_pages, 7325);      /* ceil(30e6 / 4096) */
}

static void domU_gets_ring_pages(void **state)
{
    (void)state;
    struct boot_layout l;
    layout_of(&l, LINUX_VB, 0x3E00000, 0, 128 * MiB / PAGE, true);
    assert_int_equal(l.store_pfn, l.start_info_pfn + 1);
    assert_int_equal(l.console_pfn, l.start_info_pfn + 2);
    assert_int_equal(l.pt_pfn, l.start_info_pfn + 3);
}

/* A virt_base just below a 1 GiB and a 512 GiB boundary needs extra L2/L3 tables. */
static void region_crossing_table_boundaries(void **state)
{
    (void)state;
    struct boot_layout l;
    uint64_t vb = (1ull << 39) - 2 * MiB;  /* 2 MiB below the second L4 slot */
    layout_of(&l, vb, 8 * MiB, 0, 64 * MiB / PAGE, false);
    assert_int_equal(l.nr_l3, 2);
    assert_int_equal(l.nr_l2, 2);

    vb = 0xffff880000000000ull - 4 * MiB + 0x1000; /* not even 2 MiB aligned */
    layout_of(&l, vb, 0x123456, 0x4321, 64 * MiB / PAGE, true);
}

/* Many inputs: the invariants hold whenever the computation succeeds. */
static void sweep_invariants(void **state)
{
    (void)state;
    static const uint64_t bases[] = { LINUX_VB, 0x400000, 0xffff880000000000ull,
                                      (1ull << 30) - 0x1000, (1ull << 39) - 0x200000 };
    uint64_t seed = 42;
    int ok = 0, nomem = 0, inval = 0;
    for (int i = 0; i < 3000; i++) {
        uint64_t vb = bases[i % 5] + (unit_rand(&seed) % 4) * 0x200000;
        uint64_t kend = unit_rand(&seed) % GiB;
        uint64_t initrd = unit_rand(&seed) % 4 ? unit_rand(&seed) % (256 * MiB) : 0;
        uint64_t pages = 1 + unit_rand(&seed) % (4 * GiB / PAGE);
        bool domU = unit_rand(&seed) & 1;
        struct boot_layout l;
        int rc = boot_layout_compute(vb, kend, initrd, pages, domU, &l);
        if (rc == 0) {
            ok++;
            check_layout(&l, vb, kend, initrd, pages, domU);
        } else if (rc == -XEN_ENOMEM) {
            nomem++;
        } else {
            assert_int_equal(rc, -XEN_EINVAL);
            inval++;
        }
    }
    print_message("sweep: %d laid out, %d too small, %d over 1 GiB\n", ok, nomem, inval);
    assert_true(ok > 100 && nomem > 10 && inval > 10);
}

static void too_small_is_enomem(void **state)
{
    (void)state;
    struct boot_layout l, untouched;
    memset(&l, 0x5a, sizeof(l));
    untouched = l;
    /* 60 MiB cannot hold a 62 MiB kernel. */
    assert_int_equal(boot_layout_compute(LINUX_VB, 0x3E00000, 0, 60 * MiB / PAGE, false, &l),
                     -XEN_ENOMEM);
    assert_memory_equal(&l, &untouched, sizeof(l)); /* no partial result */
    assert_int_equal(boot_layout_compute(LINUX_VB, 0, 0, 1, false, &l), -XEN_ENOMEM);
    assert_int_equal(boot_layout_compute(LINUX_VB, 0, 0, 0, false, &l), -XEN_ENOMEM);

    /* The smallest domain that fits is exactly mapped_pages. */
    assert_int_equal(boot_layout_compute(LINUX_VB, 0x3E00000, 0, 16384, false, &l), 0);
    assert_int_equal(l.mapped_pages, 16384);
    assert_int_equal(boot_layout_compute(LINUX_VB, 0x3E00000, 0, 16383, false, &l),
                     -XEN_ENOMEM);
}

static void over_1g_is_einval(void **state)
{
    (void)state;
    struct boot_layout l;
    assert_int_equal(boot_layout_compute(LINUX_VB, GiB, 0, 4 * GiB / PAGE, false, &l),
                     -XEN_EINVAL);
    assert_int_equal(boot_layout_compute(LINUX_VB, 512 * MiB, 512 * MiB, 4 * GiB / PAGE, false,
                                         &l), -XEN_EINVAL);
    /* A huge domain's p2m alone can push the layout past 1 GiB. */
    assert_int_equal(boot_layout_compute(LINUX_VB, 0x3E00000, 0, 1ull << 35, false, &l),
                     -XEN_EINVAL);
    /* Just under the limit: 1 GiB - 12 MiB of kernel still leaves room. By hand:
     * 259072 kernel + 1024 p2m + start_info, 513 tables, stack, 128 padding
     * = 260739 pages, rounded up to 261120. */
    assert_int_equal(boot_layout_compute(LINUX_VB, GiB - 12 * MiB, 0, 2 * GiB / PAGE, false, &l),
                     0);
    assert_int_equal(l.nr_pt_frames, 513);
    assert_int_equal(l.mapped_pages, 261120);
}

static void count_tables_edges(void **state)
{
    (void)state;
    uint64_t l3, l2, l1;
    boot_layout_count_tables(0, 1, &l3, &l2, &l1);
    assert_int_equal(l3, 1);
    assert_int_equal(l2, 1);
    assert_int_equal(l1, 1);
    boot_layout_count_tables(0, 512, &l3, &l2, &l1);       /* exactly one L1 */
    assert_int_equal(l1, 1);
    boot_layout_count_tables(0, 513, &l3, &l2, &l1);
    assert_int_equal(l1, 2);
    boot_layout_count_tables(0x1ff000, 2, &l3, &l2, &l1);  /* straddles 2 MiB */
    assert_int_equal(l1, 2);
    boot_layout_count_tables(LINUX_VB, 1ull << 18, &l3, &l2, &l1); /* the top 1 GiB - 1 GiB */
    assert_int_equal(l3, 1);
    assert_int_equal(l2, 1);
    assert_int_equal(l1, 512);
    boot_layout_count_tables(0xffffffffc0000000ull, 1ull << 18, &l3, &l2, &l1); /* to 2^64 */
    assert_int_equal(l3, 1);
    assert_int_equal(l2, 1);
    assert_int_equal(l1, 512);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linux_128m_dom0),
        cmocka_unit_test(linux_2g_dom0_with_initrd),
        cmocka_unit_test(domU_gets_ring_pages),
        cmocka_unit_test(region_crossing_table_boundaries),
        cmocka_unit_test(sweep_invariants),
        cmocka_unit_test(too_small_is_enomem),
        cmocka_unit_test(over_1g_is_einval),
        cmocka_unit_test(count_tables_edges),
    };
    return UNIT_RUN("boot_layout", tests);
}
