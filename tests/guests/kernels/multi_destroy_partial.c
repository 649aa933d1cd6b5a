/*
 * multi_destroy_partial (the initial domain A = 0 and one --domu copy B = 1
 * with "role=1"; pvkit only): destroying a domain caught in the middle of a
 * long MMUEXT_PIN gives back everything, including what its partially
 * validated tables hold.
 *
 * Why: a pin of a big tree is validated 64 tables per piece of the
 * hypercall (mm/pagetype.c). Between pieces the frames stay FRAME_PARTIAL:
 * each partial table holds one reference and one type reference (the
 * partial hold) and the references of the entries validated so far. A
 * hostile domain that is paused or destroyed between two pieces never
 * finishes the pin; destroydomain must still drop those holds, or the
 * domain's frames, and the frames of others its tables map, stay
 * referenced for ever (Xen's relinquish_memory handles PGT_partial pages).
 *
 * B grants A a status page, pins one L1 X and maps into X (contains_pte,
 * writable) a page G that A granted it; then it builds an L3 -> 8 L2s ->
 * 4096 L1s tree whose first L2 entry is X, and starts one
 * MMUEXT_PIN_L3_TABLE of it (hundreds of ms of pieces). A waits until the
 * pin has begun, pauses B 30 ms in (B's status page says the pin has not
 * returned), unmaps B's page and destroys B. Checks: destroydomain returns
 * 0 and B is gone (getdomaininfo -ESRCH, not left dying); physinfo's free
 * pages grew by B's pages; G's grant entry has GTF_reading/GTF_writing
 * clear; G can be pinned as an L1 by A (no writable type reference left
 * by B's tables) and mapped writable again; a second destroy is -ESRCH.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "multi.h"
#include "pt.h"
#include "gnt.h"
#include <xen/grant_table.h>

#define MS 1000000ULL
#define TIMEOUT (20000 * MS)
#define REF_B 10                /* B's grant of its status page to A */
#define REF_G 12                /* A's grant of G to B */
#define NR_L2 8
#define NR_L1 (NR_L2 * 512)

struct status {                 /* the page B grants A */
    volatile uint64_t count;
    volatile int phase;         /* 1: G mapped in X, 2: pin issued, 3: pin returned */
    volatile long rc;
    volatile uint8_t stop;
};

static char pool[8][4096] __attribute__((aligned(4096)));
static uint8_t page[4096] __attribute__((aligned(4096)));
static uint8_t gpage[4096] __attribute__((aligned(4096)));
static char data_page[4096] __attribute__((aligned(4096)));
static uint64_t l1s[NR_L1][512] __attribute__((aligned(4096)));
static uint64_t l2s[NR_L2][512] __attribute__((aligned(4096)));
static uint64_t l3[512] __attribute__((aligned(4096)));

/* Sets up our grant table (frame 0 mapped at pool[0]) and returns it. */
static struct grant_entry_v1 *own_table(void)
{
    xen_pfn_t frame = 0;
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };
    set_xen_guest_handle(st.frame_list, &frame);
    if (hyp_grant_table_op(GNTTABOP_setup_table, &st, 1) || st.status ||
        hyp_update_va_mapping((unsigned long)pool[0], (frame << 12) | PTE_DATA_RW, UVMF_INVLPG))
        return NULL;
    return (struct grant_entry_v1 *)pool[0];
}

static void role_b(void)
{
    struct status *s = (struct status *)page;
    struct grant_entry_v1 *table = own_table();
    unsigned long bad = 0;

    TEST("B: grant A the status page");
    if (!EXPECT(table != NULL))
        return;
    gnt_permit(table, REF_B, 0, page);

    TEST("B: build the tree, pin X, map A's G into X (contains_pte)");
    bad += pt_build_tree(l1s, 511, l2s, NR_L2, l3, data_page);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(pt_pin(1, l1s[0]), 0);
    struct gnttab_map_grant_ref map = {
        .host_addr = pt_ma_of(&l1s[0][511]), .flags = GNTMAP_host_map | GNTMAP_contains_pte,
        .ref = REF_G, .dom = 0 };
    uint64_t end = evt_now() + TIMEOUT;
    gnt_map_retry(&map, end);
    EXPECT_EQ(map.status, GNTST_okay);
    s->phase = 1;

    TEST("B: pin the tree (A destroys us part way)");
    while (!s->stop && s->phase < 2 && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    s->phase = 2;
    s->rc = pt_pin(3, l3);
    s->phase = 3;
    guest_printf("     B: pin returned %ld: A was too late\n", s->rc);
    while (!s->stop && evt_now() < end + TIMEOUT) {
        s->count++;
        hyp_sched_op(SCHEDOP_yield, NULL);
    }
}

static void role_a(void)
{
    struct xen_domctl op;
    struct grant_entry_v1 *table = own_table();
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)pool[1],
                                        .flags = GNTMAP_host_map, .ref = REF_B, .dom = 1 };
    volatile struct status *s = (volatile struct status *)pool[1];

    TEST("A: grant G to B, map B's status page");
    if (!EXPECT(table != NULL))
        return;
    gnt_permit(table, REF_G, 1, gpage);
    uint64_t end = evt_now() + TIMEOUT;
    gnt_map_retry(&map, end);
    if (!EXPECT_EQ(map.status, GNTST_okay))
        return;
    while (s->phase < 1 && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(s->phase, 1);
    EXPECT_EQ(table[REF_G].flags & (GTF_reading | GTF_writing), GTF_reading | GTF_writing);

    TEST("A: pause B in the middle of its pin");
    s->phase = 2;      /* go */
    evt_sleep_ms(30);
    EXPECT_EQ(dctl(XEN_DOMCTL_pausedomain, 1, &op), 0);
    evt_sleep_ms(20);
    EXPECT_EQ(s->phase, 2); /* the pin has not returned */
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), 0);
    uint64_t b_pages = op.u.getdomaininfo.tot_pages;
    gnt_unmap_expect(pool[1], map.handle);
    EXPECT_EQ(pt_map_rw(pool[1]), 0);

    TEST("A: destroy B: it is gone, its memory back, G no longer used");
    uint64_t free0 = free_pages();
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), 0);
    long rc = dctl(XEN_DOMCTL_getdomaininfo, 1, &op);
    if (rc == 0)
        guest_printf("     B still there: domain %u flags 0x%x tot_pages %lu\n", op.domain,
                     op.u.getdomaininfo.flags, (unsigned long)op.u.getdomaininfo.tot_pages);
    EXPECT_EQ(rc, -XEN_ESRCH);
    expect_pages_back(free0, b_pages);
    EXPECT_EQ(table[REF_G].flags & (GTF_reading | GTF_writing), 0);
    EXPECT_EQ(pt_map_ro(gpage), 0);
    EXPECT_EQ(pt_pin(1, gpage), 0);
    EXPECT_EQ(pt_release(gpage), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), -XEN_ESRCH);
}

void test_main(void)
{
    if (multi_setup(pool[4], 4))
        multi_roles(1, role_a, role_b);
}
