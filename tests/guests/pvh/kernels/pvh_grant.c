/*
 * pvh_grant: a PVH guest's grant table (hypervisor/common/memory_op.c
 * map_special, common/grant_table.c): XENMEM_add_to_physmap of its frames
 * and of shared_info, and the grant_table_ops it has.
 *
 * Checks: frame 0 of the table appears at a guest frame of ours (the page
 * that was there is given back: the reservation drops by one) and keeps
 * what we write in it; mapped again elsewhere it leaves the first guest
 * frame (empty: populate_physmap fills it again) and shows the same
 * entries; idx 3 grows the table to 4 frames (query_size); shared_info
 * mapped over a grant frame moves it out without losing it (mapped back,
 * its entries are still there); decrease_reservation of a guest frame
 * holding a grant frame or shared_info does nothing. query_size,
 * set_version (1; 2 is -EOPNOTSUPP), get_version. Hostile: a table index
 * past the maximum, the version-2 status index, a guest frame past the
 * limit, another domain, an unknown space; the grant_table_ops that
 * would name our frames (setup_table, map, unmap, copy: -ENOSYS), counts
 * that are not 1. The audit at death must find every count right.
 */
#include "pvh.h"
#include <xen/grant_table.h>
#include <xen/memory.h>

#define MAX_GFNS (3ul << 18)

static uint8_t pages[8][4096] __attribute__((aligned(4096)));

static unsigned long gfn_of(const void *p)
{
    return ((unsigned long)p - GUEST_VIRT_BASE) >> 12;
}

static long add_to_physmap(uint16_t domid, unsigned int space, unsigned long idx, unsigned long gpfn)
{
    struct xen_add_to_physmap x = { .domid = domid, .space = space, .idx = idx, .gpfn = gpfn };
    return hypercall3(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (unsigned long)&x, 0);
}

static long reservation(unsigned int cmd, unsigned long gfn)
{
    unsigned long list[1] = { gfn };
    struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };
    set_xen_guest_handle(r.extent_start, list);
    return hypercall3(__HYPERVISOR_memory_op, cmd, (unsigned long)&r, 0);
}

static long current_pages(void)
{
    domid_t self = DOMID_SELF;
    return hypercall3(__HYPERVISOR_memory_op, XENMEM_current_reservation, (unsigned long)&self, 0);
}

static long gnttab(unsigned int cmd, void *op, unsigned long count)
{
    return hypercall3(__HYPERVISOR_grant_table_op, cmd, (unsigned long)op, count);
}

static uint32_t table_frames(void)
{
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    EXPECT_EQ(gnttab(GNTTABOP_query_size, &q, 1), 0);
    EXPECT_EQ(q.status, GNTST_okay);
    EXPECT(q.max_nr_frames >= 4);
    return q.nr_frames;
}

static void check_table_frames(void)
{
    TEST("add_to_physmap of grant-table frames");
    long cur = current_pages();
    EXPECT_EQ(table_frames(), 1);
    pages[0][100] = 0x77;
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, 0, gfn_of(pages[0])), 0);
    EXPECT_EQ(current_pages(), cur - 1);        /* our page there was given back */
    EXPECT_EQ(pages[0][100], 0);                /* an empty table */
    grant_entry_v1_t *e = (grant_entry_v1_t *)pages[0];
    e[9].domid = 0;
    e[9].frame = 0x1234;
    e[9].flags = GTF_permit_access;

    TEST("the same frame at another guest frame: it leaves the first");
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, 0, gfn_of(pages[1])), 0);
    EXPECT_EQ(current_pages(), cur - 2);
    e = (grant_entry_v1_t *)pages[1];
    EXPECT_EQ(e[9].frame, 0x1234);
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, gfn_of(pages[0])), 0); /* empty now */
    EXPECT_EQ(reservation(XENMEM_populate_physmap, gfn_of(pages[0])), 1);
    EXPECT_EQ(pages[0][100], 0);
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, gfn_of(pages[1])), 0); /* held */

    TEST("idx 3 grows the table to 4 frames");
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, 3, gfn_of(pages[2])), 0);
    EXPECT_EQ(table_frames(), 4);
    EXPECT_EQ(current_pages(), cur - 2);        /* populate gave one back, pages[2] went */

    TEST("shared_info over a grant frame moves the grant frame out, not away");
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_shared_info, 0, gfn_of(pages[1])), 0);
    const struct shared_info *si = (const void *)pages[1];
    EXPECT(si->wc_version >= 2);
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, gfn_of(pages[1])), 0); /* held */
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, 0, gfn_of(pages[3])), 0);
    e = (grant_entry_v1_t *)pages[3];
    EXPECT_EQ(e[9].frame, 0x1234);
    EXPECT_EQ(current_pages(), cur - 3);
}

