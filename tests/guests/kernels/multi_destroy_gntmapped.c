/*
 * multi_destroy_gntmapped (the initial domain alone, its own image as
 * --initrd; pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): a privileged
 * domain still maps a child's grant-table frame when it destroys the child.
 *
 * We create a child (it stays paused), find its grant frame with
 * GNTTABOP_setup_table naming the child, map that frame with a foreign
 * mmu_update and destroy the child. While our mapping lasts the frame must
 * stay the child's: destroydomain answers 0 and leaves the child dying
 * (as Xen keeps a domain whose pages others still reference), and our
 * mapping still shows the child's table (the console and store grants
 * the builder wrote, to domain 0). Once we unmap, a second destroydomain
 * frees it: the child is gone and every page is back.
 *
 * Found (pvkit at 17a89df): destroy's last step freed a domain's grant
 * frames whatever referred to them, so the frame went back to the free
 * list under our writable mapping, for the next domain to get.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "gnt.h"
#include "pt.h"
#include "create.h"
#include <xen/grant_table.h>

static char pool[1][4096] __attribute__((aligned(4096)));
static char window[4096] __attribute__((aligned(4096))); /* where the child's frame is mapped */

/* 1 if domain id still exists, its getdomaininfo flags in *flags. */
static int exists(domid_t id, uint32_t *flags)
{
    struct xen_domctl op;
    if (dctl(XEN_DOMCTL_getdomaininfo, id, &op) || op.domain != id)
        return 0;
    *flags = op.u.getdomaininfo.flags;
    return 1;
}

void test_main(void)
{
    struct xen_domctl op;
    uint32_t flags = 0;

    if (!create_parent_start("multi_destroy_gntmapped child: ran", "setup", pool, 1))
        return;
    uint64_t free0 = free_pages();
    create_child_op(&op, 0, 4096, "multi_destroy_gntmapped role=1");
    if (!EXPECT_EQ(hyp_domctl(&op), 0))
        return;
    domid_t id = op.domain;

    TEST("the child's grant frame, mapped by us");
    xen_pfn_t frame = 0;
    struct gnttab_setup_table st = { .dom = id, .nr_frames = 1 };
    set_xen_guest_handle(st.frame_list, &frame);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_okay);
    if (!EXPECT(frame != 0) ||
        !EXPECT_EQ(pt_map_frame(window, frame, id), 0))
        return;
    volatile struct grant_entry_v1 *table = (volatile struct grant_entry_v1 *)window;
    EXPECT_EQ(table[GNTTAB_RESERVED_CONSOLE].domid, 0);
    EXPECT(table[GNTTAB_RESERVED_CONSOLE].flags & GTF_permit_access);

    TEST("destroyed while we map its grant frame: it stays dying, the frame its");
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, id, &op), 0);
    EXPECT(exists(id, &flags));
    EXPECT(flags & XEN_DOMINF_dying);
    EXPECT_EQ(table[GNTTAB_RESERVED_CONSOLE].domid, 0);
    EXPECT(table[GNTTAB_RESERVED_CONSOLE].flags & GTF_permit_access);
    EXPECT(free_pages() < free0);

    TEST("unmapped: a second destroy frees it, every page back");
    EXPECT_EQ(pt_map_rw(window), 0); /* our own frame again */
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, id, &op), 0);
    EXPECT(!exists(id, &flags));
    EXPECT_EQ(free_pages(), free0);
}
