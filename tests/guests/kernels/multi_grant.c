/*
 * multi_grant (the initial domain A = 0 and one --domu copy B = 1 with
 * "role=1"; pvkit only: Xen 4.17 builds no domU at boot): grants and
 * foreign mappings between two domains, as a backend in dom0 uses a
 * frontend's pages.
 *
 * B (unprivileged) sets up its grant table, grants page P read-write to A
 * (ref 10), page Q read-only to A (ref 11) and P to domain 5 (ref 12). A
 * finds B's table the way Xen's toolstack does (GNTTABOP_setup_table for
 * domain 1, then a foreign mmu_update mapping of the returned frame), waits
 * for B's entries, and maps P writable through its own foreign mapping (a
 * signal page). Checks in A: the grant map of ref 10 shows B's data and
 * A's writes reach B; B's entry shows GTF_reading|GTF_writing while mapped;
 * a read-only grant mapped writable, a grant to another domain, a ref
 * beyond B's table, an absent domain are refused with Xen's status; grant
 * copy out of ref 10 and into it, and not into the read-only ref 11; a
 * foreign mmu_update batch whose second element names a frame that is not
 * B's stops there with done = 1 and the third untouched. Checks in B: an
 * unprivileged domain cannot set up or query another domain's table nor
 * use a foreign domain in mmu_update; while A maps ref 10 B cannot revoke
 * it, after A's unmap it can; A's writes through the grant and the copy
 * are in P. The domains meet through bytes in P (A writes them through its
 * foreign mapping), not events.
 */
#include "multi.h"
#include "pt.h"
#include "gnt.h"
#include <xen/grant_table.h>

#define MS 1000000ULL
#define TIMEOUT (20000 * MS)
#define REF_P 10
#define REF_Q 11
#define REF_OTHER 12

enum { SIG_MAPPED = 1, SIG_UNMAPPED = 2, SIG_DONE = 3 }; /* bytes 0..2 of P's second half */

static char pool[16][4096] __attribute__((aligned(4096)));
static uint8_t page_p[4096] __attribute__((aligned(4096)));
static uint8_t page_q[4096] __attribute__((aligned(4096)));

/* Waits (yielding) until byte *p is v; false after TIMEOUT. */
static int wait_byte(volatile uint8_t *p, uint8_t v)
{
    uint64_t end = evt_now() + TIMEOUT;
    while (*p != v && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    return *p == v;
}

static int revoke(struct grant_entry_v1 *table, unsigned int ref)
{
    uint16_t flags = __atomic_load_n(&table[ref].flags, __ATOMIC_SEQ_CST);
    if (flags & (GTF_reading | GTF_writing))
        return 0;
    return __atomic_compare_exchange_n(&table[ref].flags, &flags, 0, 0, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

static void grant(struct grant_entry_v1 *table, unsigned int ref, void *page, domid_t to,
                  uint16_t extra)
{
    table[ref].domid = to;
    table[ref].frame = (uint32_t)pt_mfn_of(page);
    __atomic_store_n(&table[ref].flags, (uint16_t)(GTF_permit_access | extra), __ATOMIC_SEQ_CST);
}

static void role_b(void)
{
    xen_pfn_t frame = 0;
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };
    struct grant_entry_v1 *table = (struct grant_entry_v1 *)pool[0];
    volatile uint8_t *sig = page_p + 2048;

    TEST("B: an unprivileged domain stays in its own table");
    set_xen_guest_handle(st.frame_list, &frame);
    st.dom = 0;
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_permission_denied);
    struct gnttab_query_size q = { .dom = 0 };
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_query_size, &q, 1), 0);
    EXPECT_EQ(q.status, GNTST_permission_denied);
    mmu_update_t req = { .ptr = pt_entry_ma((unsigned long)pool[1], 1), .val = 0 };
    EXPECT(hyp_mmu_update(&req, 1, NULL, 0) < 0);

    TEST("B: grant P (rw), Q (ro) to A, P to domain 5");
    st.dom = DOMID_SELF;
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_okay);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)table, (frame << 12) | PTE_DATA_RW,
                                    UVMF_INVLPG), 0);
    for (int i = 0; i < 2048; i++)
        page_p[i] = (uint8_t)(0xb0 + i);
    page_q[0] = 0x51;
    grant(table, REF_Q, page_q, 0, GTF_readonly);
    grant(table, REF_OTHER, page_p, 5, 0);
    grant(table, REF_P, page_p, 0, 0);

    TEST("B: no revoke while A maps P; A's writes land");
    EXPECT(wait_byte(&sig[0], SIG_MAPPED));
    EXPECT_EQ(table[REF_P].flags & (GTF_reading | GTF_writing), GTF_reading | GTF_writing);
    EXPECT(!revoke(table, REF_P));
    EXPECT(wait_byte(&sig[1], SIG_UNMAPPED));
    EXPECT_EQ(page_p[5], 0xa5);             /* written through A's grant mapping */
    EXPECT_EQ(page_p[6], 0xb0 + 7);         /* A's grant copy of P[7] into P[6] */
    EXPECT(revoke(table, REF_P));
    EXPECT(revoke(table, REF_Q));
    EXPECT(revoke(table, REF_OTHER));
    EXPECT(wait_byte(&sig[2], SIG_DONE));
}

static int16_t map1(struct gnttab_map_grant_ref *op)
{
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_map_grant_ref, op, 1), 0);
    return op->status;
}

static int16_t copy1(struct gnttab_copy *c)
{
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_copy, c, 1), 0);
    return c->status;
}

