/*
 * smp_tlb (run with --vcpus 2): remote TLB shootdown. When a PV kernel
 * changes a mapping and asks for other vCPUs' TLBs to be flushed, the
 * hypercall must not return before every named vCPU that is running on
 * another physical CPU has dropped the old translation (Xen waits for its
 * flush IPIs); Linux relies on it for munmap, page migration and freeing
 * page tables.
 *
 * Setup: a window page X (a .bss page of ours) and two frames A and B whose
 * first word holds different markers. vCPU 1 spins on shared memory with
 * events masked and makes no hypercall while it waits.
 *
 * First vCPU 1 must be seen running alongside vCPU 0: its heartbeat moving
 * within WINDOW of vCPU 0 looking, SEEN times within SETTLE_MAX. One round
 * then: vCPU 0 asks vCPU 1 to prime; vCPU 1 invalidates X in its own TLB
 * (MMUEXT_INVLPG_LOCAL), reads X (now cached: X -> current frame), reports
 * the marker it read and loops reading X and bumping the heartbeat. vCPU 0
 * waits until the heartbeat moves (vCPU 1 is running right now), remaps X
 * to the other frame with the method under test, reads X itself (after its
 * own MMUEXT_INVLPG_LOCAL for the methods whose vcpumask names vCPU 1
 * only), waits for the heartbeat to move again (vCPU 1 still running after
 * the remap) and only then tells vCPU 1 "remapped". vCPU 1's first read of
 * X after that must give the new frame's marker: it flushes nothing itself,
 * so the old marker means the hypervisor returned before flushing vCPU 1's
 * TLB. Methods: update_va_mapping with UVMF_INVLPG|UVMF_ALL,
 * UVMF_TLB_FLUSH|UVMF_ALL, UVMF_INVLPG|UVMF_MULTI and
 * UVMF_TLB_FLUSH|UVMF_MULTI (vcpumask {1}); mmu_update of X's L1 entry
 * followed by mmuext_op MMUEXT_INVLPG_MULTI / MMUEXT_TLB_FLUSH_MULTI
 * (vcpumask {1}) / MMUEXT_INVLPG_ALL / MMUEXT_TLB_FLUSH_ALL. A round counts
 * if the heartbeat moved within WINDOW both before and after the remap and
 * the whole check took under 3 * WINDOW (vCPU 1 ran throughout); otherwise
 * it is retried, for ROUNDS counted rounds per method, up to TRIES tries or
 * METHOD_MAX.
 *
 * How it fails: vCPU 1 reads the old frame in any round (counted or not:
 * once the hypercall has returned nobody may see it); a hypercall error;
 * vCPU 0 or vCPU 1 priming reads the wrong frame; fewer than ROUNDS counted
 * rounds: what a hypervisor that runs both vCPUs on one physical CPU gives
 * (vCPU 1 never runs while vCPU 0 does, so no remote flush is exercised;
 * then only TRIES_UNSETTLED tries per method), and also what a host too
 * busy to run QEMU's two vCPU threads at the same time gives (the log
 * says "not seen running alongside"). Under QEMU TCG each vCPU has its own
 * software TLB, so a missing remote flush really leaves vCPU 1 on the old
 * frame: the last, control method flushes only the local TLB (UVMF_INVLPG
 * without UVMF_ALL) and reports how often vCPU 1 kept the old frame (Xen
 * 4.17 and pvkit: every round), without judging it (a hypervisor may flush
 * more than asked).
 */
#include "evt/spin.h"
#include "pt.h"

#define MS 1000000ULL
#define ROUNDS 20
#define TRIES 1000              /* per method, once vCPU 1 was seen running */
#define TRIES_UNSETTLED 10      /* per method, if it never was */
#define WINDOW (2 * MS)
#define SEEN 3
#define SETTLE_MAX (10000 * MS)
#define METHOD_MAX (5000 * MS)   /* per method */
#define MARK_A 0x4141414141414141UL
#define MARK_B 0x4242424242424242UL

