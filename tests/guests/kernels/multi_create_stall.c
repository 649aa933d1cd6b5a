/*
 * multi_create_stall (run with --vcpus 2 --mem 3300 and its own image as
 * --initrd; pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): creating a big
 * domain must not hold the hypervisor for the whole build.
 *
 * The initial domain gives back 3 GiB of its memory (decrease_reservation,
 * done in pieces), then vCPU 1 creates a child of about that size from the
 * initrd while vCPU 0 issues null hypercalls and measures the largest gap
 * between two that completed (stall.h, as smp_preempt). Then the child is
 * destroyed (pieced already), and a second create of the same size fails
 * late (its initrd is unmapped, so the build fails after every frame was
 * allocated, zeroed and the kernel copied), and its clean-up is measured
 * too. Free pages must return to the figure before each create.
 *
 * Expected: every stall under STALL_BOUND_NS (750 ms), as for every other
 * long operation a guest can ask for (issue 11). On Xen 4.17 the same work
 * is populate_physmap from the toolstack, which is preempted (continued)
 * every few hundred extents; Xen's domain_kill is preemptible as well.
 *
 * Found (pvkit at 6ed41a5): create_pv runs domain_build in one piece under
 * the hypervisor lock -- allocate_memory zeroes every frame, the kernel and
 * initrd are copied and the page tables built, with no budget and no
 * continuation -- and the failure path's domain_free scans the whole frame
 * table and frees everything at once: vCPU 0 sees a stall of seconds.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "evt/stall.h"
#include "hyp.h"
#include "public/pvkit.h"
#include "create.h"

#define MEM_EXTENTS 786432UL /* 3 GiB */

enum op { OP_NONE, OP_CREATE, OP_DESTROY, OP_CREATE_FAIL };

static unsigned long extents[MEM_EXTENTS];
static struct xen_domctl create, destroy;

static long run_op(int kind)
{
    switch (kind) {
    case OP_CREATE:
    case OP_CREATE_FAIL:
        return hyp_domctl(&create);
    case OP_DESTROY:
        return hyp_domctl(&destroy);
    default:
        return -1;
    }
}

void evt_ap_main(unsigned long cpu)
{
    (void)cpu;
    stall_worker(run_op);
}

static void create_op(uint64_t kb)
{
    create_child_op(&create, 0, kb, "multi_create_stall role=1");
}

void test_main(void)
{
    if (evt_cmdline_num("role", 0) == 1) {
        guest_printf("multi_create_stall child\n");
        guest_shutdown(SHUTDOWN_poweroff);
    }
    EXPECT_EQ(evt_init(), 0);
    if (!evt_shared || !EXPECT(guest_start_info->mod_len > 4096))
        return;

    TEST("setup: give back 3 GiB, vCPU 1 up");
    unsigned long nr = guest_start_info->nr_pages, first = nr - MEM_EXTENTS;
    const unsigned long *p2m = (const unsigned long *)guest_start_info->mfn_list;
    if (!EXPECT(nr >= MEM_EXTENTS + 32768))
        return;
    for (unsigned long i = 0; i < MEM_EXTENTS; i++)
        extents[i] = p2m[first + i];
    struct xen_memory_reservation r = { .nr_extents = MEM_EXTENTS, .domid = DOMID_SELF };
    set_xen_guest_handle(r.extent_start, extents);
    EXPECT_EQ(hyp_memory_op(XENMEM_decrease_reservation, &r), (long)MEM_EXTENTS);
    EXPECT_EQ(evt_start_ap(1, &stall_ready), 0);
    if (!stall_ready)
        return;
    uint64_t free0 = free_pages();
    uint64_t kb = ((free0 - 8192) * 4) & ~4095ull; /* leave 32 MiB */
    guest_printf("     %lu pages free, child of %lu MiB\n", (unsigned long)free0,
                 (unsigned long)(kb >> 10));

    TEST("create a big domain: vCPU 0 not stalled");
    create_op(kb);
    long rc = stall_probe(OP_CREATE, "create_pv");
    EXPECT_EQ(rc, 0);
    domid_t id = create.domain;

    TEST("destroy it: vCPU 0 not stalled, every page back");
    destroy = (struct xen_domctl){ .cmd = XEN_DOMCTL_destroydomain, .domain = id,
                                   .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    if (rc == 0)
        EXPECT_EQ(stall_probe(OP_DESTROY, "destroydomain"), 0);
    EXPECT_EQ(free_pages(), free0);

    TEST("a big create that fails late (initrd unmapped): vCPU 0 not stalled, nothing left");
    create_op(kb);
    struct pvkit_domctl_create_pv *c = (struct pvkit_domctl_create_pv *)&create.u;
    c->initrd = 0x0000700000000000ull;
    c->initrd_size = 8192;
    EXPECT_EQ(stall_probe(OP_CREATE_FAIL, "create_pv failing at the initrd"), -XEN_EFAULT);
    EXPECT_EQ(free_pages(), free0);
}
