/*
 * multi_create_nomem (the initial domain alone, its own image as --initrd;
 * pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): a created domain takes
 * every free frame of the machine, the hypervisor's reserve included.
 *
 * We create children of decreasing size, from all free pages down, until
 * one builds (a failed try must leave the free count as it was). With
 * (almost) nothing free, everything that wants a frame must fail cleanly:
 * our increase_reservation gets 0 extents; our first grant mapping (it
 * needs a maptrack page of the hypervisor's) of the child's store page
 * fails with a status, not a crash; GNTTABOP_setup_table growing our grant
 * table fails; another create is -ENOMEM. The child, unpaused, runs (its own
 * increase_reservation gets nothing) and powers off. Destroyed, every frame
 * comes back, and then the grant mapping works.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "evt/evt.h"
#include "public/pvkit.h"
#include "create.h"
#include <xen/grant_table.h>

#define MS 1000000ULL

static char page[4096] __attribute__((aligned(4096)));
static long evt_dom_exc = -1;


static long create(uint64_t kb, domid_t *id)
{
    struct xen_domctl op = { .cmd = PVKIT_DOMCTL_create_pv,
                             .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    struct pvkit_domctl_create_pv *c = (struct pvkit_domctl_create_pv *)&op.u;
    c->kernel = guest_start_info->mod_start;
    c->kernel_size = guest_start_info->mod_len;
    c->cmdline = (uint64_t)"multi_create_nomem role=1";
    c->mem_kb = kb;
    c->max_vcpus = 1;
    long rc = hyp_domctl(&op);
    *id = op.domain;
    return rc;
}

static int16_t map_store(domid_t id, grant_handle_t *h)
{
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)page,
                                        .flags = GNTMAP_host_map, .ref = GNTTAB_RESERVED_XENSTORE,
                                        .dom = id };
    if (hyp_grant_table_op(GNTTABOP_map_grant_ref, &map, 1))
        return -100;
    *h = map.handle;
    return map.status;
}

static long increase(unsigned long n)
{
    static unsigned long ext[16];
    struct xen_memory_reservation r = { .nr_extents = n, .domid = DOMID_SELF };
    set_xen_guest_handle(r.extent_start, ext);
    return hyp_memory_op(XENMEM_increase_reservation, &r);
}

void test_main(void)
{
    if (evt_cmdline_num("role", 0) == 1) {
        long got = increase(4);
        guest_printf("multi_create_nomem child: increase got %ld\n", got);
        guest_shutdown(got == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash);
    }
    if (!create_setup("setup"))
        return;
    evt_dom_exc = create_watch_children();

    TEST("a child as large as the free memory allows; failed tries leave nothing");
    uint64_t free0 = free_pages();
    domid_t id = 0;
    long rc = -1;
    unsigned int tries = 0, leaks = 0;
    for (uint64_t pages = free0; pages > free0 - 64 && rc; pages--, tries++) {
        rc = create(pages * 4, &id);
        if (rc)
            leaks += free_pages() != free0;
    }
    uint64_t left = free_pages();
    guest_printf("     %lu pages free before; built after %u tries (rc %ld), %lu left\n",
                 (unsigned long)free0, tries, rc, (unsigned long)left);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(leaks, 0);
    EXPECT(left < 8);
    if (rc)
        return;

    TEST("nothing free: increase 0, grant mapping and table growth refused, create -ENOMEM");
    EXPECT_EQ(increase(4), 0);
    grant_handle_t h = 0;
    int16_t st = map_store(id, &h);
    guest_printf("     grant map status %d\n", st);
    if (st == GNTST_okay) {
        struct gnttab_unmap_grant_ref un = { .host_addr = (unsigned long)page, .handle = h };
        EXPECT_EQ(hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &un, 1), 0);
    } else {
        EXPECT(st < 0);
    }
    static xen_pfn_t frames[8];
    struct gnttab_setup_table setup = { .dom = DOMID_SELF, .nr_frames = 8 };
    set_xen_guest_handle(setup.frame_list, frames);
    long srs = hyp_grant_table_op(GNTTABOP_setup_table, &setup, 1);
    guest_printf("     setup_table of 8 frames: rc %ld status %d\n", srs, setup.status);
    domid_t id2;
    long rc2 = create(4096, &id2);
    EXPECT(rc2 == -XEN_ENOMEM);
    if (rc2 == 0)
        dctl(XEN_DOMCTL_destroydomain, id2, &(struct xen_domctl){ 0 });

    TEST("the child runs (its increase gets nothing), then all comes back");
    EXPECT_EQ(create_run_to_shutdown(evt_dom_exc, id), SHUTDOWN_poweroff);
    struct xen_domctl op;
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, id, &op), 0);
    uint64_t after = free_pages();
    guest_printf("     %lu pages free after the destroy\n", (unsigned long)after);
    EXPECT(after + 8 >= free0);
    EXPECT_EQ(create(4096, &id2), 0);
    EXPECT_EQ(map_store(id2, &h), GNTST_okay);
    struct gnttab_unmap_grant_ref un = { .host_addr = (unsigned long)page, .handle = h };
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &un, 1), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, id2, &op), 0);
    evt_disable();
}
