/*
 * bench_grant: grant-table throughput for make bench-hv (issue 13's
 * benchmark). One domain: the initial domain grants its own pages to itself
 * (domain id 0, as grant_self), so the same kernel runs as Xen 4.17's dom0.
 *
 * What it measures, and how (RDTSC around each hypercall only; frequency
 * and output format in bench_common.h):
 *   - grant_map_unmap_bN_page (N = 1, 64): GNTTABOP_map_grant_ref with
 *     GNTMAP_host_map at a linear address, then GNTTABOP_unmap_grant_ref of
 *     the same, per page. 64 data pages of ours are granted (writable, refs
 *     REF0..REF0+63) and mapped writable at 64 consecutive addresses whose
 *     L1 entries are empty (a private L1, pinned and hooked into the
 *     builder's L2 at BENCH_VA, as bench_mmu), in batches of N ops per
 *     hypercall; then all 64 are unmapped in batches of N. So 64 grants are
 *     mapped at the peak for both batch sizes, and only the batching differs.
 *   - grant_map_unmap_pte_bN_page: the same with GNTMAP_contains_pte,
 *     host_addr = the machine address of the L1 entry (what Linux's xenbus
 *     does for its ring pages; gntdev does the same for user mappings).
 *   - grant_map_bN_page / grant_unmap_bN_page (and _pte_): the two halves of
 *     the above alone, in cycles.
 *   - grant_copy_bN_op (N = 1, 16; 16 is Linux gntdev's copy batch):
 *     GNTTABOP_copy of 4 KiB from a granted page (GNTCOPY_source_gref) to a
 *     frame of our own (DOMID_SELF, gmfn = MFN), per op.
 * Each figure is the median of REPS repetitions (MAP_ROUNDS rounds of 64
 * pages, COPY_ROUNDS rounds of 16 copies each), after a warm-up repetition.
 *
 * What is checked, so that failing or skipped ops are never measured:
 * every hypercall returns 0 and every op's status (reset to a bogus value
 * before each call) is GNTST_okay; after each map the L1 entry holds the
 * data page's frame, dev_bus_addr is that frame, and the first and last
 * words read through the new mapping are the page's (the whole page's
 * checksum in each repetition's first round); after each unmap the L1
 * entry is empty and no entry is left GTF_reading/GTF_writing. Copies go
 * into destination pages whose first and last words were overwritten
 * first (all of the page zeroed, and the checksum compared, in each
 * repetition's first round). Ends with the framework's verdict.
 */
#include "bench_common.h"
#include <stdbool.h>
#include <xen/grant_table.h>

#define SELF_DOMID  0               /* the initial domain */
#define BENCH_VA    (GUEST_VIRT_BASE + (64UL << 20))
#define NPAGES      64              /* granted pages, mapped at once */
#define NCOPY       16              /* copy destinations (gntdev's batch) */
#define REF0        16              /* refs 0-7 are reserved */
#define REPS        7               /* measured repetitions (median), after one warm-up */
#define MAP_ROUNDS  32              /* 2048 map+unmap per repetition and variant */
#define COPY_ROUNDS 128             /* 2048 copies per repetition and batch size */
#define BOGUS       0x7777          /* status before each call: a skipped op keeps it */

static char pool[6][4096] __attribute__((aligned(4096)));
static uint64_t data[NPAGES][512] __attribute__((aligned(4096)));
static uint64_t dst[NCOPY][512] __attribute__((aligned(4096)));
static uint64_t sums[NPAGES];
static unsigned long data_mfn[NPAGES];
static struct grant_entry_v1 *table;
static volatile uint64_t *l1;
static struct gnttab_map_grant_ref mops[NPAGES];
static struct gnttab_unmap_grant_ref uops[NPAGES];
static struct gnttab_copy cops[NCOPY];

static uint64_t checksum(const volatile uint64_t *p)
{
    uint64_t s = 0;

    for (unsigned int i = 0; i < 512; i++)
        s = (s ^ p[i]) * 0x100000001b3ULL + i;
    return s;
}

static volatile uint64_t *va_of(unsigned int i)
{
    return (volatile uint64_t *)(BENCH_VA + ((unsigned long)i << 12));
}

