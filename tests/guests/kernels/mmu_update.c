/*
 * mmu_update: the validated page-table update hypercall, in the three
 * commands Linux uses, in batches, and against what a hostile guest tries.
 *
 * Why: every PTE a PV kernel writes goes through this call (or its
 * emulated-store twin), so it must apply exactly the requests it accepts,
 * count them in `done`, stop at the first bad one, and never let an entry
 * give the guest a writable page table, a frame it does not own, a
 * hypervisor frame, a superpage, or a hypervisor L4 slot.
 *
 * Set-up: fresh L1 tables (pool pages, remapped read-only) are hooked into
 * empty slots of the builder's L2 at VIRT_BASE + 64 MiB with mmu_update on
 * the L2 entry; the tests then map a data page through them.
 *
 * Checks: NORMAL_PT_UPDATE maps RW (reads and writes go through), then RO
 * (a write faults with P|W); the entry reads back with our MFN and flags;
 * PRESERVE_AD keeps the A/D bits the CPU set while NORMAL drops them;
 * MACHPHYS_UPDATE changes the M2P entry seen at MACH2PHYS_VIRT_START;
 * batches of 1, 8, 64, 512 and 2048 report done = count; a batch whose
 * k-th entry is bad reports done = k with entries < k applied and > k
 * not. L4 and L3 entries of the live tables hook a new chain in and out
 * (the L2 stays typed while hooked). Hostile: PT frame mapped RW, unowned
 * RAM frame (pt_foreign_mfn), hypervisor frame, L4 slots 256-271, PSE in L2 and L3, an address bit beyond the machine's
 * width, an L2 entry to a table mapped RW, a ptr into a frame we do not
 * own, command 3, a bad request array, a bad domain and our own domid as
 * foreigndom. Flag rules: L1 accepts G, PCD|PWT, NX and software bits
 * 9-11/52-58; G in L2/L3 is refused.
 */
#include "traps.h"
#include "pt.h"

#define NR_L1      4
#define TEST_BASE  (GUEST_VIRT_BASE + (64UL << 20))
#define BATCH_MAX  2048

static char pool[16][4096] __attribute__((aligned(4096)));
static uint64_t *l1[NR_L1];
static char *data;
static mmu_update_t reqs[BATCH_MAX];

/* VA mapped by entry I of test L1 number T. */
static unsigned long tva(int t, int i)
{
    return TEST_BASE + ((unsigned long)t << 21) + ((unsigned long)i << 12);
}

/* Machine address of entry I of test L1 T. */
static uint64_t l1e_ma(int t, int i)
{
    return pt_ma_of(&l1[t][i]);
}

/* Builds NR_L1 read-only L1s and hooks them into the builder's L2. */
static void setup(void)
{
    TEST("set-up: new L1s under the initial tables");
    for (int t = 0; t < NR_L1; t++) {
        l1[t] = pt_alloc();
        EXPECT_EQ(*pt_entry(tva(t, 0), 2), 0);
        EXPECT_EQ(pt_map_ro(l1[t]), 0);
        EXPECT_EQ(pt_mmu1(pt_entry_ma(tva(t, 0), 2), pt_pte(l1[t], PTE_TABLE)), 0);
    }
    data = pt_alloc();
}

/* Stores to VA expecting a #PF; returns 1 if one arrived with P|W. */
static int write_faults(unsigned long va)
{
    unsigned long before = trap_last.count;

    __asm__ volatile(TRAP_PROBE_ASM("movb $1, (%0)") : : "r"(va) : "r11", "memory");
    trap_resume = 0;
    return trap_last.count == before + 1 && trap_last.vector == 14 && trap_last.error == 3;
}

