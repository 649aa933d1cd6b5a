/*
 * multi_destroy_grow (the initial domain with --mem 2048 --vcpus 2 and its
 * own image as --initrd; pvkit only: PVKIT_DOMCTL_create_pv is pvkit's):
 * destroydomain's passes over the frame table, in pieces, while our vCPU 1
 * acts between the pieces (the hypervisor lock is a ticket lock, so a call
 * waiting for it gets it before the destroy's next piece).
 *
 * Why: a destroy pass (domctl.c) goes through the frame table in steps of
 * 2048 entries, 64 steps a piece, and stops once it has met as many of the
 * domain's frames as it owned when the pass began.
 *
 * 1. We give back 1536 of our low frames and create a child (paused): it
 *    gets those low frames first, the rest far above (our 2 GiB lie
 *    between: four pieces' reach, so vCPU 1 gets in between even if it
 *    misses a gap). We destroy it while vCPU 1 reads its tot_pages: the
 *    free pass frees the low frames and, pieces later, the high ones, so
 *    vCPU 1 must see a value between the two. pvkit at
 *    fe9d226: a step's end was recomputed at each entry, so one step ran the
 *    whole pass (the whole frame table for a domain at its end) with the
 *    lock held, and vCPU 1 saw no value but the first.
 * 2. A child pins its last 64 frames as L1s (zero pages, unmapped) and
 *    powers off. We give back our last 64 frames, highest last, so the free
 *    list hands them out first: below the child's frames, above the reach
 *    of one piece. We destroy the child while vCPU 1 asks, between pieces,
 *    for one more of its grant frames at a time (GNTTABOP_setup_table
 *    naming it). Every ask must fail (a dying domain gets no frame, as
 *    populate_physmap) and the child must go, every page back. pvkit at
 *    fe9d226 (with 1. fixed): the grown frames, ahead of the unpin pass,
 *    counted as met, so the pass stopped before the child's last pinned L1s:
 *    never unpinned, they kept the child dying after any number of destroys
 *    with 65 frames.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "gnt.h"
#include "create.h"
#include <xen/grant_table.h>

#define NPIN 64        /* the child's last frames, pinned as L1s */
#define NGIVE 64       /* our last frames, given back before the destroy */
#define NGROW 32       /* grant frames we ask the dying child for (pvkit's most) */
#define LOW_PFN 4096   /* our pfns given back for the first child: unmapped, low frames */
#define NLOW 1536
#define PIECE_REACH (65ull * 2048) /* frame-table entries one destroy piece scans at most */

static char pool[1][4096] __attribute__((aligned(4096)));
static volatile domid_t victim;
static volatile int ap_ready, go, ap_done;
static volatile unsigned int asked = 1, grown; /* frames asked for; grows that succeeded */
static volatile unsigned int dying_values;       /* tot_pages values seen while dying */
static xen_pfn_t grow_frames[NGROW];

/* The child: pins its last NPIN frames as L1 tables; powers off if all pinned, else crashes. */
static void child(void)
{
    const xen_pfn_t *p2m = (const xen_pfn_t *)guest_start_info->mfn_list;
    unsigned long n = guest_start_info->nr_pages, ok = 0;

    for (unsigned long i = n - NPIN; i < n; i++)
        ok += hyp_mmuext1(MMUEXT_PIN_L1_TABLE, p2m[i]) == 0;
    guest_printf("multi_destroy_grow child: %lu of %u frames pinned\n", ok, NPIN);
    guest_shutdown(ok == NPIN ? SHUTDOWN_poweroff : SHUTDOWN_crash);
}

/* 1 if domain id still exists. */
static int exists(domid_t id)
{
    struct xen_domctl op;
    return dctl(XEN_DOMCTL_getdomaininfo, id, &op) == 0 && op.domain == id;
}

/*
 * Phase 1 of our vCPU 1: until the child is gone, counts the different
 * tot_pages values it shows while dying. The hypervisor lock is a ticket
 * lock, so a call of ours lands between any two pieces of vCPU 0's
 * continued destroydomain.
 */
static void watch_pages(void)
{
    struct xen_domctl op;
    uint64_t last = ~0ull;
    while (dctl(XEN_DOMCTL_getdomaininfo, victim, &op) == 0 && op.domain == victim) {
        if (!(op.u.getdomaininfo.flags & XEN_DOMINF_dying) || op.u.getdomaininfo.tot_pages == last)
            continue;
        last = op.u.getdomaininfo.tot_pages;
        dying_values++;
    }
}

