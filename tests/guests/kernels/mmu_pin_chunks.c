/*
 * mmu_pin_chunks: pins and single-entry updates aimed at the validator's
 * fast paths (issue 16 item 4).
 *
 * Why: validation and release find present entries 16 at a time (one OR of
 * a chunk's present bits), starting from an index that need not be a chunk
 * boundary; a table whose present entries need no adjustment is not written
 * at all; a single L1 update looks its frame up once and derives the stored
 * value (U set, G cleared, a read-only device frame's RW cleared) from that
 * one look-up. An off-by-one at a chunk edge, a skipped adjustment or a
 * device frame taken for RAM would each let a guest keep a writable mapping
 * of a page table or of a frame it may not write.
 *
 * Checks: an L1 whose only present entry is bad, at each chunk edge (15, 16,
 * 17, 31, 32, 496, 510) behind not-present garbage, our L4 writable or
 * address bit 51 by turns -> pin -EBUSY or -EPERM, still untyped; 31 entries at chunk edges (i % 16 in {0, 15})
 * mapping page W writable and a bad one at 500 -> -EBUSY, W then pins as an
 * L1 (no writable type left from the 31); the same 31 with no bad entry ->
 * pin 0, W's pin -EINVAL while the table is pinned, 0 after the unpin (every
 * reference released); a table of entries already as stored (U, no G) pins
 * and reads back byte for byte, while one lacking U at 511 (the last entry
 * of the last chunk) gets U and its neighbours stay as written; a single
 * mmu_update into a pinned L1: our L4 writable -EBUSY, the I/O APIC
 * (privileged) stored read-only, the local APIC -EPERM, a RAM page without
 * U stored with U, each entry checked through what it holds afterwards;
 * once the entries are cleared and the table unpinned the RAM page pins.
 */
#include "traps.h"
#include "pt.h"

#define IOAPIC_MFN 0xFEC00UL
#define LAPIC_MFN  0xFEE00UL

static char pool[16][4096] __attribute__((aligned(4096)));

/* A bad present entry for a chunk-edge case. */
struct edge_case {
    unsigned int index;
    int reserved_bit;   /* 1: address bit 51 (-EPERM); else our own L4 writable (-EBUSY) */
};

static void test_chunk_edges(void)
{
    static const struct edge_case cases[] = {
        { 15, 0 }, { 16, 1 }, { 17, 0 }, { 31, 1 },
        { 32, 0 }, { 496, 1 }, { 510, 0 },
    };
    const uint64_t l4 = (uint64_t)pt_cur_l4_mfn << 12;

    TEST("a bad entry at each edge of a 16-entry chunk is found");
    for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        uint64_t *t = pt_alloc();
        unsigned int idx = cases[c].index;
        for (unsigned int i = 0; i < 512; i++)
            t[i] = (l4 | PTE_RW | PTE_US) & ~PTE_P; /* not-present garbage */
        t[idx] = cases[c].reserved_bit ? (l4 | (1ull << 51) | PTE_P) : (l4 | PTE_DATA_RW);
        long want = cases[c].reserved_bit ? -XEN_EPERM : -XEN_EBUSY;
        EXPECT_EQ(pt_map_ro(t), 0);
        long rc = pt_pin(1, t);
        guest_printf("     bad entry at %u (%s): %ld\n", idx,
                     cases[c].reserved_bit ? "address bit 51" : "our L4 RW", rc);
        EXPECT_EQ(rc, want);
        EXPECT_EQ(pt_map_rw(t), 0); /* refused: still an ordinary page */
    }
}

/* Entries at both edges of every chunk (i % 16 in {0, 15}) but 31's map W writable. */
static unsigned int map_edges(uint64_t *t, const void *w)
{
    unsigned int n = 0;
    for (unsigned int i = 0; i < 512; i++)
        if ((i % 16 == 0 || i % 16 == 15) && i != 511) {
            t[i] = pt_pte(w, PTE_DATA_RW | PTE_US);
            n++;
        }
    return n;
}

