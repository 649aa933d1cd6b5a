/*
 * start_info: the page the builder hands over in RSI, checked field by
 * field: magic "xen-3.0-x86_64", a plausible nr_pages, shared_info a
 * page-aligned machine address, the initial-domain flag, pt_base/nr_pt_frames
 * and mfn_list inside the initial mapping, the p2m (mfn_list) agreeing with
 * the read-only M2P at 0xFFFF800000000000 for every pfn, no module, and the
 * command line the runner passed (which starts with this kernel's name).
 */
#include "guest.h"

/* The initial mapping lies in the 1 GiB after VIRT_BASE (docs/linux-pv-interface.md §1.4). */
static int in_initial_mapping(unsigned long va)
{
    return va >= GUEST_VIRT_BASE && va < GUEST_VIRT_BASE + (1UL << 30);
}

/* Checks magic, nr_pages, shared_info, flags; counts one result per EXPECT. */
static void test_header(const start_info_t *si)
{
    TEST("magic, nr_pages, shared_info, flags");
    guest_printf("     magic \"%s\" nr_pages %lu flags 0x%x\n",
                 si->magic, si->nr_pages, si->flags);
    EXPECT(guest_strncmp(si->magic, "xen-3.0-x86_64", 14) == 0);
    EXPECT(guest_strnlen(si->magic, sizeof(si->magic)) < sizeof(si->magic));
    EXPECT(si->nr_pages >= 256 && si->nr_pages < (1UL << 35));
    EXPECT(si->shared_info != 0);
    EXPECT((si->shared_info & 4095) == 0);
    EXPECT(si->flags & SIF_INITDOMAIN);
    EXPECT(((unsigned long)si & 4095) == 0);
    EXPECT(in_initial_mapping((unsigned long)si));
}

/* Checks pt_base, nr_pt_frames, mfn_list, modules; counts one result per EXPECT. */
static void test_layout(const start_info_t *si)
{
    TEST("pt_base, nr_pt_frames, mfn_list, modules");
    guest_printf("     pt_base 0x%lx nr_pt_frames %lu mfn_list 0x%lx\n",
                 si->pt_base, si->nr_pt_frames, si->mfn_list);
    EXPECT(in_initial_mapping(si->pt_base));
    EXPECT((si->pt_base & 4095) == 0);
    EXPECT(si->nr_pt_frames >= 4);
    EXPECT(in_initial_mapping(si->mfn_list));
    EXPECT(in_initial_mapping(si->mfn_list + si->nr_pages * 8 - 1));
    EXPECT_EQ(si->mod_start, 0);
    EXPECT_EQ(si->mod_len, 0);
}

/* Checks p2m agrees with M2P; counts one result per EXPECT. */
static void test_p2m_m2p(const start_info_t *si)
{
    const unsigned long *p2m = (const unsigned long *)si->mfn_list;
    unsigned long bad = 0, first_bad = 0;

    TEST("p2m agrees with M2P");
    for (unsigned long pfn = 0; pfn < si->nr_pages; pfn++) {
        unsigned long mfn = p2m[pfn];

        if (mfn >= MACH2PHYS_NR_ENTRIES || GUEST_M2P[mfn] != pfn) {
            if (bad++ == 0)
                first_bad = pfn;
        }
    }
    if (bad)
        guest_printf("     %lu mismatches, first at pfn 0x%lx\n", bad, first_bad);
    EXPECT_EQ(bad, 0);
}

/* Checks cmd_line; counts one result per EXPECT. */
static void test_cmdline(const start_info_t *si)
{
    static const char want[] = "start_info pvkit-guest-test a=1,b=2";

    TEST("cmd_line");
    guest_printf("     cmd_line \"%s\"\n", si->cmd_line);
    EXPECT(guest_strnlen((const char *)si->cmd_line, MAX_GUEST_CMDLINE) < MAX_GUEST_CMDLINE);
    EXPECT(guest_strncmp((const char *)si->cmd_line, want, sizeof(want) - 1) == 0);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    const start_info_t *si = guest_start_info;

    test_header(si);
    test_layout(si);
    test_p2m_m2p(si);
    test_cmdline(si);
}