/* Our grant table (one frame, mapped writable), the data pages granted, the L1. */
static void setup(void)
{
    struct gnttab_set_version sv = { .version = 1 };
    xen_pfn_t frame = 0;
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };
    uint64_t x = 0x9e3779b97f4a7c15ULL;

    TEST("set-up: grant table, 64 granted pages, an empty pinned L1");
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_set_version, &sv, 1), 0);
    set_xen_guest_handle(st.frame_list, &frame);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_okay);
    table = (struct grant_entry_v1 *)pt_alloc();
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)table, (frame << 12) | PTE_DATA_RW,
                                    UVMF_INVLPG), 0);
    for (unsigned int p = 0; p < NPAGES; p++) {
        for (unsigned int i = 0; i < 512; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            data[p][i] = x;
        }
        sums[p] = checksum(data[p]);
        data_mfn[p] = pt_mfn_of(data[p]);
        table[REF0 + p].domid = SELF_DOMID;
        table[REF0 + p].frame = (uint32_t)data_mfn[p];
        __atomic_store_n(&table[REF0 + p].flags, (uint16_t)GTF_permit_access, __ATOMIC_SEQ_CST);
    }
    l1 = pt_alloc();
    EXPECT_EQ(pt_map_ro((void *)l1), 0);
    EXPECT_EQ(pt_pin(1, (void *)l1), 0);
    EXPECT_EQ(pt_mmu1(pt_entry_ma(BENCH_VA, 2), pt_ma_of((void *)l1) | PTE_TABLE), 0);
    for (unsigned int i = 0; i < 512; i++)
        EXPECT_EQ(l1[i], 0);
}

/* Number of refs REF0.. still marked GTF_reading or GTF_writing. */
static unsigned int busy_refs(unsigned int n)
{
    unsigned int busy = 0;

    for (unsigned int p = 0; p < n; p++)
        busy += !!(__atomic_load_n(&table[REF0 + p].flags, __ATOMIC_SEQ_CST) &
                   (GTF_reading | GTF_writing));
    return busy;
}

struct map_cost {
    uint64_t map, unmap;
};

/*
 * One repetition: MAP_ROUNDS times, map the 64 pages in batches of B, check,
 * unmap them in batches of B, check. Failed checks are added to *bad.
 */
static struct map_cost map_rep(unsigned int b, bool pte, unsigned long *bad)
{
    struct map_cost c = { 0, 0 };

    for (unsigned int r = 0; r < MAP_ROUNDS; r++) {
        for (unsigned int p = 0; p < NPAGES; p++) {
            uint64_t host = pte ? pt_ma_of((const void *)&l1[p]) : (uint64_t)va_of(p);

            mops[p] = (struct gnttab_map_grant_ref){
                .host_addr = host, .ref = REF0 + p, .dom = SELF_DOMID,
                .flags = GNTMAP_host_map | (pte ? GNTMAP_contains_pte : 0),
                .status = BOGUS, .handle = 0xffffffffu };
        }
        for (unsigned int p = 0; p < NPAGES; p += b) {
            uint64_t t0 = bench_rdtsc();
            long rc = hyp_grant_table_op(GNTTABOP_map_grant_ref, &mops[p], b);

            c.map += bench_rdtsc() - t0;
            *bad += rc != 0;
        }
        for (unsigned int p = 0; p < NPAGES; p++) {
            volatile uint64_t *va = va_of(p);

            *bad += mops[p].status != GNTST_okay;
            *bad += mops[p].dev_bus_addr != (uint64_t)data_mfn[p] << 12;
            *bad += ((l1[p] & PTE_MFN) >> 12) != data_mfn[p] || !(l1[p] & PTE_P);
            if (mops[p].status != GNTST_okay || !(l1[p] & PTE_P))
                continue;
            *bad += va[0] != data[p][0] || va[511] != data[p][511];
            if (r == 0)
                *bad += checksum(va) != sums[p];
            uops[p] = (struct gnttab_unmap_grant_ref){
                .host_addr = mops[p].host_addr, .handle = mops[p].handle, .status = BOGUS };
        }
        for (unsigned int p = 0; p < NPAGES; p += b) {
            uint64_t t0 = bench_rdtsc();
            long rc = hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &uops[p], b);

            c.unmap += bench_rdtsc() - t0;
            *bad += rc != 0;
        }
        for (unsigned int p = 0; p < NPAGES; p++)
            *bad += uops[p].status != GNTST_okay || l1[p] != 0;
        *bad += busy_refs(NPAGES);
        if (*bad)
            break;
    }
    return c;
}