static void test_edge_references(void)
{
    uint64_t *t = pt_alloc(), *w = pt_alloc();

    TEST("references taken at chunk edges are all released, on refusal and on unpin");
    unsigned int n = map_edges(t, w);
    t[500] = ((uint64_t)pt_cur_l4_mfn << 12) | PTE_DATA_RW;
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_map_ro(w), 0);
    long rc = pt_pin(1, t);
    guest_printf("     %u RW entries at chunk edges + our L4 at 500: %ld\n", n, rc);
    EXPECT_EQ(rc, -XEN_EBUSY);
    EXPECT_EQ(pt_pin_and_unpin(w), 0); /* nothing of the 31 writable references is left */
    EXPECT_EQ(pt_map_rw(t), 0);
    t[500] = 0;
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    EXPECT_EQ(pt_pin_and_unpin(w), -XEN_EINVAL); /* W is typed writable by the pinned table */
    EXPECT_EQ(pt_unpin(t), 0);
    EXPECT_EQ(pt_pin_and_unpin(w), 0); /* the unpin released all 31 */
    EXPECT_EQ(pt_map_rw(w), 0);
    EXPECT_EQ(pt_map_rw(t), 0);
}

static void test_adjust_only_when_needed(void)
{
    uint64_t *t = pt_alloc(), *copy = pt_alloc();
    void *data = pt_alloc();

    TEST("entries already as stored are left alone; one lacking U at 511 gets it");
    for (unsigned int i = 0; i < 512; i += 5)
        t[i] = pt_pte(data, PTE_DATA_RO | PTE_US);
    t[3] = 0x5a5a5a5a5a5a5a5aull & ~PTE_P; /* not-present garbage */
    EXPECT_EQ(pt_pin_l1_saved(t, copy), 0);
    unsigned int changed = pt_entries_changed(t, copy, 512, 512, 512);
    guest_printf("     entries changed by the pin: %u\n", changed);
    EXPECT_EQ(changed, 0);
    EXPECT_EQ(pt_release(t), 0);
    t[511] = pt_pte(data, PTE_DATA_RO); /* no U */
    EXPECT_EQ(pt_pin_l1_saved(t, copy), 0);
    changed = pt_entries_changed(t, copy, 512, 511, 512);
    guest_printf("     entry 511 0x%lx, others changed: %u\n", (unsigned long)t[511], changed);
    EXPECT_EQ(t[511] & (PTE_P | PTE_US | PTE_RW), PTE_P | PTE_US);
    EXPECT_EQ(changed, 0);
    EXPECT_EQ(pt_release(t), 0);
}

/* A single mmu_update into a pinned L1 and what the entry must hold after it. */
struct single_case {
    const char *what;
    unsigned int index;
    uint64_t val;
    long want_rc;
    uint64_t mask, want;   /* entry & mask == want afterwards */
};

static void test_single_updates(void)
{
    uint64_t *t = pt_alloc();
    void *data = pt_alloc();
    const struct single_case cases[] = {
        { "our L4 writable", 17, ((uint64_t)pt_cur_l4_mfn << 12) | PTE_DATA_RW, -XEN_EBUSY,
          ~0ull, 0 },
        { "I/O APIC RW", 18, (IOAPIC_MFN << 12) | PTE_P | PTE_RW, 0, PTE_P | PTE_RW, PTE_P },
        { "local APIC", 19, (LAPIC_MFN << 12) | PTE_P, -XEN_EPERM, ~0ull, 0 },
        { "RAM RW without U", 20, pt_pte(data, PTE_DATA_RW), 0, PTE_P | PTE_RW | PTE_US,
          PTE_P | PTE_RW | PTE_US },
    };

    TEST("single mmu_update into a pinned L1: each frame kind stored as its rules say");
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        long rc = pt_mmu1(pt_ma_of(&t[cases[c].index]), cases[c].val);
        guest_printf("     %s: %ld, entry 0x%lx\n", cases[c].what, rc,
                     (unsigned long)t[cases[c].index]);
        EXPECT_EQ(rc, cases[c].want_rc);
        EXPECT_EQ(t[cases[c].index] & cases[c].mask, cases[c].want);
    }
    for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        EXPECT_EQ(pt_mmu1(pt_ma_of(&t[cases[c].index]), 0), 0);
    EXPECT_EQ(pt_release(t), 0);
    EXPECT_EQ(pt_map_ro(data), 0);
    EXPECT_EQ(pt_pin_and_unpin(data), 0); /* the RW mapping's type reference went with the entry */
    EXPECT_EQ(pt_map_rw(data), 0);
}

void test_main(void)
{
    static void (*const tests[])(void) = {
        test_chunk_edges, test_edge_references, test_adjust_only_when_needed,
        test_single_updates,
    };

    pt_run_tests(pool, 16, tests, sizeof(tests) / sizeof(tests[0]));
}
