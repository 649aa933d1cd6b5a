/*
 * mmu_ext: mmuext_op — pinning and unpinning page tables, switching the
 * kernel and user base pointers, TLB flushes, page copy/clear, SET_LDT —
 * and the done count of a batch that fails part-way.
 *
 * Why: a PV kernel builds every address space from ordinary pages that it
 * remaps read-only and pins; the hypervisor must validate the whole tree on
 * pin and on NEW_BASEPTR, refuse pins of tables with bad entries (leaving
 * them untyped, so they can be made writable again), keep a table typed
 * while anything still references it, and honour flushes so a changed
 * mapping becomes visible.
 *
 * Checks: PIN_L1..L4 of a fresh tree (pages first remapped RO with
 * update_va_mapping), UNPIN in reverse; pin of a RW-mapped page, of a table
 * with a bad entry (then still unpinned: unpin fails, RW remap works), a
 * second pin, unpin of an unpinned table; NEW_BASEPTR to a new L4 carrying
 * the kernel half plus a private mapping at 1 GiB (visible only while it
 * is the base), back again (then #PF there), unpin of the L4 while it is
 * the base; NEW_USER_BASEPTR to an L4 and to 0; each flush op makes a
 * remapped page visible; COPY_PAGE, CLEAR_PAGE and CLEAR_PAGE of a page
 * table (refused, table unchanged); SET_LDT(0, 0); a batch failing at op k
 * reports done = k; unknown command; bad op array; bad vcpumask (Xen:
 * -EINVAL, not -EFAULT). Xen fills the M2P slot 256 of an L4 only while
 * it is a kernel base; the other hypervisor slots are filled on pin.
 */
#include "traps.h"
#include "pt.h"

#define TEST_VA  (GUEST_VIRT_BASE + (64UL << 20))
#define USER_VA  (1UL << 30)

static char pool[24][4096] __attribute__((aligned(4096)));
static char *data_a, *data_b;
static uint64_t *test_l1;

/* A fresh page-table page: ENTRY at index IDX (if ENTRY), then mapped RO. */
static uint64_t *new_table(unsigned int idx, uint64_t entry)
{
    uint64_t *t = pt_alloc();

    if (entry)
        t[idx] = entry;
    EXPECT_EQ(pt_map_ro(t), 0);
    return t;
}

