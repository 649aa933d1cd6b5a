/*
 * grant_maptrack: the mapping domain's maptrack table (the handles
 * GNTTABOP_map_grant_ref returns) attacked by the initial domain mapping
 * its own grants (so the same kernel runs as Xen 4.17's dom0).
 *
 * Why: pvkit's maptrack grows a page of 128 entries at a time up to 128
 * pages (16384 mappings held at once) and keeps its free entries on a list
 * threaded through them; a guest that exhausts it, frees in odd orders,
 * unmaps handles twice or names handles never issued must neither corrupt
 * the list (lost or duplicated handles), nor crash the hypervisor, nor
 * leak hypervisor pages.
 *
 * Checks: a table of 32 frames (16384 entries); one mapping: a never-issued
 * handle in its maptrack page, one beyond the allocated pages, 16384, ~0 ->
 * GNTST_bad_handle; unmap twice -> GNTST_bad_handle the second time; a
 * stale handle after its reuse by a mapping of another frame is refused
 * (GNTST_bad_dev_addr, the new mapping stays) or, naming a handle not in use,
 * GNTST_bad_handle; a batch mixing good and bad ops (no flags, absent
 * domain, ref beyond the table, never granted) gives each its status and
 * the good ones unique handles; three rounds of: map 16448 device
 * read-only mappings in one batch (pvkit: exactly 16384 GNTST_okay, every
 * handle unique and < 16384, then GNTST_no_space; Xen's limit is larger:
 * all succeed), at exhaustion a mixed batch gets bad_gntref / bad_domain /
 * no_space (pvkit), unmap all in a scrambled order (every one GNTST_okay,
 * no grant entry busy after); the count stays the same every round and the
 * machine's free pages at exhaustion stay those of the first round (the
 * maptrack pages are reused, none leaked).
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "traps.h"
#include "pt.h"
#include "gnt.h"

#define SELF_DOMID 0
#define FRAMES 32
#define ENTRIES (FRAMES * 512)
#define FIRST_REF 8                     /* refs 0-7 are reserved */
#define NREFS (ENTRIES - FIRST_REF)
#define LIMIT 16384                     /* pvkit's MAPTRACK_MAX */
#define MANY (LIMIT + 64)
#define ROUNDS 3

static char tbl[FRAMES][4096] __attribute__((aligned(4096)));
static uint8_t data[4096] __attribute__((aligned(4096)));
static uint8_t data2[4096] __attribute__((aligned(4096)));
static struct grant_entry_v1 *table;
static int on_pvkit;

static struct gnttab_map_grant_ref ops[MANY];
static struct gnttab_unmap_grant_ref unops[MANY];
static uint32_t held[MANY];             /* indexes into ops of the okay ones */
static uint8_t seen[65536];

static void grant(unsigned int ref, unsigned long mfn, uint16_t extra)
{
    table[ref].domid = SELF_DOMID;
    table[ref].frame = (uint32_t)mfn;
    __atomic_store_n(&table[ref].flags, (uint16_t)(GTF_permit_access | extra), __ATOMIC_SEQ_CST);
}

static unsigned int busy_entries(void)
{
    unsigned int busy = 0;
    for (unsigned int r = FIRST_REF; r < ENTRIES; r++)
        busy += !!(__atomic_load_n(&table[r].flags, __ATOMIC_SEQ_CST) & (GTF_reading | GTF_writing));
    return busy;
}

static struct gnttab_map_grant_ref dev_op(uint32_t ref, domid_t dom)
{
    return (struct gnttab_map_grant_ref){ .flags = GNTMAP_device_map | GNTMAP_readonly,
                                          .ref = ref, .dom = dom };
}

static int16_t map1(struct gnttab_map_grant_ref *op)
{
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_map_grant_ref, op, 1), 0);
    return op->status;
}