/* NORMAL_PT_UPDATE: map RW, use it, then RO. */
static void test_normal(void)
{
    volatile char *v = (volatile char *)tva(0, 7);

    TEST("MMU_NORMAL_PT_UPDATE RW then RO");
    data[0] = 0x5a;
    EXPECT_EQ(pt_mmu1(l1e_ma(0, 7) | MMU_NORMAL_PT_UPDATE, pt_pte(data, PTE_DATA_RW)), 0);
    guest_printf("     L1 entry after RW update: 0x%lx\n", (unsigned long)l1[0][7]);
    EXPECT_EQ(l1[0][7] & PTE_MFN, pt_pte(data, 0));
    EXPECT_EQ(l1[0][7] & (PTE_P | PTE_RW), PTE_P | PTE_RW);
    EXPECT_EQ(v[0], 0x5a);
    v[1] = 0x6b;
    EXPECT_EQ(data[1], 0x6b);
    EXPECT_EQ(pt_mmu1(l1e_ma(0, 7), pt_pte(data, PTE_DATA_RO)), 0);
    EXPECT_EQ(pt_invlpg((unsigned long)v), 0);
    EXPECT_EQ(l1[0][7] & PTE_RW, 0);
    EXPECT_EQ(v[1], 0x6b);
    EXPECT(write_faults((unsigned long)v));
    EXPECT_EQ(pt_mmu1(l1e_ma(0, 7), 0), 0);
    EXPECT_EQ(l1[0][7], 0);
}

/* PRESERVE_AD keeps hardware-set A/D; NORMAL replaces them. */
static void test_preserve_ad(void)
{
    volatile char *v = (volatile char *)tva(0, 8);

    TEST("MMU_PT_UPDATE_PRESERVE_AD");
    EXPECT_EQ(pt_mmu1(l1e_ma(0, 8), pt_pte(data, PTE_P | PTE_RW)), 0);
    EXPECT_EQ(l1[0][8] & (PTE_A | PTE_D), 0);
    v[2] = 1;
    EXPECT_EQ(l1[0][8] & (PTE_A | PTE_D), PTE_A | PTE_D);
    EXPECT_EQ(pt_mmu1(l1e_ma(0, 8) | MMU_PT_UPDATE_PRESERVE_AD, pt_pte(data, PTE_P)), 0);
    guest_printf("     L1 entry after PRESERVE_AD: 0x%lx\n", (unsigned long)l1[0][8]);
    EXPECT_EQ(l1[0][8] & (PTE_A | PTE_D | PTE_RW), PTE_A | PTE_D);
    EXPECT_EQ(pt_mmu1(l1e_ma(0, 8), pt_pte(data, PTE_P)), 0);
    EXPECT_EQ(l1[0][8] & (PTE_A | PTE_D), 0);
    EXPECT_EQ(pt_mmu1(l1e_ma(0, 8), 0), 0);
}

/* MACHPHYS_UPDATE changes the M2P entry of our frame, then restores it. */
static void test_machphys(void)
{
    unsigned long mfn = pt_mfn_of(data), pfn = pt_pfn_of(data);

    TEST("MMU_MACHPHYS_UPDATE");
    EXPECT_EQ(GUEST_M2P[mfn], pfn);
    EXPECT_EQ(pt_mmu1(((uint64_t)mfn << 12) | MMU_MACHPHYS_UPDATE, 0x12345), 0);
    EXPECT_EQ(GUEST_M2P[mfn], 0x12345);
    EXPECT_EQ(pt_mmu1(((uint64_t)mfn << 12) | MMU_MACHPHYS_UPDATE, pfn), 0);
    EXPECT_EQ(GUEST_M2P[mfn], pfn);
}

/* Fills reqs[0..n) to set entry i of the test area to VAL. */
static void fill_batch(unsigned int n, uint64_t val)
{
    for (unsigned int i = 0; i < n; i++)
        reqs[i] = (mmu_update_t){ .ptr = l1e_ma((int)(i / 512), (int)(i % 512)), .val = val };
}

/* Counts entries [0, n) of the test area equal (in MFN and P) to VAL. */
static unsigned int count_set(unsigned int n, uint64_t val)
{
    unsigned int c = 0;

    for (unsigned int i = 0; i < n; i++)
        c += (l1[i / 512][i % 512] & (PTE_MFN | PTE_P)) == (val & (PTE_MFN | PTE_P));
    return c;
}

