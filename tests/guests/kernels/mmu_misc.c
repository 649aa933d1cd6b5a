/*
 * mmu_misc: update_va_mapping with each flush flag, multicall with
 * per-entry results, and vm_assist.
 *
 * Why: update_va_mapping is the single-PTE fast path Linux uses to make
 * page-table pages read-only before pinning and to map shared_info; it
 * walks the current tables, validates like mmu_update and flushes as
 * asked. multicall is how Linux batches everything else: each entry's
 * result must land in the entry, a failing entry must not stop the others,
 * and the multicall itself returns 0. vm_assist toggles domain-wide
 * assists; XENFEAT_writable_page_tables stays 0 either way on Xen 4.17.
 *
 * Checks: remap a page's VA to another frame with UVMF_INVLPG,
 * UVMF_TLB_FLUSH|UVMF_ALL and UVMF_NONE (+ explicit flush), reading
 * through the new mapping; mapping a page-table frame RW, a VA in the
 * hypervisor range, a VA with no L1, bad flush flags. multicall of
 * xen_version / update_va_mapping / a failing mmu_update / an unknown
 * hypercall / mmuext_op with each result; a nested multicall; count 0; bad
 * list pointers. vm_assist enable/disable of the PV64 types, unknown types
 * and commands.
 */
#include "traps.h"
#include "pt.h"

static char pool[6][4096] __attribute__((aligned(4096)));
static char *win, *page_a, *page_b;

/* update_va_mapping of WIN to P with FLAGS; then WIN must read P's marker. */
static void remap_and_read(const char *p, unsigned long flags)
{
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)win, pt_pte(p, PTE_DATA_RW), flags), 0);
    if ((flags & UVMF_FLUSHTYPE_MASK) == UVMF_NONE)
        EXPECT_EQ(pt_invlpg((unsigned long)win), 0);
    EXPECT_EQ(*pt_entry((unsigned long)win, 1) & PTE_MFN, pt_pte(p, 0));
    EXPECT_EQ(*(volatile char *)win, p[0]);
}

