/*
 * hostile_gnttab_abi: malformed grant-table set-up and copy requests, the
 * machine memory map and settime from the initial domain, compared with
 * Xen 4.17's answers.
 *
 * Why: Linux's dom0 and backends issue these with buffers and counts taken
 * from wherever; a hypervisor must answer each exactly as Xen does and never
 * crash.
 *
 * Checks: query_size and setup_table of domain 999 (GNTST_bad_domain);
 * setup_table with nr_frames 0 (GNTST_okay), a frame_list at an unmapped
 * guest address (GNTST_bad_virt_addr), a frame_list in the hypervisor's
 * range (-EFAULT: Xen checks guest_handle_okay before anything else); copy
 * of length 0 at offset 4096 (GNTST_okay); XENMEM_machine_memory_map with
 * nr_entries 0 (-EINVAL), with a bad buffer (-EFAULT), with 64 (some
 * entries); settime64 with huge seconds (0); the non-RAM frames of the
 * first MiB (0x9f..0xff) mapped writable by dom0 (0).
 *
 * Xen 4.17 passes all. pvkit: setup_table with a hypervisor-range
 * frame_list returns 0 with GNTST_bad_virt_addr (grant_table.c setup_table
 * has no guest_handle_okay check), and machine_memory_map with nr_entries 0
 * returns 0 (memory_op.c machine_memory_map clamps instead of -EINVAL).
 */
#include "traps.h"
#include "pt.h"
#include <xen/grant_table.h>
#include <xen/platform.h>
#include <xen/memory.h>

static uint8_t a[4096] __attribute__((aligned(4096)));

void test_main(void)
{
    xen_pfn_t frames[4];
    struct gnttab_query_size q = { .dom = 999 };
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 0 };

    TEST("grant tables: domain 999, nr_frames 0, bad frame lists");
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_query_size, &q, 1), 0);
    EXPECT_EQ(q.status, GNTST_bad_domain);
    set_xen_guest_handle(st.frame_list, frames);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_okay);
    st.nr_frames = 1;
    set_xen_guest_handle(st.frame_list, (xen_pfn_t *)0x1000UL);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_bad_virt_addr);
    set_xen_guest_handle(st.frame_list, (xen_pfn_t *)0xffff830000000000UL);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), -XEN_EFAULT);
    st.dom = 999;
    set_xen_guest_handle(st.frame_list, frames);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_bad_domain);

    TEST("grant copy: length 0 at offset 4096");
    struct gnttab_copy c = { .flags = 0, .len = 0 };
    c.source.domid = DOMID_SELF;
    c.source.u.gmfn = pt_mfn_of(a);
    c.source.offset = 4096;
    c.dest = c.source;
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_copy, &c, 1), 0);
    EXPECT_EQ(c.status, GNTST_okay);

    TEST("machine_memory_map: 0 entries, bad buffer, 64 entries");
    struct { uint64_t addr, size; uint32_t type; } __attribute__((packed)) e820[64];
    struct xen_memory_map mm = { .nr_entries = 0 };
    set_xen_guest_handle(mm.buffer, (void *)e820);
    EXPECT_EQ(hyp_memory_op(XENMEM_machine_memory_map, &mm), -XEN_EINVAL);
    mm.nr_entries = 0xffffffffu;
    set_xen_guest_handle(mm.buffer, (void *)0x1000UL);
    EXPECT_EQ(hyp_memory_op(XENMEM_machine_memory_map, &mm), -XEN_EFAULT);
    mm.nr_entries = 64;
    set_xen_guest_handle(mm.buffer, (void *)e820);
    EXPECT_EQ(hyp_memory_op(XENMEM_machine_memory_map, &mm), 0);
    EXPECT(mm.nr_entries > 0 && mm.nr_entries <= 64);

    TEST("settime64 with huge seconds");
    struct xen_platform_op p = { .cmd = XENPF_settime64,
                                 .interface_version = XENPF_INTERFACE_VERSION };
    p.u.settime64.secs = ~0ULL;
    p.u.settime64.nsecs = 0xffffffffu;
    EXPECT_EQ(hypercall3(__HYPERVISOR_platform_op, (unsigned long)&p, 0, 0), 0);

    TEST("the first MiB's device frames are dom0's to map");
    static const unsigned long dev[] = { 0xa0, 0xb8, 0xc0, 0xf0, 0xff };
    for (unsigned int i = 0; i < sizeof(dev) / sizeof(dev[0]); i++)
        EXPECT_EQ(hyp_update_va_mapping((unsigned long)a, (dev[i] << 12) | PTE_DATA_RW,
                                        UVMF_INVLPG), 0);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)a, (pt_mfn_of(a) << 12) | PTE_DATA_RW,
                                    UVMF_INVLPG), 0);
}