static unsigned char win[4096] __attribute__((aligned(4096)));
static unsigned char frame_a[4096] __attribute__((aligned(4096)));
static unsigned char frame_b[4096] __attribute__((aligned(4096)));
static unsigned long vcpu1_mask __attribute__((aligned(8))) = 1UL << 1;

/* vCPU 0 -> vCPU 1 */
static volatile unsigned long cmd_seq __attribute__((aligned(64)));
static volatile unsigned long go_seq __attribute__((aligned(64)));
static volatile int ap_quit;
/* vCPU 1 -> vCPU 0 */
static volatile unsigned long primed_seq __attribute__((aligned(64)));
static volatile unsigned long done_seq __attribute__((aligned(64)));
static volatile unsigned long heartbeat __attribute__((aligned(64)));
static volatile uint64_t primed_val, after_val;
static volatile long prime_rc;
static volatile int ap_ready, ap_stopped;

enum method {
    UVA_INVLPG_ALL, UVA_FLUSH_ALL, UVA_INVLPG_MULTI, UVA_FLUSH_MULTI,
    MMU_INVLPG_MULTI, MMU_FLUSH_MULTI, MMU_INVLPG_ALL, MMU_FLUSH_ALL,
    CONTROL_LOCAL, NR_METHODS
};
static const char *const method_name[NR_METHODS] = {
    "update_va_mapping UVMF_INVLPG|UVMF_ALL",
    "update_va_mapping UVMF_TLB_FLUSH|UVMF_ALL",
    "update_va_mapping UVMF_INVLPG|UVMF_MULTI {1}",
    "update_va_mapping UVMF_TLB_FLUSH|UVMF_MULTI {1}",
    "mmu_update + MMUEXT_INVLPG_MULTI {1}",
    "mmu_update + MMUEXT_TLB_FLUSH_MULTI {1}",
    "mmu_update + MMUEXT_INVLPG_ALL",
    "mmu_update + MMUEXT_TLB_FLUSH_ALL",
    "control: update_va_mapping UVMF_INVLPG (local only)",
};

static inline uint64_t read_x(void)
{
    return *(volatile uint64_t *)win;
}

/* vCPU 1: primes and reads X on request; never flushes after priming. */
void evt_ap_main(unsigned long cpu)
{
    unsigned long seq = 0, s;

    __atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
    while ((s = wait_cmd(seq, &cmd_seq, &ap_quit)) != 0) {
        seq = s;
        prime_rc = pt_invlpg((unsigned long)win);
        (void)read_x();
        primed_val = read_x();
        __atomic_store_n(&primed_seq, seq, __ATOMIC_RELEASE);
        /* Keep X hot in the TLB and show that we are running. */
        for (;;) {
            (void)read_x();
            heartbeat++;
            if (__atomic_load_n(&go_seq, __ATOMIC_ACQUIRE) == seq) {
                after_val = read_x();
                __atomic_store_n(&done_seq, seq, __ATOMIC_RELEASE);
                break;
            }
            if (__atomic_load_n(&cmd_seq, __ATOMIC_ACQUIRE) != seq ||
                __atomic_load_n(&ap_quit, __ATOMIC_ACQUIRE))
                break;                          /* attempt abandoned: prime again */
            cpu_relax();
        }
    }
    vcpu_park(cpu, &ap_stopped);
}