/* Maps B's frame mfn at pool page `slot` with a foreign mmu_update (flags). */
static long foreign_map(int slot, unsigned long mfn, uint64_t flags)
{
    mmu_update_t req = { .ptr = pt_entry_ma((unsigned long)pool[slot], 1),
                         .val = ((uint64_t)mfn << 12) | flags };
    long rc = hyp_mmu_update(&req, 1, NULL, 1);
    pt_invlpg((unsigned long)pool[slot]);
    return rc;
}

static void role_a(void)
{
    xen_pfn_t frame = 0;
    struct gnttab_setup_table st = { .dom = 1, .nr_frames = 1 };
    volatile struct grant_entry_v1 *btable = (volatile struct grant_entry_v1 *)pool[0];
    uint8_t *p_grant = (uint8_t *)pool[1], *p_foreign = (uint8_t *)pool[2];
    uint64_t end = evt_now() + TIMEOUT;

    TEST("A: find B's grant table as a toolstack does");
    set_xen_guest_handle(st.frame_list, &frame);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_okay);
    EXPECT_EQ(foreign_map(0, frame, PTE_DATA_RO), 0);
    while (!(btable[REF_P].flags & GTF_permit_access) && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    if (!EXPECT(btable[REF_P].flags & GTF_permit_access))
        return;
    unsigned long p_mfn = btable[REF_P].frame;
    EXPECT_EQ(foreign_map(2, p_mfn, PTE_DATA_RW), 0);
    volatile uint8_t *sig = p_foreign + 2048;

    TEST("A: map B's grant of P writable");
    struct gnttab_map_grant_ref op = { .host_addr = (unsigned long)p_grant,
                                       .flags = GNTMAP_host_map, .ref = REF_P, .dom = 1 };
    EXPECT_EQ(map1(&op), GNTST_okay);
    EXPECT_EQ(op.dev_bus_addr, (uint64_t)p_mfn << 12);
    EXPECT_EQ(p_grant[1], 0xb1);
    p_grant[5] = 0xa5;
    EXPECT_EQ(btable[REF_P].flags & (GTF_reading | GTF_writing), GTF_reading | GTF_writing);
    sig[0] = SIG_MAPPED;

    TEST("A: hostile maps of B's grants");
    struct gnttab_map_grant_ref bad = { .host_addr = (unsigned long)pool[3],
                                        .flags = GNTMAP_host_map, .ref = REF_Q, .dom = 1 };
    EXPECT_EQ(map1(&bad), GNTST_general_error);      /* read-only grant, writable map */
    bad.flags |= GNTMAP_readonly;
    EXPECT_EQ(map1(&bad), GNTST_okay);
    EXPECT_EQ(((uint8_t *)pool[3])[0], 0x51);
    gnt_unmap_expect(pool[3], bad.handle);
    bad.ref = REF_OTHER;
    EXPECT_EQ(map1(&bad), GNTST_general_error);      /* granted to domain 5 */
    bad.ref = 512;
    EXPECT_EQ(map1(&bad), GNTST_bad_gntref);         /* beyond B's one frame */
    bad.ref = REF_P;
    bad.dom = 7;
    EXPECT_EQ(map1(&bad), GNTST_bad_domain);

    TEST("A: grant copy with B's grants");
    struct gnttab_copy c = { .flags = GNTCOPY_source_gref | GNTCOPY_dest_gref, .len = 1 };
    c.source.u.ref = REF_P;
    c.source.domid = 1;
    c.source.offset = 7;
    c.dest.u.ref = REF_P;
    c.dest.domid = 1;
    c.dest.offset = 6;
    EXPECT_EQ(copy1(&c), GNTST_okay);
    c.dest.u.ref = REF_Q;
    EXPECT_EQ(copy1(&c), GNTST_general_error);       /* into a read-only grant */

    TEST("A: a foreign mmu_update batch stops at its bad element");
    mmu_update_t reqs[3] = {
        { pt_entry_ma((unsigned long)pool[4], 1), ((uint64_t)p_mfn << 12) | PTE_DATA_RO },
        { pt_entry_ma((unsigned long)pool[5], 1), ((uint64_t)pt_mfn_of(pool[8]) << 12) | PTE_DATA_RO },
        { pt_entry_ma((unsigned long)pool[6], 1), ((uint64_t)p_mfn << 12) | PTE_DATA_RO },
    };
    unsigned int done = 99;
    EXPECT(hyp_mmu_update(reqs, 3, &done, 1) < 0);   /* pool[8] is A's, not B's */
    EXPECT_EQ(done, 1);
    pt_invlpg((unsigned long)pool[4]);
    EXPECT_EQ(((uint8_t *)pool[4])[2], 0xb2);
    EXPECT_EQ((*pt_entry((unsigned long)pool[6], 1) & PTE_MFN) >> 12,
              pt_mfn_of(pool[6]));                   /* the third was not applied */
    EXPECT_EQ(pt_map_rw(pool[4]), 0);

    TEST("A: unmap; B may revoke");
    gnt_unmap_expect(p_grant, op.handle);
    EXPECT_EQ(btable[REF_P].flags & (GTF_reading | GTF_writing), 0);
    sig[1] = SIG_UNMAPPED;
    sig[2] = SIG_DONE;
    EXPECT_EQ(pt_map_rw(pool[2]), 0);                /* drop the foreign mappings */
    EXPECT_EQ(pt_map_rw(pool[0]), 0);
    EXPECT_EQ(pt_map_rw(pool[1]), 0);
}

void test_main(void)
{
    if (multi_setup(pool[9], 7))
        multi_roles(0, role_a, role_b);
}