static int16_t unmap_dev(uint64_t dev_bus_addr, grant_handle_t handle)
{
    struct gnttab_unmap_grant_ref op = { .dev_bus_addr = dev_bus_addr, .handle = handle };
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &op, 1), 0);
    return op.status;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rand32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static void test_setup(void)
{
    static xen_pfn_t frames[FRAMES];
    static char extra[16];

    TEST("setup: a table of 32 frames (16384 entries)");
    EXPECT_EQ(hyp_xen_version(XENVER_extraversion, extra), 0);
    on_pvkit = guest_strstr(extra, "pvkit") != NULL;
    guest_printf("     extraversion \"%s\": %s\n", extra, on_pvkit ? "pvkit" : "Xen");
    table = gnt_setup_frames_expect(tbl, frames, FRAMES);
    for (unsigned int r = FIRST_REF; r < ENTRIES; r++)
        grant(r, pt_mfn_of(data), GTF_readonly);
}

static void test_bad_handles(void)
{
    struct gnttab_map_grant_ref a = dev_op(FIRST_REF, SELF_DOMID);

    TEST("one mapping: never-issued, unallocated and absurd handles, unmap twice");
    EXPECT_EQ(map1(&a), GNTST_okay);
    guest_printf("     first handle %u\n", a.handle);
    uint32_t in_page = (a.handle & ~127u) + ((a.handle + 5) & 127);  /* its page, not it */
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, in_page), GNTST_bad_handle);
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, (a.handle | 127) + 1 + 128), GNTST_bad_handle);
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, LIMIT), GNTST_bad_handle);
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, 0x10000), GNTST_bad_handle);
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, 0x7fffffff), GNTST_bad_handle);
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, 0xffffffffu), GNTST_bad_handle);
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, a.handle), GNTST_okay);
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, a.handle), GNTST_bad_handle);  /* twice */
    EXPECT_EQ(unmap_dev(0, a.handle), GNTST_bad_handle);
    EXPECT_EQ(busy_entries(), 0);
}

static void test_stale(void)
{
    struct gnttab_map_grant_ref a = dev_op(FIRST_REF, SELF_DOMID);
    struct gnttab_map_grant_ref b = dev_op(FIRST_REF + 1, SELF_DOMID);

    TEST("a stale handle after its reuse by another mapping");
    grant(FIRST_REF + 1, pt_mfn_of(data2), GTF_readonly);
    EXPECT_EQ(map1(&a), GNTST_okay);
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, a.handle), GNTST_okay);
    EXPECT_EQ(map1(&b), GNTST_okay);                 /* another frame */
    guest_printf("     handle %u unmapped, the next mapping got %u\n", a.handle, b.handle);
    if (on_pvkit)
        EXPECT_EQ(b.handle, a.handle);               /* the free list is LIFO */
    int16_t st = unmap_dev(a.dev_bus_addr, a.handle); /* stale: A's frame */
    EXPECT_EQ(st, b.handle == a.handle ? GNTST_bad_dev_addr : GNTST_bad_handle);
    EXPECT_EQ(table[FIRST_REF + 1].flags & GTF_reading, GTF_reading); /* B stays */
    EXPECT_EQ(table[FIRST_REF].flags & GTF_reading, 0);
    EXPECT_EQ(unmap_dev(b.dev_bus_addr, b.handle), GNTST_okay);
    /* Reused by a mapping of the same frame: the stale unmap names it (the
     * caller's bug, as on Xen); its real owner then finds it gone. */
    EXPECT_EQ(map1(&a), GNTST_okay);
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, a.handle), GNTST_okay);
    struct gnttab_map_grant_ref c = dev_op(FIRST_REF + 2, SELF_DOMID);
    EXPECT_EQ(map1(&c), GNTST_okay);
    st = unmap_dev(a.dev_bus_addr, a.handle);
    guest_printf("     stale handle %u naming handle %u's mapping of the same frame: %d\n",
                 a.handle, c.handle, st);
    EXPECT_EQ(st, c.handle == a.handle ? GNTST_okay : GNTST_bad_handle);
    EXPECT_EQ(unmap_dev(c.dev_bus_addr, c.handle),
              c.handle == a.handle ? GNTST_bad_handle : GNTST_okay);
    grant(FIRST_REF + 1, pt_mfn_of(data), GTF_readonly);
    EXPECT_EQ(busy_entries(), 0);
}