/* One batch of N mappings and one of N clears, with done counts. */
static void batch_of(unsigned int n)
{
    unsigned int done = 0xdead;
    uint64_t val = pt_pte(data, PTE_DATA_RO);

    guest_printf("     batch of %u\n", n);
    fill_batch(n, val);
    EXPECT_EQ(hyp_mmu_update(reqs, n, &done, DOMID_SELF), 0);
    EXPECT_EQ(done, n);
    EXPECT_EQ(count_set(n, val), n);
    fill_batch(n, 0);
    done = 0xdead;
    EXPECT_EQ(hyp_mmu_update(reqs, n, &done, DOMID_SELF), 0);
    EXPECT_EQ(done, n);
    EXPECT_EQ(count_set(n, val), 0);
}

/* Batches of several sizes; a batch with a bad k-th entry. */
static void test_batches(void)
{
    static const unsigned int sizes[] = { 1, 8, 64, 512, 2048 };
    uint64_t val = pt_pte(data, PTE_DATA_RO);
    unsigned int done = 0xdead;
    long rc;

    TEST("batches and the done count");
    for (unsigned int i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        batch_of(sizes[i]);
    fill_batch(8, val);
    reqs[5].val = pt_pte(l1[1], PTE_DATA_RW);   /* a page table, writable */
    rc = hyp_mmu_update(reqs, 8, &done, DOMID_SELF);
    guest_printf("     bad 6th of 8: rc %ld done %u\n", rc, done);
    EXPECT_EQ(rc, -XEN_EBUSY);
    EXPECT_EQ(done, 5);
    EXPECT_EQ(count_set(5, val), 5);
    EXPECT_EQ(l1[0][5], 0);
    EXPECT_EQ(l1[0][6] | l1[0][7], 0);
    fill_batch(5, 0);
    EXPECT_EQ(hyp_mmu_update(reqs, 5, NULL, DOMID_SELF), 0);
    EXPECT_EQ(hyp_mmu_update(reqs, 0, &done, DOMID_SELF), 0);
}

/* Expects mmu_update(PTR, VAL) to fail with WANT and leave *ENTRY unchanged. */
static void expect_refused(const char *what, uint64_t ptr, uint64_t val,
                           const volatile uint64_t *entry, long want)
{
    uint64_t old = *entry;
    long rc = pt_mmu1(ptr, val);

    guest_printf("     %s: rc %ld\n", what, rc);
    EXPECT_EQ(rc, want);
    EXPECT_EQ(*entry, old);
}

/* The machine frame of the hypervisor's L3 behind L4 slot 256 (the M2P). */
static unsigned long xen_frame(void)
{
    return (unsigned long)((*pt_entry(MACH2PHYS_VIRT_START, 4) & PTE_MFN) >> 12);
}

/* Entries that must not be installed in an L1. */
static void test_hostile_l1(void)
{
    uint64_t ma = l1e_ma(0, 20);
    const volatile uint64_t *e = &l1[0][20];
    unsigned long unowned = pt_foreign_mfn(), max_ram;

    TEST("hostile L1 entries");
    expect_refused("own L1 mapped RW", ma, pt_pte(l1[1], PTE_DATA_RW), e, -XEN_EBUSY);
    expect_refused("builder L4 mapped RW", ma,
                   pt_pte((void *)guest_start_info->pt_base, PTE_DATA_RW), e, -XEN_EBUSY);
    guest_printf("     unowned RAM mfn 0x%lx (m2p 0x%lx)\n", unowned, GUEST_M2P[unowned]);
    expect_refused("unowned RAM frame", ma, ((uint64_t)unowned << 12) | PTE_DATA_RO, e,
                   -XEN_EBUSY);
    expect_refused("hypervisor frame (M2P L3)", ma,
                   ((uint64_t)xen_frame() << 12) | PTE_DATA_RO, e, -XEN_EBUSY);
    max_ram = (unsigned long)hyp_memory_op(XENMEM_maximum_ram_page, NULL);
    guest_printf("     XENMEM_maximum_ram_page 0x%lx\n", max_ram);
    expect_refused("reserved bit 51 (beyond the address width)", ma,
                   pt_pte(data, PTE_DATA_RO) | (1UL << 51), e, -XEN_EPERM);
}

/* Entries that must not be installed in L2/L3/L4. */
static void test_hostile_upper(void)
{
    uint64_t *l4 = pt_va_of_mfn(pt_cur_l4_mfn);
    uint64_t l2e_ma = pt_entry_ma(tva(NR_L1, 0), 2);
    uint64_t l3e_ma = pt_entry_ma(GUEST_VIRT_BASE - (1UL << 30), 3);

    TEST("hostile L2/L3/L4 entries");
    expect_refused("PSE in L2", l2e_ma, pt_pte(data, PTE_DATA_RW | PTE_PS),
                   pt_entry(tva(NR_L1, 0), 2), -XEN_EINVAL);
    expect_refused("L2 -> an 'L1' that is mapped RW", l2e_ma,
                   pt_pte(pt_alloc(), PTE_TABLE), pt_entry(tva(NR_L1, 0), 2), -XEN_EINVAL);
    expect_refused("PSE in L3", l3e_ma, pt_pte(data, PTE_DATA_RW | PTE_PS),
                   pt_entry(GUEST_VIRT_BASE - (1UL << 30), 3), -XEN_EINVAL);
    for (int slot = 256; slot < 272; slot += 5)
        expect_refused("write to a hypervisor L4 slot", pt_ma_of(&l4[slot]), 0,
                       &l4[slot], -XEN_EINVAL);
    expect_refused("write to L4 slot 271", pt_ma_of(&l4[271]), l4[511], &l4[271],
                   -XEN_EINVAL);
}

/* L4 and L3 updates on the live tables: a new chain at L4 slot 1. */
static void test_upper_levels(void)
{
    uint64_t *l4 = pt_va_of_mfn(pt_cur_l4_mfn);
    uint64_t *nl1 = pt_alloc(), *nl2 = pt_alloc(), *nl3 = pt_alloc();
    volatile char *v = (volatile char *)((1UL << 39) + (3UL << 30) + (5UL << 21) + (7UL << 12));
    unsigned long before;

    TEST("L4 and L3 entries of the live tables");
    nl1[7] = pt_pte(data, PTE_DATA_RO);
    EXPECT_EQ(pt_map_ro(nl1), 0);
    nl2[5] = pt_pte(nl1, PTE_TABLE);
    EXPECT_EQ(pt_map_ro(nl2), 0);
    EXPECT_EQ(pt_map_ro(nl3), 0);
    EXPECT_EQ(l4[1], 0);
    EXPECT_EQ(pt_mmu1(pt_ma_of(&l4[1]), pt_pte(nl3, PTE_TABLE)), 0);
    EXPECT_EQ(pt_mmu1(pt_ma_of(&nl3[3]), pt_pte(nl2, PTE_TABLE)), 0);
    data[0] = 0x3c;
    EXPECT_EQ(v[0], 0x3c);
    EXPECT_EQ(pt_map_rw(nl2), -XEN_EBUSY);
    EXPECT_EQ(pt_mmu1(pt_ma_of(&l4[1]), 0), 0);
    EXPECT_EQ(hyp_mmuext1(MMUEXT_TLB_FLUSH_LOCAL, 0), 0);
    before = trap_last.count;
    __asm__ volatile(TRAP_PROBE_ASM("movb (%0), %%al") : : "r"(v) : "rax", "r11", "memory");
    trap_resume = 0;
    EXPECT_EQ(trap_last.count - before, 1);
    EXPECT_EQ(pt_map_rw(nl3), 0);
    EXPECT_EQ(pt_map_rw(nl2), 0);
    EXPECT_EQ(pt_map_rw(nl1), 0);
}

/* Tries entry VAL at MA (entry E); prints and checks the result, undoes it. */
static void try_flags(const char *what, uint64_t ma, uint64_t val, volatile uint64_t *e, long want)
{
    long rc = pt_mmu1(ma, val);

    guest_printf("     %s: rc %ld, entry 0x%lx\n", what, rc, (unsigned long)*e);
    EXPECT_EQ(rc, want);
    if (rc == 0)
        EXPECT_EQ(pt_mmu1(ma, 0), 0);
}

/* Which flag bits each level accepts. */
static void test_flag_rules(void)
{
    uint64_t *spare = pt_alloc();
    uint64_t l2e_ma = pt_entry_ma(tva(NR_L1, 0), 2);
    volatile uint64_t *l2e = pt_entry(tva(NR_L1, 0), 2);
    uint64_t l3e_ma = pt_entry_ma(GUEST_VIRT_BASE - (1UL << 30), 3);
    volatile uint64_t *l3e = pt_entry(GUEST_VIRT_BASE - (1UL << 30), 3);

    TEST("flag rules per level");
    EXPECT_EQ(pt_map_ro(spare), 0);
    try_flags("L1 + G", l1e_ma(0, 30), pt_pte(data, PTE_DATA_RO | PTE_G), &l1[0][30], 0);
    try_flags("L1 + PCD|PWT", l1e_ma(0, 30), pt_pte(data, PTE_DATA_RO | PTE_PCD | PTE_PWT),
              &l1[0][30], 0);
    try_flags("L1 + software bits 9-11, 52-58", l1e_ma(0, 30),
              pt_pte(data, PTE_DATA_RO | 0xe00UL | (0x7fUL << 52)), &l1[0][30], 0);
    try_flags("L1 + NX", l1e_ma(0, 30), pt_pte(data, PTE_DATA_RO | PTE_NX), &l1[0][30], 0);
    try_flags("L2 + G", l2e_ma, pt_pte(spare, PTE_TABLE | PTE_G), l2e, -XEN_EINVAL);
    try_flags("L2 plain", l2e_ma, pt_pte(spare, PTE_TABLE), l2e, 0);
    try_flags("L3 + G", l3e_ma, pt_pte(spare, PTE_TABLE | PTE_G), l3e, -XEN_EINVAL);
}

/* Bad ptr values, commands, arrays and domains. */
static void test_hostile_args(void)
{
    uint64_t *plain = pt_alloc();
    mmu_update_t req = { .ptr = pt_ma_of(&plain[1]), .val = 0x1122334455667788UL };
    unsigned int done = 0xdead;

    TEST("hostile ptr, command, array, domain");
    EXPECT_EQ(hyp_mmu_update(&req, 1, NULL, DOMID_SELF), 0);
    EXPECT_EQ(plain[1], 0x1122334455667788UL);
    guest_printf("     (a NORMAL update of a plain writable page is a plain store)\n");
    expect_refused("ptr into a hypervisor frame", ((uint64_t)xen_frame() << 12) | 8, 0,
                   &l1[0][21], -XEN_EINVAL);
    expect_refused("ptr into an unowned RAM frame",
                   ((uint64_t)pt_foreign_mfn() << 12) | 8, 0, &l1[0][21], -XEN_EINVAL);
    /* All four values of ptr[1:0] are commands; for a PV caller Xen treats
     * MMU_PT_UPDATE_NO_TRANSLATE (3) like MMU_NORMAL_PT_UPDATE. */
    EXPECT_EQ(pt_mmu1(l1e_ma(0, 21) | MMU_PT_UPDATE_NO_TRANSLATE, pt_pte(data, PTE_DATA_RO)), 0);
    EXPECT_EQ(l1[0][21] & PTE_MFN, pt_pte(data, 0));
    EXPECT_EQ(pt_mmu1(l1e_ma(0, 21), 0), 0);
    EXPECT_EQ(hyp_mmu_update((void *)0xFFFF830000000000UL, 1, &done, DOMID_SELF), -XEN_EFAULT);
    EXPECT_EQ(hyp_mmu_update((void *)0x1000UL, 1, &done, DOMID_SELF), -XEN_EFAULT);
    req.ptr = l1e_ma(0, 21);
    req.val = pt_pte(data, PTE_DATA_RO);
    EXPECT_EQ(hyp_mmu_update(&req, 1, &done, 0x1234), -XEN_ESRCH);
    /* Naming yourself as the foreign domain is refused (use DOMID_SELF). */
    EXPECT_EQ(hyp_mmu_update(&req, 1, &done, 0), -XEN_ESRCH);
    EXPECT_EQ(l1[0][21], 0);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    static void (*const tests[])(void) = {
        setup, test_normal, test_preserve_ad, test_machphys, test_batches, test_hostile_l1,
        test_hostile_upper, test_upper_levels, test_flag_rules, test_hostile_args,
    };

    pt_run_tests(pool, 16, tests, sizeof(tests) / sizeof(tests[0]));
}
