/*
 * multi_grant_stale (A = the initial domain, role=0; B = domain 1, role=1):
 * a frame another domain mapped through a grant must not become a page
 * table while that domain's CPU may still hold a stale writable TLB entry
 * for it, even if the owner mapped the frame writable itself in between.
 *
 * Why: a grant mapping is a PTE of the mapper's; the mapper can remove it
 * with a plain mmu_update and no flush, keeping the translation in its TLB.
 * The owner's own flush (flush_tlb_domain) does not reach the mapper's
 * CPUs (an unprivileged domain's), so the hypervisor must remember that the
 * frame was mapped elsewhere (pvkit: FRAME_WAS_FOREIGN) until it has
 * flushed every CPU. If the owner maps the frame writable and unmaps it
 * again before pinning it, that memory must survive.
 *
 * Steps: A grants B mailbox page M and victim page Y (both writable), Y
 * mapped read-only in A. B maps both at linear addresses, writes Y once
 * (its TLB now holds Y writable), removes its Y PTE with mmu_update (no
 * flush) and checks the stale translation still reads. A then maps Y
 * writable, zeroes it, maps it read-only again (UVMF_INVLPG: local) and
 * pins Y as an L1 (must succeed: no writable mapping of Y remains). B
 * stores 0x2000 (a not-present PTE) into entry 100 through its stale
 * address, catching a #PF. Checks: B's store faulted, and A's L1 Y entry
 * 100 is still 0. With control=1 on A's command line A skips the writable
 * round trip (pvkit then flushes every CPU and passes).
 *
 * Xen 4.17: not runnable (no dom0less boot: SKIP); Xen flushes every dirty
 * CPU of the frame's tlbflush timestamp when a type changes, whoever
 * mapped it. pvkit (this revision): flush_if_stale clears FRAME_WAS_FOREIGN
 * when the frame becomes WRITABLE without any flush, so the pin flushes
 * only A's CPUs and B's store lands in A's validated L1.
 */
#include "evt/evt.h"
#include "pt.h"
#include "traps.h"
#include <xen/grant_table.h>

#define DOM_A 0
#define DOM_B 1
#define REF_MBOX 10
#define REF_Y 11
#define SPIN 400000000UL
#define MARKER 0x2000ULL

struct mbox {
    volatile uint64_t b_state;      /* 1: stale TLB ready, 3: stored, 9: B gave up */
    volatile uint64_t a_state;      /* 2: Y pinned, 9: A gave up */
    volatile uint64_t b_faulted;    /* B's store raised #PF */
    volatile uint64_t b_stale_ok;   /* B's read through the removed PTE still worked */
};

static char pool[8][4096] __attribute__((aligned(4096)));
static uint8_t mbox_page[4096] __attribute__((aligned(4096)));
static uint64_t victim[512] __attribute__((aligned(4096)));
static uint8_t b_map_m[4096] __attribute__((aligned(4096)));
static uint8_t b_map_y[4096] __attribute__((aligned(4096)));

static int wait_for(volatile uint64_t *p, uint64_t want)
{
    for (unsigned long i = 0; i < SPIN; i++) {
        uint64_t v = __atomic_load_n(p, __ATOMIC_ACQUIRE);
        if (v == want)
            return 1;
        if (v == 9)
            return 0;
        __asm__ volatile("pause");
    }
    return 0;
}