/* One mmuext_op with both arguments. */
static long ext2(unsigned int cmd, unsigned long arg1, unsigned long arg2)
{
    struct mmuext_op op = { .cmd = cmd, .arg1.mfn = arg1, .arg2.src_mfn = arg2 };

    return hyp_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

/* Counts the present hypervisor slots 256-271 of L4, and prints them. */
static int xen_slots_present(const uint64_t *l4)
{
    int n = 0;

    guest_printf("     hypervisor slots present:");
    for (int i = 256; i < 272; i++)
        if (l4[i] & PTE_P) {
            guest_printf(" %d", i);
            n++;
        }
    guest_printf("\n");
    return n;
}

/* PIN_L1..L4 of a fresh tree, then UNPIN from the top. */
static void test_pin_tree(void)
{
    uint64_t *l1 = new_table(3, pt_pte(data_a, PTE_DATA_RO));
    uint64_t *l2 = new_table(4, pt_pte(l1, PTE_TABLE));
    uint64_t *l3 = new_table(5, pt_pte(l2, PTE_TABLE));
    uint64_t *l4 = new_table(6, pt_pte(l3, PTE_TABLE));

    TEST("PIN_L1..L4_TABLE and UNPIN_TABLE of a fresh tree");
    EXPECT_EQ(pt_pin(1, l1), 0);
    EXPECT_EQ(pt_pin(2, l2), 0);
    EXPECT_EQ(pt_pin(3, l3), 0);
    EXPECT_EQ(pt_pin(4, l4), 0);
    EXPECT(xen_slots_present(l4) > 0);
    EXPECT_EQ(pt_map_rw(l1), -XEN_EBUSY);
    EXPECT_EQ(pt_unpin(l4), 0);
    EXPECT_EQ(pt_unpin(l3), 0);
    EXPECT_EQ(pt_unpin(l2), 0);
    EXPECT_EQ(pt_release(l1), 0);
    EXPECT_EQ(pt_map_rw(l4), 0);
}

/* Pins that must fail, and what they must leave behind. */
static void test_pin_hostile(void)
{
    uint64_t *rw = pt_alloc();
    uint64_t *bad = pt_alloc();
    uint64_t *good = new_table(0, 0);
    long rc;

    TEST("hostile pins and unpins");
    rc = pt_pin(1, rw);
    guest_printf("     pin of a RW-mapped page: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    bad[9] = ((uint64_t)pt_cur_l4_mfn << 12) | PTE_DATA_RW;  /* our L4, writable */
    EXPECT_EQ(pt_map_ro(bad), 0);
    rc = pt_pin(1, bad);
    guest_printf("     pin of an L1 with a bad entry: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EBUSY);
    EXPECT_EQ(pt_unpin(bad), -XEN_EINVAL);
    EXPECT_EQ(pt_map_rw(bad), 0);
    bad[9] = 0;
    EXPECT_EQ(pt_pin(1, good), 0);
    rc = pt_pin(1, good);
    guest_printf("     second pin: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    EXPECT_EQ(pt_pin(2, good), -XEN_EINVAL);
    EXPECT_EQ(pt_unpin(good), 0);
    rc = pt_unpin(good);
    guest_printf("     unpin of an unpinned table: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    EXPECT_EQ(pt_pin(4, (void *)guest_start_info->pt_base), -XEN_EINVAL);
    rc = hyp_mmuext1(MMUEXT_PIN_L1_TABLE, pt_foreign_mfn());
    guest_printf("     pin of an unowned frame: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
}

/* An L1 hooked into the builder's L2 stays typed after UNPIN while in use. */
static void test_unpin_in_use(void)
{
    volatile char *v = (volatile char *)TEST_VA;
    uint64_t l2e_ma = pt_entry_ma(TEST_VA, 2);

    TEST("UNPIN_TABLE while the table is in use");
    test_l1 = new_table(0, pt_pte(data_a, PTE_DATA_RO));
    EXPECT_EQ(pt_pin(1, test_l1), 0);
    EXPECT_EQ(pt_mmu1(l2e_ma, pt_pte(test_l1, PTE_TABLE)), 0);
    EXPECT_EQ(v[0], 'A');
    EXPECT_EQ(pt_unpin(test_l1), 0);
    EXPECT_EQ(v[0], 'A');
    EXPECT_EQ(pt_map_rw(test_l1), -XEN_EBUSY);
}

/* Maps page P at TEST_VA via test_l1 without a flush. */
static void remap_noflush(const void *p)
{
    EXPECT_EQ(pt_mmu1(pt_ma_of(&test_l1[0]), pt_pte(p, PTE_DATA_RO)), 0);
}

/*
 * Remaps TEST_VA to FRAME without a flush, flushes by CMD (ARG: the VA for
 * the INVLPG kinds; MASK: the vCPU mask for the MULTI kinds, else NULL) and
 * checks that TEST_VA shows FRAME's byte. A failed check is named by KIND.
 */
static void flush_shows(const char *kind, const char *frame, unsigned int cmd,
                        unsigned long arg, unsigned long *mask)
{
    struct mmuext_op op = { .cmd = cmd, .arg1.linear_addr = arg };

    if (mask)
        set_xen_guest_handle(op.arg2.vcpumask, mask);
    remap_noflush(frame);
    test_check_eq(hyp_mmuext_op(&op, 1, NULL, DOMID_SELF), 0, kind, __FILE__, __LINE__);
    test_check_eq(*(volatile char *)TEST_VA, frame[0], kind, __FILE__, __LINE__);
}

/* Each flush op makes a remapped page visible at TEST_VA. */
static void test_flushes(void)
{
    unsigned long mask = 1;
    struct mmuext_op op = { .cmd = MMUEXT_TLB_FLUSH_MULTI };

    TEST("TLB_FLUSH_LOCAL/MULTI/ALL, INVLPG_LOCAL/MULTI/ALL");
    flush_shows("TLB_FLUSH_LOCAL", data_b, MMUEXT_TLB_FLUSH_LOCAL, 0, NULL);
    flush_shows("INVLPG_LOCAL", data_a, MMUEXT_INVLPG_LOCAL, TEST_VA, NULL);
    flush_shows("TLB_FLUSH_MULTI", data_b, MMUEXT_TLB_FLUSH_MULTI, 0, &mask);
    flush_shows("INVLPG_MULTI", data_a, MMUEXT_INVLPG_MULTI, TEST_VA, &mask);
    flush_shows("TLB_FLUSH_ALL", data_b, MMUEXT_TLB_FLUSH_ALL, 0, NULL);
    flush_shows("INVLPG_ALL", data_a, MMUEXT_INVLPG_ALL, TEST_VA, NULL);
    /* A vCPU mask in the hypervisor's half is refused. */
    set_xen_guest_handle(op.arg2.vcpumask, (void *)0xFFFF830000000000UL);
    EXPECT_EQ(hyp_mmuext_op(&op, 1, NULL, DOMID_SELF), -XEN_EINVAL);
}

/* Touches VA expecting a #PF; 1 if exactly one arrived. */
static int read_faults(unsigned long va)
{
    unsigned long before = trap_last.count;

    __asm__ volatile(TRAP_PROBE_ASM("movb (%0), %%al") : : "r"(va) : "rax", "r11", "memory");
    trap_resume = 0;
    return trap_last.count == before + 1 && trap_last.vector == 14;
}

/* A new L4: the current kernel half plus data_b at USER_VA. */
static uint64_t *build_l4(void)
{
    uint64_t *cur = pt_va_of_mfn(pt_cur_l4_mfn);
    uint64_t *l1 = new_table(0, pt_pte(data_b, PTE_DATA_RO));
    uint64_t *l2 = new_table(0, pt_pte(l1, PTE_TABLE));
    uint64_t *l3 = new_table(1, pt_pte(l2, PTE_TABLE));
    uint64_t *l4 = pt_alloc();

    for (int i = 272; i < 512; i++)
        l4[i] = cur[i];
    l4[0] = pt_pte(l3, PTE_TABLE);
    EXPECT_EQ(pt_map_ro(l4), 0);
    return l4;
}

/* NEW_BASEPTR to a new L4 and back; unpin while it is the base. */
static void test_new_baseptr(void)
{
    unsigned long old = pt_cur_l4_mfn;
    uint64_t *l4 = build_l4();

    TEST("NEW_BASEPTR and NEW_USER_BASEPTR");
    EXPECT(read_faults(USER_VA));
    EXPECT_EQ(pt_pin(4, l4), 0);
    EXPECT_EQ(hyp_mmuext1(MMUEXT_NEW_BASEPTR, pt_mfn_of(l4)), 0);
    pt_cur_l4_mfn = pt_mfn_of(l4);
    EXPECT_EQ(*(volatile char *)USER_VA, 'B');
    EXPECT_EQ(pt_unpin(l4), 0);
    EXPECT_EQ(*(volatile char *)USER_VA, 'B');
    EXPECT_EQ(pt_map_rw(l4), -XEN_EBUSY);
    EXPECT(l4[256] & PTE_P);                    /* the M2P slot, once it is a base */
    EXPECT_EQ(hyp_mmuext1(MMUEXT_NEW_USER_BASEPTR, pt_mfn_of(l4)), 0);
    EXPECT_EQ(hyp_mmuext1(MMUEXT_NEW_USER_BASEPTR, 0), 0);
    EXPECT_EQ(hyp_mmuext1(MMUEXT_NEW_BASEPTR, old), 0);
    pt_cur_l4_mfn = old;
    EXPECT(read_faults(USER_VA));
    EXPECT_EQ(pt_map_rw(l4), 0);
    EXPECT_EQ(hyp_mmuext1(MMUEXT_NEW_BASEPTR, pt_mfn_of(l4)), -XEN_EINVAL);
    EXPECT_EQ(hyp_mmuext1(MMUEXT_NEW_BASEPTR, pt_mfn_of(data_a)), -XEN_EINVAL);
    EXPECT_EQ(hyp_mmuext1(MMUEXT_NEW_USER_BASEPTR, pt_mfn_of(data_a)), -XEN_EINVAL);
}

/* COPY_PAGE, CLEAR_PAGE, and CLEAR_PAGE of a page table. */
static void test_copy_clear(void)
{
    char *dst = pt_alloc();
    uint64_t before = test_l1[0];
    long rc;

    TEST("COPY_PAGE and CLEAR_PAGE");
    data_b[4095] = 'Z';
    EXPECT_EQ(ext2(MMUEXT_COPY_PAGE, pt_mfn_of(dst), pt_mfn_of(data_b)), 0);
    EXPECT_EQ(guest_memcmp(dst, data_b, 4096), 0);
    EXPECT_EQ(ext2(MMUEXT_CLEAR_PAGE, pt_mfn_of(dst), 0), 0);
    EXPECT_EQ(dst[0] | dst[4095], 0);
    rc = ext2(MMUEXT_CLEAR_PAGE, pt_mfn_of(test_l1), 0);
    guest_printf("     CLEAR_PAGE of an L1: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    EXPECT_EQ(test_l1[0], before);
    rc = ext2(MMUEXT_COPY_PAGE, pt_mfn_of(test_l1), pt_mfn_of(data_b));
    guest_printf("     COPY_PAGE onto an L1: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    EXPECT_EQ(test_l1[0], before);
}

/* SET_LDT(0, 0), a batch that fails part-way, unknown and bad arguments. */
static void test_batch_and_args(void)
{
    struct mmuext_op ops[4] = {
        { .cmd = MMUEXT_SET_LDT, .arg1.linear_addr = 0, .arg2.nr_ents = 0 },
        { .cmd = MMUEXT_TLB_FLUSH_LOCAL },
        { .cmd = MMUEXT_UNPIN_TABLE, .arg1.mfn = pt_mfn_of(data_a) },
        { .cmd = MMUEXT_TLB_FLUSH_LOCAL },
    };
    unsigned int done = 0xdead;
    long rc;

    TEST("SET_LDT, done count, unknown and bad arguments");
    EXPECT_EQ(hyp_mmuext_op(ops, 2, &done, DOMID_SELF), 0);
    EXPECT_EQ(done, 2);
    done = 0xdead;
    rc = hyp_mmuext_op(ops, 4, &done, DOMID_SELF);
    EXPECT_EQ(rc, -XEN_EINVAL);
    EXPECT_EQ(done, 2);
    rc = hyp_mmuext1(99, 0);
    guest_printf("     unknown command 99: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_ENOSYS);
    EXPECT_EQ(hyp_mmuext_op((void *)0xFFFF830000000000UL, 1, &done, DOMID_SELF), -XEN_EFAULT);
    EXPECT_EQ(hyp_mmuext_op(ops, 0, &done, DOMID_SELF), 0);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    pt_pool_init(pool, 24);
    EXPECT_EQ(trap_install(-1), 0);
    data_a = pt_alloc();
    data_b = pt_alloc();
    data_a[0] = 'A';
    data_b[0] = 'B';
    test_pin_tree();
    test_pin_hostile();
    test_unpin_in_use();
    test_flushes();
    test_new_baseptr();
    test_copy_clear();
    test_batch_and_args();
}
