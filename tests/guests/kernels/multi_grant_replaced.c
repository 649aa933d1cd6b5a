/*
 * multi_grant_replaced (the initial domain A = 0 and one --domu copy B = 1
 * with "role=1"; pvkit only: it destroys B): a grant mapping whose PTE the
 * mapper replaced keeps the granted frame its granter's until it is
 * unmapped, even when the granter is destroyed.
 *
 * Why: a grant host mapping is a PTE of the mapper's, and the mapper can
 * replace that PTE with a plain mmu_update. The PTE's references go with
 * it, but the grant stays pinned (the unmap now fails, as on Xen: the PTE
 * no longer maps the frame). If nothing else referenced the frame, a
 * destroy of the granter freed it while the pin still named it (found by
 * tests/unit/hv/fuzz_grant.c: the audit's "maps ref 10 of d1, frame ...:
 * no such granter or frame"); pvkit now has each host mapping hold a
 * reference of its own until it is unmapped.
 *
 * B grants A a page of its own and waits. A maps it, replaces the PTE with
 * 0 by mmu_update, and checks: the unmap answers GNTST_general_error; the
 * destroy of B returns 0 and leaves B dying; the granted frame is still
 * B's (A, privileged, maps it as a foreign frame of B's: 0, and reads B's
 * marker). The run's audit at machine off (tests/guests/run has
 * audit=on-death) must be clean.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "multi.h"
#include "pt.h"
#include "gnt.h"
#include <xen/grant_table.h>

#define MS 1000000ULL
#define TIMEOUT (20000 * MS)
#define REF 10
#define MARKER 0x5eed0f6a7a11ed00ULL

static char pool[8][4096] __attribute__((aligned(4096)));
static volatile uint64_t page[512] __attribute__((aligned(4096)));

static void role_b(void)
{
    struct grant_entry_v1 *table = (struct grant_entry_v1 *)pool[0];

    TEST("B: grant A a page, then wait to be destroyed");
    gnt_setup_expect(table);
    page[0] = MARKER;
    gnt_permit(table, REF, 0, (const void *)page);
    uint64_t end = evt_now() + 4 * TIMEOUT;
    while (evt_now() < end)
        evt_sleep_ms(10);
}

static void role_a(void)
{
    struct xen_domctl op;
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)pool[1],
                                        .flags = GNTMAP_host_map, .ref = REF, .dom = 1 };

    TEST("A: map B's grant, replace the PTE by mmu_update");
    if (!EXPECT_EQ(gnt_map_retry(&map, evt_now() + TIMEOUT), GNTST_okay))
        return;
    uint64_t frame = map.dev_bus_addr >> 12;
    EXPECT_EQ(*(volatile uint64_t *)pool[1], MARKER);
    EXPECT_EQ(pt_mmu1(pt_entry_ma((unsigned long)pool[1], 1), 0), 0);
    pt_invlpg((unsigned long)pool[1]);

    TEST("A: the unmap fails (the PTE no longer maps the frame), as Xen");
    struct gnttab_unmap_grant_ref un = { .host_addr = (unsigned long)pool[1],
                                         .handle = map.handle };
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &un, 1), 0);
    EXPECT_EQ(un.status, GNTST_general_error);

    TEST("A: destroy B: left dying, the pinned frame still B's");
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), 0);
    EXPECT(op.u.getdomaininfo.flags & XEN_DOMINF_dying);
    EXPECT_EQ(op.u.getdomaininfo.domain, 1);
    if (EXPECT_EQ(pt_map_frame(pool[2], frame, 1), 0))
        EXPECT_EQ(*(volatile uint64_t *)pool[2], MARKER);
    EXPECT_EQ(pt_map_rw(pool[2]), 0);
}

void test_main(void)
{
    if (multi_setup(pool[4], 4))
        multi_roles(1, role_a, role_b);
}