static void test_mixed_batch(void)
{
    struct gnttab_map_grant_ref m[9] = {
        dev_op(FIRST_REF + 10, SELF_DOMID),
        { .flags = 0, .ref = FIRST_REF + 11, .dom = SELF_DOMID },   /* no host/device */
        dev_op(FIRST_REF + 12, SELF_DOMID),
        dev_op(FIRST_REF + 13, 999),                                /* absent domain */
        dev_op(ENTRIES, SELF_DOMID),                                /* beyond the table */
        dev_op(FIRST_REF + 14, SELF_DOMID),
        dev_op(FIRST_REF + 15, SELF_DOMID),                          /* never granted */
        { .flags = GNTMAP_device_map, .ref = FIRST_REF + 16, .dom = SELF_DOMID }, /* r/o grant, rw */
        dev_op(FIRST_REF + 17, SELF_DOMID),
    };
    static const int16_t want[9] = { GNTST_okay, GNTST_bad_gntref, GNTST_okay, GNTST_bad_domain,
                                     GNTST_bad_gntref, GNTST_okay, GNTST_general_error,
                                     GNTST_general_error, GNTST_okay };

    TEST("a batch mixing good and bad maps");
    table[FIRST_REF + 15].flags = 0;
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_map_grant_ref, m, 9), 0);
    for (int i = 0; i < 9; i++)
        if (m[i].status != want[i])
            EXPECT_EQ(m[i].status, want[i]);
    EXPECT(m[0].handle != m[2].handle && m[0].handle != m[5].handle &&
           m[0].handle != m[8].handle && m[2].handle != m[5].handle &&
           m[2].handle != m[8].handle && m[5].handle != m[8].handle);
    struct gnttab_unmap_grant_ref u[6] = {
        { .dev_bus_addr = m[0].dev_bus_addr, .handle = m[0].handle },
        { .dev_bus_addr = m[2].dev_bus_addr, .handle = m[2].handle },
        { .dev_bus_addr = m[2].dev_bus_addr, .handle = m[2].handle },   /* twice in a batch */
        { .dev_bus_addr = m[5].dev_bus_addr, .handle = 0xffffffffu },
        { .dev_bus_addr = m[5].dev_bus_addr, .handle = m[5].handle },
        { .dev_bus_addr = m[8].dev_bus_addr, .handle = m[8].handle },
    };
    static const int16_t uwant[6] = { GNTST_okay, GNTST_okay, GNTST_bad_handle, GNTST_bad_handle,
                                      GNTST_okay, GNTST_okay };
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_unmap_grant_ref, u, 6), 0);
    for (int i = 0; i < 6; i++)
        if (u[i].status != uwant[i])
            EXPECT_EQ(u[i].status, uwant[i]);
    grant(FIRST_REF + 15, pt_mfn_of(data), GTF_readonly);
    EXPECT_EQ(busy_entries(), 0);
}

/* Maps MANY in one batch; returns how many succeeded (their indexes in held). */
static unsigned int exhaust(unsigned int round)
{
    unsigned int ok = 0, no_space = 0, other = 0, dup = 0, high = 0, after_fail = 0;
    uint32_t maxh = 0;

    for (unsigned int i = 0; i < MANY; i++)
        ops[i] = dev_op(FIRST_REF + (i * 7919u + round) % NREFS, SELF_DOMID);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_map_grant_ref, ops, MANY), 0);
    memset(seen, 0, sizeof(seen));
    for (unsigned int i = 0; i < MANY; i++) {
        if (ops[i].status == GNTST_okay) {
            after_fail += no_space + other > 0;
            uint32_t h = ops[i].handle;
            if (h >= 65536 || seen[h]++)
                dup += h < 65536;
            high += h >= LIMIT;
            if (h > maxh)
                maxh = h;
            held[ok++] = i;
        } else if (ops[i].status == GNTST_no_space) {
            no_space++;
        } else {
            other++;
        }
    }
    guest_printf("     round %u: %u mapped (largest handle %u), %u GNTST_no_space, %u other\n",
                 round, ok, maxh, no_space, other);
    EXPECT_EQ(other, 0);
    EXPECT_EQ(dup, 0);
    EXPECT_EQ(after_fail, 0);
    if (on_pvkit) {
        EXPECT_EQ(ok, LIMIT);
        EXPECT_EQ(no_space, MANY - LIMIT);
        EXPECT_EQ(high, 0);
    } else {
        EXPECT_EQ(ok, MANY);
    }
    return ok;
}