/* Phase 2: while the child is dying, asks for one more of its grant frames per call. */
static void grow_dying(void)
{
    struct xen_domctl op;
    while (asked < NGROW && dctl(XEN_DOMCTL_getdomaininfo, victim, &op) == 0 && op.domain == victim) {
        if (!(op.u.getdomaininfo.flags & XEN_DOMINF_dying))
            continue;
        struct gnttab_setup_table st = { .dom = victim, .nr_frames = ++asked };
        set_xen_guest_handle(st.frame_list, grow_frames);
        if (hyp_grant_table_op(GNTTABOP_setup_table, &st, 1) == 0 && st.status == GNTST_okay)
            grown++;
    }
}

/* Our vCPU 1: each phase once told (go = its number), then done = the phase. */
void evt_ap_main(unsigned long cpu)
{
    (void)cpu;
    ap_ready = 1;
    for (int phase = 1; phase <= 2; phase++) {
        while (__atomic_load_n(&go, __ATOMIC_ACQUIRE) != phase)
            __asm__ volatile("pause");
        if (phase == 1)
            watch_pages();
        else
            grow_dying();
        __atomic_store_n(&ap_done, phase, __ATOMIC_RELEASE);
    }
    for (;;)
        hyp_sched_op(SCHEDOP_block, NULL);
}

/* Destroys the child with vCPU 1 in PHASE: destroydomain 0, the child gone, vCPU 1 done. */
static void destroy_with_ap(int phase)
{
    struct xen_domctl op;
    __atomic_store_n(&go, phase, __ATOMIC_RELEASE);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, victim, &op), 0);
    for (unsigned int i = 0; i < 3 && exists(victim); i++)
        dctl(XEN_DOMCTL_destroydomain, victim, &op);
    uint64_t end = evt_now() + 5000000000ull;
    while (ap_done != phase && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(ap_done, phase);
    EXPECT(!exists(victim));
}

void test_main(void)
{
    struct xen_domctl op;
    const xen_pfn_t *p2m = (const xen_pfn_t *)guest_start_info->mfn_list;
    unsigned long n = guest_start_info->nr_pages;

    if (evt_cmdline_num("role", 0) == 1)
        child();
    if (!create_setup("setup"))
        return;
    pt_pool_init(pool, 1);
    long dom_exc_port = create_watch_children();
    EXPECT_EQ(evt_start_ap(1, &ap_ready), 0);

    TEST("a child with frames low and high in the frame table");
    uint64_t free0 = free_pages();
    xen_pfn_t low[NLOW];
    for (unsigned int i = 0; i < NLOW; i++)
        low[i] = p2m[LOW_PFN + i];
    EXPECT(p2m[n - 1] > low[NLOW - 1] + PIECE_REACH); /* the child's high frames lie above ours */
    EXPECT_EQ(hyp_self_reservation(XENMEM_decrease_reservation, low, NLOW), NLOW);
    create_child_op(&op, 0, 8192, "multi_destroy_grow role=2");
    if (!EXPECT_EQ(hyp_domctl(&op), 0))
        return;
    victim = op.domain;

    TEST("destroyed: its frames freed in pieces, every page back");
    destroy_with_ap(1);
    EXPECT(dying_values > 1); /* a piece freed its low frames, a later one its high ones */
    EXPECT_EQ(free_pages(), free0 + NLOW);

    TEST("a child that pins its last frames as L1s and powers off");
    free0 = free_pages();
    create_child_op(&op, 0, 8192, "multi_destroy_grow role=1");
    if (!EXPECT_EQ(hyp_domctl(&op), 0))
        return;
    victim = op.domain;
    EXPECT_EQ(create_run_to_shutdown(dom_exc_port, victim), SHUTDOWN_poweroff);

    TEST("our last frames given back: above one destroy piece's reach");
    xen_pfn_t give[NGIVE];
    for (unsigned int i = 0; i < NGIVE; i++)
        give[i] = p2m[n - NGIVE + i];
    EXPECT(give[0] > PIECE_REACH);
    EXPECT_EQ(hyp_self_reservation(XENMEM_decrease_reservation, give, NGIVE), NGIVE);

    TEST("destroyed while we grow its grant table: gone, every page back");
    destroy_with_ap(2);
    guest_printf("     %u grant frames asked for while it was dying\n", asked - 1);
    EXPECT(asked > 1);   /* vCPU 1 asked between the destroy's pieces */
    EXPECT_EQ(grown, 0); /* a dying domain gets no grant frame */
    EXPECT_EQ(free_pages(), free0 + NGIVE);
}