static void check_hostile(void)
{
    TEST("hostile: add_to_physmap of what is not there");
    unsigned long g = gfn_of(pages[5]);
    pages[5][0] = 0x55;
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, 32, g), -XEN_EINVAL);
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, 1000000, g), -XEN_EINVAL);
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, XENMAPIDX_grant_table_status, g),
              -XEN_EINVAL);
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, 1ul << 40, g), -XEN_EINVAL);
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, 0, MAX_GFNS), -XEN_EINVAL);
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_grant_table, 0, ~0ul), -XEN_EINVAL);
    EXPECT_EQ(add_to_physmap(0, XENMAPSPACE_grant_table, 0, g), -XEN_EPERM);
    EXPECT_EQ(add_to_physmap(DOMID_SELF, XENMAPSPACE_gmfn, 0, g), -XEN_ENOSYS);
    EXPECT_EQ(add_to_physmap(DOMID_SELF, 77, 0, g), -XEN_ENOSYS);
    EXPECT_EQ(pages[5][0], 0x55);               /* nothing mapped over it */
    EXPECT_EQ(table_frames(), 4);               /* nothing grown */

    TEST("grant_table_ops of a PVH guest");
    struct gnttab_set_version sv = { .version = 1 };
    EXPECT_EQ(gnttab(GNTTABOP_set_version, &sv, 1), 0);
    sv.version = 2;
    EXPECT_EQ(gnttab(GNTTABOP_set_version, &sv, 1), -XEN_EOPNOTSUPP);
    struct gnttab_get_version gv = { .dom = DOMID_SELF };
    EXPECT_EQ(gnttab(GNTTABOP_get_version, &gv, 1), 0);
    EXPECT_EQ(gv.version, 1);
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    EXPECT_EQ(gnttab(GNTTABOP_query_size, &q, 2), -XEN_EINVAL);
    EXPECT_EQ(gnttab(GNTTABOP_query_size, (void *)0x700000000000ul, 1), -XEN_EFAULT);
    q.dom = 0;
    EXPECT_EQ(gnttab(GNTTABOP_query_size, &q, 1), 0);
    EXPECT_EQ(q.status, GNTST_permission_denied);
    static unsigned long frames[4];
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };
    set_xen_guest_handle(st.frame_list, frames);
    EXPECT_EQ(gnttab(GNTTABOP_setup_table, &st, 1), -XEN_ENOSYS);
    EXPECT_EQ(frames[0], 0);                    /* no machine frame number handed out */
    struct gnttab_map_grant_ref map = { .host_addr = gfn_of(pages[6]) << 12,
                                        .flags = GNTMAP_host_map, .ref = 9, .dom = DOMID_SELF };
    EXPECT_EQ(gnttab(GNTTABOP_map_grant_ref, &map, 1), -XEN_ENOSYS);
    struct gnttab_unmap_grant_ref unmap = { .host_addr = gfn_of(pages[6]) << 12 };
    EXPECT_EQ(gnttab(GNTTABOP_unmap_grant_ref, &unmap, 1), -XEN_ENOSYS);
    struct gnttab_copy copy = { .len = 8 };
    EXPECT_EQ(gnttab(GNTTABOP_copy, &copy, 1), -XEN_ENOSYS);
    EXPECT_EQ(gnttab(GNTTABOP_transfer, &copy, 1), -XEN_ENOSYS);
    EXPECT_EQ(gnttab(0xffff, &copy, 1), -XEN_ENOSYS);
}

void test_main(void)
{
    check_table_frames();
    check_hostile();
}