static void unmap_scrambled(unsigned int ok)
{
    for (unsigned int i = ok; i > 1; i--) {
        unsigned int j = rand32() % i;
        uint32_t t = held[i - 1];
        held[i - 1] = held[j];
        held[j] = t;
    }
    for (unsigned int i = 0; i < ok; i++)
        unops[i] = (struct gnttab_unmap_grant_ref){ .dev_bus_addr = ops[held[i]].dev_bus_addr,
                                                    .handle = ops[held[i]].handle };
    unsigned int bad = 0;
    /* in uneven batches */
    for (unsigned int i = 0; i < ok;) {
        unsigned int n = 1 + rand32() % 3000;
        if (n > ok - i)
            n = ok - i;
        EXPECT_EQ(hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &unops[i], n), 0);
        i += n;
    }
    for (unsigned int i = 0; i < ok; i++)
        bad += unops[i].status != GNTST_okay;
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(busy_entries(), 0);
}

static void test_rounds(void)
{
    uint64_t free_before = free_pages(), free_full[ROUNDS], free_empty[ROUNDS];
    unsigned int count[ROUNDS];

    for (unsigned int r = 0; r < ROUNDS; r++) {
        TEST(r == 0 ? "exhaust the maptrack in one batch, unmap in a scrambled order"
                    : "again: the same count, handles reused, no page more");
        count[r] = exhaust(r);
        free_full[r] = free_pages();
        if (r == 1 && on_pvkit) {
            /* At exhaustion: the cheap refusals first, then no_space. */
            struct gnttab_map_grant_ref m[4] = {
                { .flags = 0, .ref = FIRST_REF, .dom = SELF_DOMID },
                dev_op(FIRST_REF, 999),
                dev_op(ENTRIES + 5, SELF_DOMID),
                dev_op(FIRST_REF, SELF_DOMID),
            };
            EXPECT_EQ(hyp_grant_table_op(GNTTABOP_map_grant_ref, m, 4), 0);
            EXPECT_EQ(m[0].status, GNTST_bad_gntref);
            EXPECT_EQ(m[1].status, GNTST_bad_domain);
            EXPECT_EQ(m[2].status, GNTST_no_space);
            EXPECT_EQ(m[3].status, GNTST_no_space);
            EXPECT_EQ(unmap_dev(0, LIMIT), GNTST_bad_handle);
            EXPECT_EQ(unmap_dev(0, 0xffffffffu), GNTST_bad_handle);
        }
        unmap_scrambled(count[r]);
        free_empty[r] = free_pages();
        guest_printf("     free pages: %lu before, %lu at exhaustion, %lu after the unmaps\n",
                     (unsigned long)free_before, (unsigned long)free_full[r],
                     (unsigned long)free_empty[r]);
        if (r)
            EXPECT_EQ(count[r], count[0]);
        if (r && on_pvkit) {
            EXPECT_EQ(free_full[r], free_full[0]);
            EXPECT_EQ(free_empty[r], free_empty[0]);
        }
    }
    if (on_pvkit)  /* the table grew to its 128 pages and no further */
        EXPECT(free_before - free_full[0] <= 128);

    TEST("after the rounds: one mapping, then its double unmap");
    struct gnttab_map_grant_ref a = dev_op(FIRST_REF, SELF_DOMID);
    EXPECT_EQ(map1(&a), GNTST_okay);
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, a.handle), GNTST_okay);
    EXPECT_EQ(unmap_dev(a.dev_bus_addr, a.handle), GNTST_bad_handle);
    EXPECT_EQ(busy_entries(), 0);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    EXPECT(guest_start_info->flags & SIF_INITDOMAIN);
    test_setup();
    test_bad_handles();
    test_stale();
    test_mixed_batch();
    test_rounds();
}
