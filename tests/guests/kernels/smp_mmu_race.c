/*
 * smp_mmu_race (run with --vcpus 2): count-1 mmu_update requests (the fast
 * path, mmu_update_single) in bulk and racing the other vCPU's pins,
 * unpins and retypes of the table they write; every reference must be back
 * at the end (and the frame-table audit at machine off must be clean).
 *
 * Why: the single-request path validates an L1 entry through copies of the
 * reference helpers specialised for level 1 (inline get_page_type and
 * put_page_type fast cases), and an unpin releases an L1 through another
 * such copy. A copy that skipped a type check would let a page-table frame
 * be mapped writable; one that took or dropped a reference differently
 * from its general twin would leak (the page never pins or maps writable
 * again) or lose one (the audit's counts disagree).
 *
 * Phase 1 (vCPU 0 alone, UPDATES rounds, key updates=N): each round cycles
 * one entry of a pinned L1 T through count-1 requests: RAM page D[j]
 * writable (MMU_NORMAL_PT_UPDATE), read-only D[j] (PRESERVE_AD), writable
 * D[j+1], cleared; MMU_MACHPHYS_UPDATE of D[j]'s own M2P entry; every 1024
 * rounds T is unpinned with 64 live writable entries (their release) and
 * pinned again (their validation), and count-1 requests with foreigndom =
 * our own id (-ESRCH, the general path) are checked to change nothing.
 * Then the edges of the request and `done` pointers a page boundary away
 * from an unmapped page (the request: -EFAULT, nothing done; `done`: the
 * update applied and 0 returned, done's failed write ignored as by Xen).
 * After: every D[j] pins as an L1 and maps writable again, T pins and maps
 * writable again.
 *
 * Phase 2 (ROUNDS rounds): vCPU 1 loops count-1 requests writing "D
 * writable" then 0 into T's entries 0-7, tallying the answers; vCPU 0, each
 * round, pins T (as an L1, every third round as an L2), pins D as an L1,
 * and, when both pins held as L1s, checks that no entry of T maps D
 * writable and that D cannot be mapped writable by update_va_mapping;
 * then unpins both. vCPU 1 must get only 0 or a refusal (-EBUSY, -EINVAL)
 * and must have run during the rounds; afterwards D and T pin and map
 * writable again.
 */
#include "evt/spin.h"
#include "pt.h"
#include "traps.h"
#include <stdbool.h>

#define MS 1000000ULL
#define NDATA 4
#define ROUNDS 3000
/* An entry's bits both hypervisors store as given (Xen adds G and its bit 52 to kernel mappings). */
#define STORED_BITS (PTE_MFN | PTE_P | PTE_RW)
#define OUR_ID 0     /* we run as the initial domain, on Xen and on pvkit */

static char pool[16][4096] __attribute__((aligned(4096)));
static uint64_t *t;
static void *d[NDATA];

/* --- phase 1 ------------------------------------------------------------- */

/* One count-1 request (no done); the result. */
static long single(uint64_t ptr, uint64_t val)
{
    return pt_mmu1(ptr, val);
}

/* Round i of the churn on entry k of T; the number of unexpected answers. */
static unsigned int churn_round(unsigned long i)
{
    unsigned int k = (unsigned int)(i % 64), j = (unsigned int)(i % NDATA), bad = 0;
    uint64_t ptr = pt_ma_of(&t[k]);

    bad += single(ptr, pt_pte(d[j], PTE_DATA_RW)) != 0;
    bad += single(ptr | MMU_PT_UPDATE_PRESERVE_AD, pt_pte(d[j], PTE_DATA_RO)) != 0;
    bad += single(ptr, pt_pte(d[(j + 1) % NDATA], PTE_DATA_RW)) != 0;
    bad += single(ptr, 0) != 0;
    bad += single(pt_ma_of(d[j]) | MMU_MACHPHYS_UPDATE, pt_pfn_of(d[j])) != 0;
    return bad;
}

/* T unpinned with 64 writable entries and pinned again; unexpected answers. */
static unsigned int churn_repin(void)
{
    unsigned int bad = 0;

    for (unsigned int k = 0; k < 64; k++)
        bad += single(pt_ma_of(&t[k]), pt_pte(d[k % NDATA], PTE_DATA_RW)) != 0;
    bad += pt_unpin(t) != 0;
    bad += pt_pin(1, t) != 0;
    for (unsigned int k = 0; k < 64; k++)
        bad += single(pt_ma_of(&t[k]), 0) != 0;
    return bad;
}