static void role_a(void)
{
    struct gnttab_setup_table st = { .dom = DOMID_SELF, .nr_frames = 1 };
    xen_pfn_t frame = 0;
    struct grant_entry_v1 *table = (struct grant_entry_v1 *)pool[0];
    struct mbox *m = (struct mbox *)mbox_page;

    TEST("A: grant table, grants of M and Y to B");
    set_xen_guest_handle(st.frame_list, &frame);
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_setup_table, &st, 1), 0);
    EXPECT_EQ(st.status, GNTST_okay);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)pool[0], (frame << 12) | PTE_DATA_RW,
                                    UVMF_INVLPG), 0);
    memset(victim, 0, sizeof(victim));
    EXPECT_EQ(pt_map_ro(victim), 0);
    table[REF_Y].domid = DOM_B;
    table[REF_Y].frame = (uint32_t)pt_mfn_of(victim);
    table[REF_MBOX].domid = DOM_B;
    table[REF_MBOX].frame = (uint32_t)pt_mfn_of(mbox_page);
    __atomic_store_n(&table[REF_Y].flags, (uint16_t)GTF_permit_access, __ATOMIC_SEQ_CST);
    __atomic_store_n(&table[REF_MBOX].flags, (uint16_t)GTF_permit_access, __ATOMIC_SEQ_CST);

    TEST("A: B holds a stale writable translation of Y");
    if (!EXPECT(wait_for(&m->b_state, 1))) {
        m->a_state = 9;
        return;
    }
    EXPECT_EQ(m->b_stale_ok, 1);

    TEST("A: Y writable and read-only again, then pinned as an L1");
    if (!evt_cmdline_num("control", 0)) {
        EXPECT_EQ(pt_map_rw(victim), 0);
        memset(victim, 0, sizeof(victim));
        EXPECT_EQ(pt_map_ro(victim), 0);
    }
    EXPECT_EQ(pt_pin(1, victim), 0);
    __atomic_store_n(&m->a_state, 2, __ATOMIC_RELEASE);

    TEST("A: B's store through its stale entry did not reach the L1");
    EXPECT(wait_for(&m->b_state, 3));
    EXPECT_EQ(m->b_faulted, 1);
    EXPECT_EQ(__atomic_load_n(&victim[100], __ATOMIC_ACQUIRE), 0);
    EXPECT_EQ(pt_unpin(victim), 0);
}

static int16_t map_at(void *va, uint32_t ref)
{
    struct gnttab_map_grant_ref op = { .host_addr = (unsigned long)va, .flags = GNTMAP_host_map,
                                       .ref = ref, .dom = DOM_A };
    for (unsigned long i = 0; i < 2000; i++) {
        EXPECT_EQ(hyp_grant_table_op(GNTTABOP_map_grant_ref, &op, 1), 0);
        if (op.status == GNTST_okay)
            return 0;
        hypercall3(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
    }
    return op.status;
}

static void role_b(void)
{
    struct mbox *m = (struct mbox *)b_map_m;
    volatile uint64_t *y = (volatile uint64_t *)b_map_y;

    TEST("B: map A's M and Y");
    if (!EXPECT_EQ(map_at(b_map_m, REF_MBOX), 0))
        return;
    if (!EXPECT_EQ(map_at(b_map_y, REF_Y), 0)) {
        m->b_state = 9;
        return;
    }
    uint64_t pte_ma = pt_entry_ma((unsigned long)b_map_y, 1);

    TEST("B: write Y, remove the PTE without a flush, read through the stale entry");
    y[5] = 0;
    EXPECT_EQ(pt_mmu1(pte_ma, 0), 0);
    m->b_stale_ok = TRAP_PROBE_RAX("movq (%%rax), %%rax", (unsigned long)&y[5]) == 0;
    __atomic_store_n(&m->b_state, 1, __ATOMIC_RELEASE);

    TEST("B: store into Y after A pinned it");
    if (!EXPECT(wait_for(&m->a_state, 2)))
        return;
    unsigned long before = trap_last.count;
    __asm__ volatile(TRAP_PROBE_ASM("movq %1, (%0)") : : "r"(&y[100]), "r"(MARKER)
                     : "r11", "memory");
    trap_resume = 0;
    m->b_faulted = trap_last.count - before == 1 && trap_last.vector == 14;
    EXPECT_EQ(m->b_faulted, 1);
    __atomic_store_n(&m->b_state, 3, __ATOMIC_RELEASE);
}

void test_main(void)
{
    long role = evt_cmdline_num("role", 0);

    guest_printf("     role %ld\n", role);
    pt_pool_init(pool[4], 4);
    TEST("setup: traps");
    EXPECT_EQ(trap_install(-1), 0);
    if (role == 0)
        role_a();
    else
        role_b();
}
