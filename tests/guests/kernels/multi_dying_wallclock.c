/*
 * multi_dying_wallclock (the initial domain A = 0 and one --domu copy B = 1
 * with "role=1"; pvkit only): a domain left dying by destroydomain (another
 * domain still maps one of its frames) must not have the hypervisor write
 * into the frames it has already given back.
 *
 * Why: destroydomain frees every frame of the dying domain that nothing
 * references any more, shared_info included (its hypervisor hold is
 * dropped first), but the domain stays in the domain list, dying, while
 * others map some of its pages. Whatever still walks every domain and
 * writes its shared_info (the wall clock published on XENPF_settime*) then
 * writes a frame that may already belong to someone else: a use after
 * free, and a write the new owner cannot stop (its page could be a page
 * table by then).
 *
 * B grants A a page and runs (never shut down). A reads B's shared_info
 * frame S with getdomaininfo, maps B's granted page, gives back most of its
 * own unmapped memory (decrease_reservation, so that it may grow again),
 * destroys the running B (0; B stays dying: A maps its page), then grows
 * again with increase_reservation until it owns S, fills S with a pattern,
 * and issues XENPF_settime64 with the current time. Checks: S is among the
 * frames A got back; after settime64 S still holds exactly the pattern.
 * Also: domctl/sysctl with unmapped and hypervisor pointers (-EFAULT),
 * getdomaininfo past every id / DOMID_SELF (-ESRCH), pause or unpause of
 * the dying B (-EINVAL); after A unmaps B's page a destroy frees B
 * (-ESRCH afterwards).
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "multi.h"
#include "pt.h"
#include "gnt.h"
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/platform.h>

#define MS 1000000ULL
#define TIMEOUT (20000 * MS)
#define REF 10
#define NR_GIVE 9000            /* A's frames given back and taken again (B has 8192) */

static char pool[8][4096] __attribute__((aligned(4096)));
static uint8_t page[4096] __attribute__((aligned(4096)));
static xen_pfn_t extents[NR_GIVE];

static void role_b(void)
{
    struct grant_entry_v1 *table = (struct grant_entry_v1 *)pool[0];

    TEST("B: grant A a page and run until destroyed");
    gnt_setup_expect(table);
    gnt_permit(table, REF, 0, page);
    uint64_t end = evt_now() + 4 * TIMEOUT;
    while (evt_now() < end) {
        (*(volatile uint64_t *)page)++;
        hyp_sched_op(SCHEDOP_yield, NULL);
    }
}

static void hostile_pointers(void)
{
    struct xen_domctl op;

    TEST("A: bad pointers and ids");
    EXPECT_EQ(hypercall3(__HYPERVISOR_domctl, 0x1000, 0, 0), -XEN_EFAULT);
    EXPECT_EQ(hypercall3(__HYPERVISOR_domctl, 0xffff830000000000UL, 0, 0), -XEN_EFAULT);
    EXPECT_EQ(hypercall3(__HYPERVISOR_sysctl, 0x1000, 0, 0), -XEN_EFAULT);
    EXPECT_EQ(hypercall3(__HYPERVISOR_sysctl, 0xffff830000000000UL, 0, 0), -XEN_EFAULT);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 0xFFFF, &op), -XEN_ESRCH);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, DOMID_SELF, &op), -XEN_ESRCH);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, DOMID_SELF, &op), -XEN_ESRCH);
    EXPECT_EQ(dctl(XEN_DOMCTL_pausedomain, DOMID_SELF, &op), -XEN_ESRCH);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 0, &op), -XEN_EINVAL);
}

static void role_a(void)
{
    struct xen_domctl op;
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)pool[1],
                                        .flags = GNTMAP_host_map, .ref = REF, .dom = 1 };
    const xen_pfn_t *p2m = (const xen_pfn_t *)guest_start_info->mfn_list;
    unsigned long nr = guest_start_info->nr_pages;

    hostile_pointers();

    TEST("A: map B's page, give back most of our memory");
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), 0);
    uint64_t s_mfn = op.u.getdomaininfo.shared_info_frame;
    guest_printf("     B: shared_info frame %lx, %lu pages\n", (unsigned long)s_mfn,
                 (unsigned long)op.u.getdomaininfo.tot_pages);
    uint64_t end = evt_now() + TIMEOUT;
    gnt_map_retry(&map, end);
    if (!EXPECT_EQ(map.status, GNTST_okay))
        return;
    for (unsigned long i = 0; i < NR_GIVE; i++)
        extents[i] = p2m[nr - 1 - i];  /* the top of our memory: not mapped */
    EXPECT_EQ(hyp_self_reservation(XENMEM_decrease_reservation, extents, NR_GIVE), NR_GIVE);

    TEST("A: destroy the running B (left dying: we map its page)");
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), 0);
    EXPECT_EQ(op.domain, 1);
    EXPECT(op.u.getdomaininfo.flags & XEN_DOMINF_dying);
    EXPECT_EQ(dctl(XEN_DOMCTL_pausedomain, 1, &op), -XEN_EINVAL);
    EXPECT_EQ(dctl(XEN_DOMCTL_unpausedomain, 1, &op), -XEN_EINVAL);

    TEST("A: take memory back until we own B's old shared_info; settime64 leaves it alone");
    long got = hyp_self_reservation(XENMEM_increase_reservation, extents, NR_GIVE);
    EXPECT_EQ(got, NR_GIVE);
    long at = -1;
    for (long i = 0; i < got; i++)
        if (extents[i] == s_mfn)
            at = i;
    guest_printf("     got %ld frames, B's shared_info at %ld\n", got, at);
    if (EXPECT(at >= 0)) {
        uint64_t *s = (uint64_t *)pool[2];
        EXPECT_EQ(hyp_update_va_mapping((unsigned long)s, (s_mfn << 12) | PTE_DATA_RW,
                                        UVMF_INVLPG), 0);
        for (int i = 0; i < 512; i++)
            s[i] = 0x5a5a5a5a5a5a5a5aULL;
        struct xen_platform_op p = { .cmd = XENPF_settime64,
                                     .interface_version = XENPF_INTERFACE_VERSION };
        p.u.settime64.secs = evt_shared->wc_sec + evt_now() / 1000000000ULL;
        p.u.settime64.system_time = evt_now();
        EXPECT_EQ(hypercall3(__HYPERVISOR_platform_op, (unsigned long)&p, 0, 0), 0);
        int changed = -1;
        for (int i = 0; i < 512; i++)
            if (s[i] != 0x5a5a5a5a5a5a5a5aULL && changed < 0)
                changed = i;
        if (changed >= 0)
            guest_printf("     our page changed at byte %d: %lx\n", changed * 8,
                         (unsigned long)s[changed]);
        EXPECT_EQ(changed, -1);
        EXPECT_EQ(hyp_update_va_mapping((unsigned long)s, 0, UVMF_INVLPG), 0);
    }

    TEST("A: unmap B's page; destroy frees B");
    gnt_unmap_expect(pool[1], map.handle);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), -XEN_ESRCH);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), -XEN_ESRCH);
    EXPECT_EQ(pt_map_rw(pool[1]), 0);
}

void test_main(void)
{
    if (multi_setup(pool[4], 4))
        multi_roles(1, role_a, role_b);
}