/* Sorts N values in place (insertion sort) and returns the median. */
static uint64_t median(uint64_t *v, unsigned int n)
{
    for (unsigned int i = 1; i < n; i++)
        for (unsigned int j = i; j > 0 && v[j] < v[j - 1]; j--) {
            uint64_t t = v[j];

            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

/* NAME with "_bN" and the suffix SFX appended (e.g. grant_map, 64, _page). */
static const char *metric(char *buf, const char *name, unsigned int n, const char *sfx)
{
    char digits[8];
    size_t len = guest_strlen(name), k = 0;

    memcpy(buf, name, len);
    memcpy(buf + len, "_b", 2);
    len += 2;
    do
        digits[k++] = (char)('0' + n % 10);
    while ((n /= 10));
    while (k)
        buf[len++] = digits[--k];
    memcpy(buf + len, sfx, guest_strlen(sfx) + 1);
    return buf;
}

static void bench_map(unsigned int b, bool pte)
{
    uint64_t map[REPS], unmap[REPS], both[REPS];
    uint64_t ops = (uint64_t)MAP_ROUNDS * NPAGES;
    unsigned long bad = 0;
    const char *kind = pte ? "_pte" : "";
    char base[32], name[48];

    guest_printf("---- map/unmap%s, batch %u\n", pte ? " contains_pte" : "", b);
    TEST(pte ? "map + unmap through the L1 entry's machine address (contains_pte)"
             : "map + unmap at a linear address (host_map)");
    map_rep(b, pte, &bad);                              /* warm-up */
    for (unsigned int i = 0; i < REPS && !bad; i++) {
        struct map_cost c = map_rep(b, pte, &bad);

        map[i] = c.map;
        unmap[i] = c.unmap;
        both[i] = c.map + c.unmap;
    }
    EXPECT_EQ(bad, 0);
    if (bad)
        return;
    memcpy(base, "grant_map_unmap", 16);
    memcpy(base + 15, kind, guest_strlen(kind) + 1);
    bench_report_cost(metric(name, base, b, "_page"), median(both, REPS), ops);
    memcpy(base, "grant_map", 10);
    memcpy(base + 9, kind, guest_strlen(kind) + 1);
    bench_print_milli(metric(name, base, b, "_page"), median(map, REPS) * 1000 / ops, "cycles");
    memcpy(base, "grant_unmap", 12);
    memcpy(base + 11, kind, guest_strlen(kind) + 1);
    bench_print_milli(metric(name, base, b, "_page"), median(unmap, REPS) * 1000 / ops, "cycles");
}

/* One repetition of COPY_ROUNDS rounds of 16 copies in batches of B; cycles. */
static uint64_t copy_rep(unsigned int b, unsigned long *bad)
{
    uint64_t cyc = 0;

    for (unsigned int r = 0; r < COPY_ROUNDS; r++) {
        for (unsigned int i = 0; i < NCOPY; i++) {
            unsigned int p = (r + i) % NPAGES;      /* a different source each round */

            if (r == 0)
                for (unsigned int w = 0; w < 512; w++)
                    dst[i][w] = 0;
            dst[i][0] = ~data[p][0];
            dst[i][511] = ~data[p][511];
            cops[i] = (struct gnttab_copy){ .flags = GNTCOPY_source_gref, .len = 4096,
                                            .status = BOGUS };
            cops[i].source.u.ref = REF0 + p;
            cops[i].source.domid = SELF_DOMID;
            cops[i].dest.u.gmfn = pt_mfn_of(dst[i]);
            cops[i].dest.domid = DOMID_SELF;
        }
        __asm__ volatile("" ::: "memory");
        for (unsigned int i = 0; i < NCOPY; i += b) {
            uint64_t t0 = bench_rdtsc();
            long rc = hyp_grant_table_op(GNTTABOP_copy, &cops[i], b);

            cyc += bench_rdtsc() - t0;
            *bad += rc != 0;
        }
        __asm__ volatile("" ::: "memory");
        for (unsigned int i = 0; i < NCOPY; i++) {
            unsigned int p = (r + i) % NPAGES;

            *bad += cops[i].status != GNTST_okay;
            *bad += dst[i][0] != data[p][0] || dst[i][511] != data[p][511];
            if (r == 0)
                *bad += checksum(dst[i]) != sums[p];
        }
        *bad += busy_refs(NPAGES);
        if (*bad)
            break;
    }
    return cyc;
}

static void bench_copy(unsigned int b)
{
    uint64_t cyc[REPS];
    unsigned long bad = 0;
    char name[48];

    guest_printf("---- copy, batch %u\n", b);
    TEST("grant copy of 4 KiB, gref -> own frame");
    copy_rep(b, &bad);                                  /* warm-up */
    for (unsigned int i = 0; i < REPS && !bad; i++)
        cyc[i] = copy_rep(b, &bad);
    EXPECT_EQ(bad, 0);
    if (!bad)
        bench_report_cost(metric(name, "grant_copy", b, "_op"), median(cyc, REPS),
                          (uint64_t)COPY_ROUNDS * NCOPY);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    pt_pool_init(pool, 6);
    bench_tsc_init(pt_map_shared_info());
    EXPECT(guest_start_info->flags & SIF_INITDOMAIN);
    setup();
    bench_map(1, false);
    bench_map(64, false);
    bench_map(1, true);
    bench_map(64, true);
    bench_copy(1);
    bench_copy(16);
}