/* The three flush types, and hostile arguments. */
static void test_update_va_mapping(void)
{
    unsigned long va = (unsigned long)win;
    long rc;

    TEST("update_va_mapping");
    (void)*(volatile char *)win;
    remap_and_read(page_a, UVMF_INVLPG);
    remap_and_read(page_b, UVMF_TLB_FLUSH);
    remap_and_read(page_a, UVMF_NONE);
    remap_and_read(page_b, UVMF_INVLPG | UVMF_ALL);
    remap_and_read(page_a, UVMF_TLB_FLUSH | UVMF_ALL);
    rc = hyp_update_va_mapping(va, ((uint64_t)pt_cur_l4_mfn << 12) | PTE_DATA_RW, UVMF_INVLPG);
    guest_printf("     map our L4 RW: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EBUSY);
    EXPECT_EQ(*(volatile char *)win, 'A');
    rc = hyp_update_va_mapping(0xFFFF830000000000UL, pt_pte(page_a, PTE_DATA_RW), UVMF_INVLPG);
    guest_printf("     va in the hypervisor range: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    rc = hyp_update_va_mapping(MACH2PHYS_VIRT_START, pt_pte(page_a, PTE_DATA_RW), UVMF_INVLPG);
    guest_printf("     va in the M2P: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    rc = hyp_update_va_mapping(0x1000, pt_pte(page_a, PTE_DATA_RW), UVMF_INVLPG);
    guest_printf("     va without an L1: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    rc = hyp_update_va_mapping(va, pt_pte(page_b, PTE_DATA_RW), UVMF_INVLPG | 0x18);
    guest_printf("     flags with a vcpumask pointer in bits 3+: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EFAULT);
    EXPECT_EQ(hyp_update_va_mapping(va, pt_pte(win, PTE_DATA_RW), UVMF_INVLPG), 0);
}

/* A multicall whose middle entry fails; every result is in its entry. */
static void test_multicall(void)
{
    static multicall_entry_t mc[6];
    static mmu_update_t bad_req;
    long version = hyp_xen_version(XENVER_version, NULL);

    TEST("multicall with per-entry results");
    bad_req.ptr = pt_entry_ma((unsigned long)win, 1);
    bad_req.val = ((uint64_t)pt_cur_l4_mfn << 12) | PTE_DATA_RW;
    mc_set(&mc[0], __HYPERVISOR_xen_version, XENVER_version, 0, 0);
    mc_set(&mc[1], __HYPERVISOR_update_va_mapping, (unsigned long)win,
           pt_pte(page_b, PTE_DATA_RW), UVMF_INVLPG);
    mc_set(&mc[2], __HYPERVISOR_mmu_update, (unsigned long)&bad_req, 1, 0);
    mc[2].args[3] = DOMID_SELF;
    mc_set(&mc[3], 99, 0, 0, 0);
    mc_set(&mc[4], __HYPERVISOR_xen_version, XENVER_version, 0, 0);
    mc_set(&mc[5], __HYPERVISOR_multicall, (unsigned long)&mc[0], 1, 0);
    EXPECT_EQ(hyp_multicall(mc, 5), 0);
    EXPECT_EQ(mc[0].result, version);
    EXPECT_EQ(mc[1].result, 0);
    EXPECT_EQ((long)mc[2].result, -XEN_EBUSY);
    EXPECT_EQ((long)mc[3].result, -XEN_ENOSYS);
    EXPECT_EQ(mc[4].result, version);
    EXPECT_EQ(*(volatile char *)win, 'B');
    mc[0].result = 0x5a5a5a5a;
    EXPECT_EQ(hyp_multicall(&mc[5], 1), 0);
    guest_printf("     nested multicall: result %ld\n", (long)mc[5].result);
    EXPECT_EQ((long)mc[5].result, -XEN_EINVAL);
    EXPECT_EQ(mc[0].result, 0x5a5a5a5a);
    EXPECT_EQ(hyp_multicall(mc, 0), 0);
    EXPECT_EQ(hyp_multicall((void *)0xFFFF830000000000UL, 1), -XEN_EFAULT);
    EXPECT_EQ(hyp_multicall((void *)0x1000, 2), -XEN_EFAULT);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)win, pt_pte(win, PTE_DATA_RW), UVMF_INVLPG), 0);
}

/* The XENFEAT_writable_page_tables bit of get_features submap 0. */
static int wpt_feature(void)
{
    xen_feature_info_t fi = { .submap_idx = 0 };

    if (hyp_xen_version(XENVER_get_features, &fi))
        return -1;
    return (fi.submap >> XENFEAT_writable_page_tables) & 1;
}

/* vm_assist: known PV64 types, unknown types and commands. */
static void test_vm_assist(void)
{
    static const unsigned int ok_types[] = {
        VMASST_TYPE_4gb_segments, VMASST_TYPE_4gb_segments_notify,
        VMASST_TYPE_writable_pagetables,
        VMASST_TYPE_pae_extended_cr3, VMASST_TYPE_architectural_iopl,
        VMASST_TYPE_runstate_update_flag, VMASST_TYPE_m2p_strict,
    };
    static const unsigned int bad_types[] = { 6, 31, 33, 64 };

    TEST("vm_assist");
    EXPECT_EQ(wpt_feature(), 0);
    for (unsigned int i = 0; i < sizeof(ok_types) / sizeof(ok_types[0]); i++) {
        EXPECT_EQ(hyp_vm_assist(VMASST_CMD_enable, ok_types[i]), 0);
        if (ok_types[i] == VMASST_TYPE_writable_pagetables)
            EXPECT_EQ(wpt_feature(), 0);        /* Xen 4.17 never reports it for PV */
        EXPECT_EQ(hyp_vm_assist(VMASST_CMD_disable, ok_types[i]), 0);
    }
    EXPECT_EQ(wpt_feature(), 0);
    for (unsigned int i = 0; i < sizeof(bad_types) / sizeof(bad_types[0]); i++) {
        long rc = hyp_vm_assist(VMASST_CMD_enable, bad_types[i]);

        guest_printf("     enable type %u: %ld\n", bad_types[i], rc);
        EXPECT_EQ(rc, -XEN_EINVAL);
    }
    EXPECT_EQ(hyp_vm_assist(2, VMASST_TYPE_writable_pagetables), -XEN_ENOSYS);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    pt_pool_init(pool, 6);
    EXPECT_EQ(trap_install(-1), 0);
    win = pt_alloc();
    page_a = pt_alloc();
    page_b = pt_alloc();
    win[0] = 'W';
    page_a[0] = 'A';
    page_b[0] = 'B';
    test_update_va_mapping();
    test_multicall();
    test_vm_assist();
}