/* Count-1 with foreigndom = our own id: -ESRCH and the entry unchanged. */
static unsigned int churn_self_foreign(void)
{
    mmu_update_t req = { .ptr = pt_ma_of(&t[100]), .val = pt_pte(d[0], PTE_DATA_RW) };
    unsigned int bad = 0;

    bad += hyp_mmu_update(&req, 1, NULL, OUR_ID) != -XEN_ESRCH;
    bad += t[100] != 0;
    return bad;
}

static void phase_churn(unsigned long updates)
{
    unsigned int bad = 0;
    uint64_t t0 = evt_now();

    TEST("count-1 churn: RW, RO (PRESERVE_AD), RW elsewhere, clear, MACHPHYS; T re-pinned live");
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    for (unsigned long i = 0; i < updates; i++) {
        bad += churn_round(i);
        if (i % 1024 == 1023) {
            bad += churn_repin();
            bad += churn_self_foreign();
        }
    }
    guest_printf("     %lu rounds (%lu count-1 requests) in %lu ms, %u unexpected answers\n",
                 updates, updates * 5 + updates / 1024 * 129,
                 (unsigned long)((evt_now() - t0) / MS), bad);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(pt_unpin(t), 0);
}

/*
 * A request and a `done` that straddle into the unmapped page after page a.
 * GENERAL: the request as the continuation of a batch of 1 (done NULL).
 */
static void phase_edges(void)
{
    char *a = pt_alloc(), *b = pt_alloc();
    mmu_update_t *req = (mmu_update_t *)(a + 4096 - 8);
    static mmu_update_t good;

    TEST("a request straddling into an unmapped page: -EFAULT from both paths, nothing done");
    if (!EXPECT(b == a + 4096))
        return;
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    req->ptr = pt_ma_of(&t[200]);
    req->val = pt_pte(d[0], PTE_DATA_RO);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)b, 0, UVMF_INVLPG), 0);
    EXPECT_EQ(hyp_mmu_update(req, 1, NULL, DOMID_SELF), -XEN_EFAULT);
    EXPECT_EQ(hyp_mmu_update(req, 1 | BATCH_PREEMPTED, NULL, DOMID_SELF), -XEN_EFAULT);
    EXPECT_EQ(t[200], 0);

    TEST("a done straddling into an unmapped page, or non-canonical: the update applied");
    good.ptr = pt_ma_of(&t[201]);
    good.val = pt_pte(d[1], PTE_DATA_RO);
    long rc = hyp_mmu_update(&good, 1, (unsigned int *)(a + 4096 - 2), DOMID_SELF);
    guest_printf("     straddling done: %ld, entry 0x%lx\n", rc, (unsigned long)t[201]);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(t[201] & STORED_BITS, good.val & STORED_BITS);
    EXPECT_EQ(single(good.ptr, 0), 0);
    rc = hyp_mmu_update(&good, 1, (unsigned int *)0x8000000000000000UL, DOMID_SELF);
    guest_printf("     non-canonical done: %ld, entry 0x%lx\n", rc, (unsigned long)t[201]);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(t[201] & STORED_BITS, good.val & STORED_BITS);
    EXPECT_EQ(single(good.ptr, 0), 0);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)b, pt_pte(b, PTE_DATA_RW), UVMF_INVLPG), 0);
    EXPECT_EQ(pt_unpin(t), 0);
}

/* Every reference back: each page pins as an L1 (no writable type left)
 * and maps writable again (no table type left). */
static void expect_all_released(void)
{
    for (unsigned int j = 0; j < NDATA; j++) {
        EXPECT_EQ(pt_map_ro(d[j]), 0);
        EXPECT_EQ(pt_pin_and_unpin(d[j]), 0);
        EXPECT_EQ(pt_map_rw(d[j]), 0);
    }
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin_and_unpin(t), 0);
    EXPECT_EQ(pt_map_rw(t), 0);
}

/* --- phase 2 ------------------------------------------------------------- */

static volatile unsigned long ap_updates __attribute__((aligned(64)));
static volatile unsigned long ap_ok, ap_busy, ap_inval, ap_other;
static volatile long ap_other_rc;
static volatile int ap_ready, ap_stop, ap_stopped;

