/*
 * multi_create_decrease (run with --vcpus 2 and its own image as --initrd;
 * pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): the initial domain gives
 * back frames of a domain still under construction (decrease_reservation
 * with the building domain's id, which a privileged caller may name) from
 * vCPU 1 while vCPU 0's create_pv goes on in pieces.
 *
 * The builder has allocated the child's frames in the first pieces (plain
 * frames: no reference, no type, so decrease_reservation's checks let them
 * go) and fills them in the last one. vCPU 1 finds shared_info S
 * (getdomaininfo, allowed while building) and from it the frames of the
 * child's boot page tables (multi_create_foreign says how: the same image,
 * frames handed out in order), and in one multicall gives those frames back
 * on the child's behalf and takes as many for itself (increase_reservation:
 * the free list hands the same frames back), which it maps writable.
 *
 * Expected: giving back a building domain's frames does nothing (pvkit
 * now answers -ESRCH: a domain under construction is unreachable by other
 * domains' frame operations; Xen's builder, libxc in dom0,
 * holds its own mappings of every frame it fills, so they could not be
 * freed under it) -- or, at the least, the child built must not run on
 * tables that are our frames. Checked: none of our pages holds the child's
 * L4 (the hypervisor's L4 slots, as in ours) or a table naming its frames,
 * and the child's tot_pages is what it asked for.
 *
 * Found (pvkit at ae004f8): memory_op.c decrease() frees the building
 * domain's frames (populate refuses a building domain, decrease does not);
 * the builder (domain_build.c build_page_tables / set_frame_state) then
 * writes the child's L4 and L1s into frames that are now ours, mapped
 * writable by us, and types them as tables.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "evt/evt.h"
#include "pt.h"
#include "public/pvkit.h"
#include "create.h"

#define MS 1000000ULL
#define CHILD_KB (64u << 10)
#define NPT 5                   /* the child's boot tables: L4, L3, L2, 2 L1s */
#define ID 21

static char win[NPT][4096] __attribute__((aligned(4096)));
static char pool[4][4096] __attribute__((aligned(4096)));
static volatile int ap_ready, go, ap_done;
static volatile long ap_dec = -1, ap_inc = -1, ap_mapped;
static uint64_t child_si_pfn;
static unsigned long give[NPT], take[NPT];

void evt_ap_main(unsigned long cpu)
{
    (void)cpu;
    struct xen_domctl op;
    uint64_t s = 0;

    create_ap_ready_go(&ap_ready, &go);
    if (create_poll_domain(ID, 20000 * MS, &op))
        s = op.u.getdomaininfo.shared_info_frame;
    if (s) {
        for (unsigned int i = 0; i < NPT; i++)
            give[i] = s + 3 + child_si_pfn + 3 + i;
        struct xen_memory_reservation dec = { .nr_extents = NPT, .domid = ID };
        struct xen_memory_reservation inc = { .nr_extents = NPT, .domid = DOMID_SELF };
        set_xen_guest_handle(dec.extent_start, give);
        set_xen_guest_handle(inc.extent_start, take);
        multicall_entry_t mc[2];
        mc_set(&mc[0], __HYPERVISOR_memory_op, XENMEM_decrease_reservation, (unsigned long)&dec, 0);
        mc_set(&mc[1], __HYPERVISOR_memory_op, XENMEM_increase_reservation, (unsigned long)&inc, 0);
        if (hyp_multicall(mc, 2) == 0) {
            ap_dec = (long)mc[0].result;
            ap_inc = (long)mc[1].result;
        }
        long n = 0;
        for (long i = 0; i < ap_inc && i < NPT; i++)
            n += pt_map_frame(win[i], take[i], DOMID_SELF) == 0;
        ap_mapped = n;
    }
    create_ap_finish(&ap_done);
}

void test_main(void)
{
    if (!create_parent_start("multi_create_decrease child", "setup: room for 5 more frames of ours, vCPU 1 up", pool, 4))
        return;
    for (unsigned int i = 0; i < NPT; i++)
        win[i][0] = 1;
    struct xen_domctl op;
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_max_mem, .domain = 0,
                              .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    op.u.max_mem.max_memkb = (guest_start_info->nr_pages + 64) * 4;
    EXPECT_EQ(hyp_domctl(&op), 0);
    child_si_pfn = create_child_si_pfn(CHILD_KB, NULL);
    const uint64_t *our_l4 = pt_va_of_mfn(pt_cur_l4_mfn);
    EXPECT(our_l4 != NULL);
    EXPECT_EQ(evt_start_ap(1, &ap_ready), 0);
    if (!ap_ready || !our_l4)
        return;

    TEST("a building domain's frames given back by dom0: the child never runs on our frames");
    create_child_op(&op, ID, CHILD_KB, "multi_create_decrease role=1");
    __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
    long rc = hyp_domctl(&op);
    evt_wait_flag(&ap_done, 20000 * MS);
    guest_printf("     create %ld; vCPU 1 gave back %ld of the child's frames, took %ld, "
                 "mapped %ld\n", rc, ap_dec, ap_inc, ap_mapped);
    for (unsigned int i = 0; i < NPT; i++)
        guest_printf("     gave %lx took %lx\n", give[i], take[i]);
    EXPECT(ap_dec <= 0); /* no extent given back (-ESRCH: unreachable while building) */
    unsigned int l4s = 0, tables = 0;
    for (long i = 0; i < ap_mapped; i++) {
        const uint64_t *p = (const uint64_t *)win[i];
        unsigned int hits = 0;
        for (unsigned int k = 0; k < 512; k++)
            hits += (p[k] & PTE_P) != 0;
        if (create_looks_like_l4(p, our_l4)) {
            l4s++;
            guest_printf("     our frame %lx, mapped writable, is d%u's L4\n", take[i], ID);
        } else if (hits > 8) {
            tables++;
            guest_printf("     our frame %lx, mapped writable, is a table of d%u (%u entries)\n",
                         take[i], ID, hits);
        }
    }
    EXPECT_EQ(l4s, 0);
    EXPECT_EQ(tables, 0);
    if (rc == 0) {
        EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, ID, &op), 0);
        EXPECT_EQ(op.u.getdomaininfo.tot_pages, CHILD_KB / 4);
    }
    /* The child is left paused: the machine powers off with us. */
}
