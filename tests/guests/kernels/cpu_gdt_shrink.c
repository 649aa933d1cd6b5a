/*
 * cpu_gdt_shrink: a GDT replaced by a smaller one (set_gdt) lets go of the
 * frames it no longer covers, and the hypervisor keeps no record of them.
 *
 * Why: the hypercall fuzzer (fuzz_hypercalls seed 4, calls 461450..463200,
 * probe=1) left a vCPU whose GDT had shrunk to 0 entries still naming its
 * old GDT frame in a slot past the end; the frame was untyped and mapped
 * again by the guest, so the frame-table audit saw a descriptor-page holder
 * the frame's counts did not have ("type 0: counts 0/1, holders found 1/2").
 * No code read such a slot (all stop at gdt_entries), but a slot that names
 * a frame the vCPU does not hold is one loop bound away from loading
 * descriptors from a page the guest can write.
 *
 * Checks: set_gdt of two read-only pages A and B (1024 entries): both
 * refuse a writable mapping (-EBUSY); set_gdt of A alone (16 entries): B
 * maps writable again, A still refuses; set_gdt(NULL, 0): A maps writable
 * again; then a fresh set_gdt of B (1 entry) and an empty one again. The
 * frame-table audit at machine off (tests/guests/run: audit=on-death) is the
 * judge of what the vCPU still names: pvkit before the fix still named B
 * (slots 0 and 1) at the end, B mapped writable and no descriptor page, and
 * the audit reported it ("holders found" two more than the counts).
 */
#include "pt.h"

#define DESC_KERNEL_DS 0x00cf93000000ffffUL   /* data, DPL 0 (raised to 3) */

static char pool[4][4096] __attribute__((aligned(4096)));

/* Makes page G a one-descriptor GDT page mapped read-only; its frame number. */
static unsigned long gdt_page(uint64_t *g)
{
    g[3] = DESC_KERNEL_DS;
    EXPECT_EQ(pt_map_ro(g), 0);
    return pt_mfn_of(g);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    uint64_t *a, *b;
    unsigned long frames[2];

    pt_pool_init(pool, 4);
    a = pt_alloc();
    b = pt_alloc();
    frames[0] = gdt_page(a);
    frames[1] = gdt_page(b);

    TEST("set_gdt of two pages, then of one: the second page is let go");
    EXPECT_EQ(hyp_set_gdt(frames, 1024), 0);
    EXPECT_EQ(pt_map_rw(a), -XEN_EBUSY);
    EXPECT_EQ(pt_map_rw(b), -XEN_EBUSY);
    EXPECT_EQ(hyp_set_gdt(frames, 16), 0);
    EXPECT_EQ(pt_map_rw(a), -XEN_EBUSY);
    EXPECT_EQ(pt_map_rw(b), 0);

    TEST("set_gdt with no entries: the first page is let go");
    EXPECT_EQ(hyp_set_gdt(NULL, 0), 0);
    EXPECT_EQ(pt_map_rw(a), 0);

    TEST("a new one-page GDT, and an empty one again");
    EXPECT_EQ(pt_map_ro(b), 0);
    EXPECT_EQ(hyp_set_gdt(&frames[1], 1), 0);
    EXPECT_EQ(pt_map_rw(b), -XEN_EBUSY);
    EXPECT_EQ(hyp_set_gdt(NULL, 0), 0);
    EXPECT_EQ(pt_map_rw(b), 0);
}