/* Points X at PAGE with method M; the first failing hypercall's result. */
static long remap(enum method m, const void *page)
{
    unsigned long va = (unsigned long)win, mask_flags = (unsigned long)&vcpu1_mask;
    struct mmuext_op op = { .arg1.linear_addr = va };
    long rc;

    switch (m) {
    case UVA_INVLPG_ALL:
        return hyp_update_va_mapping(va, pt_pte(page, PTE_DATA_RW), UVMF_INVLPG | UVMF_ALL);
    case UVA_FLUSH_ALL:
        return hyp_update_va_mapping(va, pt_pte(page, PTE_DATA_RW), UVMF_TLB_FLUSH | UVMF_ALL);
    case UVA_INVLPG_MULTI:
        return hyp_update_va_mapping(va, pt_pte(page, PTE_DATA_RW), UVMF_INVLPG | UVMF_MULTI | mask_flags);
    case UVA_FLUSH_MULTI:
        return hyp_update_va_mapping(va, pt_pte(page, PTE_DATA_RW), UVMF_TLB_FLUSH | UVMF_MULTI | mask_flags);
    case CONTROL_LOCAL:
        return hyp_update_va_mapping(va, pt_pte(page, PTE_DATA_RW), UVMF_INVLPG | UVMF_LOCAL);
    default:
        break;
    }
    rc = pt_mmu1(pt_entry_ma(va, 1), pt_pte(page, PTE_DATA_RW));
    if (rc)
        return rc;
    switch (m) {
    case MMU_INVLPG_MULTI:
        op.cmd = MMUEXT_INVLPG_MULTI;
        set_xen_guest_handle(op.arg2.vcpumask, &vcpu1_mask);
        break;
    case MMU_FLUSH_MULTI:
        op.cmd = MMUEXT_TLB_FLUSH_MULTI;
        set_xen_guest_handle(op.arg2.vcpumask, &vcpu1_mask);
        break;
    case MMU_INVLPG_ALL:
        op.cmd = MMUEXT_INVLPG_ALL;
        break;
    default:
        op.cmd = MMUEXT_TLB_FLUSH_ALL;
        break;
    }
    return hyp_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

struct tally {
    unsigned int tries, counted, stale, stale_counted, not_before, not_after;
    unsigned int bad_prime, errors, local_stale, lost;
    uint64_t worst_gap;
};

static unsigned long seq;
static const unsigned char *cur = frame_a;    /* the frame X maps now */

/* One attempt with method M; updates T. Returns 0 if vCPU 1 stopped
 * answering (the test cannot go on). */
static int attempt(enum method m, struct tally *t)
{
    const unsigned char *next = cur == frame_a ? frame_b : frame_a;
    uint64_t want_old = *(const uint64_t *)cur, want_new = *(const uint64_t *)next;
    uint64_t t0, t1, mine;
    int before, after;
    long rc;

    t->tries++;
    if (!post_and_wait(&seq, &cmd_seq, &primed_seq, 5000 * MS)) {
        t->lost++;
        return 0;
    }
    if (prime_rc != 0 || primed_val != want_old)
        t->bad_prime++;
    t0 = evt_now();
    before = counter_moves(&heartbeat, WINDOW);
    if (!before) {
        t->not_before++;
        return 1;                               /* vCPU 1 re-primes next time */
    }
    rc = remap(m, next);
    if (rc) {
        guest_printf("     %s: %ld\n", method_name[m], rc);
        t->errors++;
        /* mmu_update may have gone through before the flush failed. */
        if ((*pt_entry((unsigned long)win, 1) & PTE_MFN) == (pt_pte(next, PTE_DATA_RW) & PTE_MFN))
            cur = next;
        return 1;
    }
    cur = next;
    if (m == UVA_INVLPG_MULTI || m == UVA_FLUSH_MULTI || m == MMU_INVLPG_MULTI ||
        m == MMU_FLUSH_MULTI)
        pt_invlpg((unsigned long)win);          /* the mask names vCPU 1 only */
    mine = read_x();
    if (mine != want_new)
        t->local_stale++;
    after = counter_moves(&heartbeat, WINDOW);
    t1 = evt_now();
    __atomic_store_n(&go_seq, seq, __ATOMIC_RELEASE);
    if (!spin_for(&done_seq, seq, 5000 * MS)) {
        t->lost++;
        return 0;
    }
    if (!after)
        t->not_after++;
    if (t1 - t0 > t->worst_gap)
        t->worst_gap = t1 - t0;
    if (after_val != want_new)
        t->stale++;
    if (after && t1 - t0 < 3 * WINDOW) {
        t->counted++;
        if (after_val != want_new)
            t->stale_counted++;
    }
    return 1;
}

/*
 * Primes vCPU 1 and waits until its heartbeat has been seen moving within
 * WINDOW SEEN times, giving up after SETTLE_MAX. On one physical CPU that
 * never happens (vCPU 0 would have to be descheduled and back within
 * WINDOW while the other vCPU burns a whole slice); with parallel vCPUs it
 * takes microseconds, or longer when the host running QEMU is busy and
 * deschedules a vCPU thread for a few ms now and then. Returns 1 if seen,
 * -1 if vCPU 1 stopped answering, 0 if never seen.
 */
static int settle(void)
{
    if (!post_and_wait(&seq, &cmd_seq, &primed_seq, 5000 * MS))
        return -1;
    return seen_alongside(&heartbeat, WINDOW, SEEN, SETTLE_MAX);
}

/* Runs method M until ROUNDS rounds counted or TRIES tried; 0 if vCPU 1 is lost. */
static int run_method(enum method m, unsigned int tries)
{
    struct tally t = { 0 };
    int alive = 1;
    unsigned long r0 = runnable_us(0), r1 = runnable_us(1);
    uint64_t t0 = evt_now();

    TEST(method_name[m]);
    while (alive && t.counted < ROUNDS && t.tries < tries && evt_now() - t0 < METHOD_MAX)
        alive = attempt(m, &t);
    guest_printf("     %u rounds counted in %u tries (%u with vCPU 1 not running before, %u not "
                 "after the remap; worst check %lu us), %lu us; vCPU 1 read the old frame %u "
                 "times (%u in counted rounds); time runnable vCPU 0 +%lu us, vCPU 1 +%lu us\n",
                 t.counted, t.tries, t.not_before, t.not_after,
                 (unsigned long)(t.worst_gap / 1000), (unsigned long)((evt_now() - t0) / 1000),
                 t.stale, t.stale_counted, runnable_us(0) - r0, runnable_us(1) - r1);
    EXPECT_EQ(t.lost, 0);
    EXPECT_EQ(t.errors, 0);
    EXPECT_EQ(t.local_stale, 0);
    EXPECT_EQ(t.bad_prime, 0);
    if (m == CONTROL_LOCAL) {
        guest_printf("     (control, not judged: without a remote flush vCPU 1 kept the "
                     "old frame in %u of %u counted rounds)\n", t.stale_counted, t.counted);
        return alive;
    }
    expect_rounds(t.counted, ROUNDS);
    EXPECT_EQ(t.stale, 0);
    return alive;
}

void test_main(void)
{
    unsigned long va = (unsigned long)win;

    if (!evt_setup("setup: X -> frame A, vCPU 1 up and spinning"))
        return;
    *(volatile uint64_t *)frame_a = MARK_A;
    *(volatile uint64_t *)frame_b = MARK_B;
    EXPECT(pt_entry(va, 1) != NULL);
    EXPECT_EQ(hyp_update_va_mapping(va, pt_pte(frame_a, PTE_DATA_RW), UVMF_INVLPG | UVMF_ALL), 0);
    EXPECT_EQ(read_x(), MARK_A);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    if (!EXPECT_EQ(evt_start_ap(1, &ap_ready), 0))
        return;

    TEST("vCPU 1 runs alongside vCPU 0");
    int settled = settle();
    EXPECT_EQ(settled, 1);
    if (settled >= 0)
        for (int m = 0; m < NR_METHODS; m++)
            if (!run_method((enum method)m, settled ? TRIES : TRIES_UNSETTLED))
                break;

    TEST("stop vCPU 1, X back to its own frame");
    stop_ap_expect(&ap_quit, &ap_stopped, 1);
    EXPECT_EQ(hyp_update_va_mapping(va, pt_pte(win, PTE_DATA_RW), UVMF_INVLPG | UVMF_ALL), 0);
}