/* vCPU 1: "D writable", then 0, into T's entries 0-7, until told to stop. */
void evt_ap_main(unsigned long cpu)
{
    uint64_t rw = pt_pte(d[0], PTE_DATA_RW);

    __atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&ap_stop, __ATOMIC_ACQUIRE)) {
        for (unsigned int k = 0; k < 16; k++) {
            long rc = single(pt_ma_of(&t[k / 2]), k & 1 ? 0 : rw);
            if (rc == 0)
                ap_ok++;
            else if (rc == -XEN_EBUSY)
                ap_busy++;
            else if (rc == -XEN_EINVAL)
                ap_inval++;
            else {
                ap_other++;
                ap_other_rc = rc;
            }
        }
        __atomic_add_fetch(&ap_updates, 16, __ATOMIC_RELEASE);
    }
    vcpu_park(cpu, &ap_stopped);
}

/* With T pinned as an L1 and D as an L1: D writable nowhere. 1 if so. */
static int d_not_writable(void)
{
    uint64_t dmfn = pt_mfn_of(d[0]);

    for (unsigned int k = 0; k < 512; k++) {
        uint64_t e = __atomic_load_n(&t[k], __ATOMIC_RELAXED);
        if ((e & PTE_P) && (e & PTE_RW) && ((e & PTE_MFN) >> 12) == dmfn)
            return 0;
    }
    if (hyp_update_va_mapping((unsigned long)d[0], pt_pte(d[0], PTE_DATA_RW), UVMF_INVLPG) == 0) {
        pt_map_ro(d[0]);
        return 0;
    }
    return 1;
}

static void phase_race(void)
{
    unsigned int violations = 0, both = 0, t_pins = 0, d_pins = 0;
    unsigned long before;

    TEST("count-1 updates of T by vCPU 1 racing vCPU 0's pins, unpins and retypes of T and D");
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_map_ro(d[0]), 0);
    if (!EXPECT_EQ(evt_start_ap(1, &ap_ready), 0))
        return;
    before = __atomic_load_n(&ap_updates, __ATOMIC_ACQUIRE);
    for (unsigned int r = 0; r < ROUNDS; r++) {
        int level = r % 3 == 2 ? 2 : 1;
        bool tp = pt_pin(level, t) == 0, dp = pt_pin(1, d[0]) == 0;
        t_pins += tp;
        d_pins += dp;
        if (tp && dp && level == 1) {
            both++;
            violations += !d_not_writable();
        }
        if (dp)
            EXPECT_EQ(pt_unpin(d[0]), 0);
        if (tp)
            EXPECT_EQ(pt_unpin(t), 0);
    }
    unsigned long during = __atomic_load_n(&ap_updates, __ATOMIC_ACQUIRE) - before;
    stop_ap_expect(&ap_stop, &ap_stopped, 1);
    guest_printf("     %u rounds: T pinned %u, D pinned %u, both as L1s %u; vCPU 1: %lu "
                 "requests alongside (%lu ok, %lu -EBUSY, %lu -EINVAL, %lu other, last %ld)\n",
                 ROUNDS, t_pins, d_pins, both, during, ap_ok, ap_busy, ap_inval, ap_other,
                 (long)ap_other_rc);
    EXPECT_EQ(violations, 0);
    EXPECT_EQ(ap_other, 0);
    EXPECT(during > 0);
    EXPECT(t_pins > 0 && d_pins > 0);

    TEST("after the race: T's entries cleared, every reference back");
    EXPECT_EQ(pt_map_rw(t), 0); /* unpinned and untyped: a plain page again */
    for (unsigned int k = 0; k < 8; k++)
        t[k] = 0;
    expect_all_released();
}

void test_main(void)
{
    if (!evt_setup("setup: trap table, pool, two vCPUs"))
        return;
    EXPECT_EQ(trap_install(-1), 0);
    pt_pool_init(pool, 16);
    t = pt_alloc();
    for (unsigned int j = 0; j < NDATA; j++)
        d[j] = pt_alloc();
    phase_churn((unsigned long)evt_cmdline_num("updates", 100000));
    phase_edges();
    TEST("after the churn: every reference back");
    expect_all_released();
    phase_race();
}
