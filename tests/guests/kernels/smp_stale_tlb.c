/*
 * smp_stale_tlb (run with --vcpus 2): a frame must not become a page table
 * while another CPU still holds a stale writable translation of it. When a
 * frame's last writable mapping goes away and the guest pins it as an L1
 * table, the hypervisor must flush the TLB of every CPU running the domain
 * before it validates the frame (Xen: _get_page_type flushes the domain's
 * dirty CPUs whose TLB predates the frame's last type drop), whatever the
 * guest asked for when it removed the mapping. Otherwise a vCPU on another
 * CPU keeps writing through its stale entry into a validated, live page
 * table: a guest writing unvalidated PTEs.
 *
 * Setup: frame P (a .bss page, zeroed) mapped writable at its own VA X, a
 * second page R remapped as a read-only alias of P. vCPU 1 spins with
 * events masked, makes no hypercall while storing and runs with its own
 * trap table; a #PF at its store instruction is counted by a trap hook,
 * which resumes after the store.
 *
 * One round: vCPU 1 loops storing marker n (store number n) into P through
 * X, bumping a heartbeat. Each store reads the round's "pinned" flag
 * BEFORE the store and records whether the store went through; a store
 * that went through although the flag was already set is a violation (the
 * pin had returned before the store began; x86 does not reorder a store
 * before an older load). The store is an unaligned 8-byte MOV at P+4 of
 * (marker << 32): it writes only entry 1's low half with an even marker
 * below 4096 (a not-present PTE with no address bits, which validation and
 * Xen's L1TF check accept), and neither Xen's nor pvkit's writable-
 * pagetable emulation accepts a store that is not an aligned 8-byte one, so
 * once P is a table every store through a fresh TLB entry raises #PF rather
 * than being emulated. vCPU 0, once vCPU 1's heartbeat moved within WINDOW:
 * update_va_mapping X -> P read-only with UVMF_NONE (no flush at all: vCPU
 * 1's TLB deliberately stays stale), immediately MMUEXT_PIN_L1_TABLE P (must
 * succeed: no writable mapping remains), reads P through R (what validation
 * saw), sets the flag, checks the heartbeat moved within WINDOW again,
 * waits HOLD more while vCPU 1 keeps storing, stops vCPU 1 and checks: no
 * violation; vCPU 1 attempted stores after seeing the flag and every one
 * of them faulted; P read through R still equals what it held right after
 * the pin and equals the last store that went through (entry 1 = that
 * marker, every other entry 0). Then unpin, X writable again, zero P.
 *
 * A round counts if the heartbeat moved within WINDOW before the remap and
 * after the pin and the check took under 3 * WINDOW; else it is retried, up
 * to ROUNDS counted rounds in TRIES tries or MAX_TIME. Violations and wrong
 * contents fail in any round. Too few counted rounds fails too: what a
 * hypervisor that runs both vCPUs on one physical CPU (or a host too busy
 * to run both QEMU vCPU threads at once) gives. Under QEMU TCG each vCPU
 * has its own software TLB, so without the hypervisor's flush vCPU 1 really
 * keeps storing into the pinned table.
 */
#include "evt/spin.h"
#include "pt.h"
#include "traps.h"

#define MS 1000000ULL
#define ROUNDS 20
#define TRIES 1000
#define TRIES_UNSETTLED 10
#define WINDOW (2 * MS)
#define HOLD (3 * MS / 2)
#define SEEN 3
#define SETTLE_MAX (10000 * MS)
#define MAX_TIME (20000 * MS)

static unsigned char pframe[4096] __attribute__((aligned(4096)));   /* P, at X */
static unsigned char ralias[4096] __attribute__((aligned(4096)));   /* R -> P, RO */

/* vCPU 0 -> vCPU 1 (smp_tlb's mailbox shape; each kernel names its own steps) */
static volatile unsigned long cmd_seq __attribute__((aligned(64)));
static volatile unsigned long pinned_seq __attribute__((aligned(64)));
static volatile unsigned long stop_seq __attribute__((aligned(64)));
static volatile int ap_quit;
/* vCPU 1 -> vCPU 0 */
static volatile unsigned long started_seq __attribute__((aligned(64)));
static volatile unsigned long done_seq __attribute__((aligned(64)));
static volatile unsigned long heartbeat __attribute__((aligned(64)));
/* vCPU 1's record of the current round (reset at its start). */
static volatile unsigned long st_stores, st_ok, st_faults, st_after, st_after_ok;
static volatile uint64_t st_last_ok;           /* marker of the last store that went through */
static volatile unsigned long pf_count;        /* #PFs taken at the store, ever */
static volatile unsigned long bad_faults;
static volatile int ap_ready, ap_stopped;
static volatile long ap_trap_rc = -1;

extern char stale_store_insn[], stale_store_fault[];

/* One unaligned 8-byte store of VAL at P+4 through X; 1 if it went through. */
static __attribute__((noinline)) int store_marker(uint64_t val)
{
    unsigned long ok = 1;

    __asm__ volatile(".globl stale_store_insn\nstale_store_insn:\n\t"
                     "movq %[v], 4(%[p])\n\t"
                     "jmp 2f\n"
                     ".globl stale_store_fault\nstale_store_fault:\n\t"
                     "xorl %k[ok], %k[ok]\n"
                     "2:\n\t"
                     : [ok] "+r"(ok)
                     : [v] "r"(val), [p] "r"(pframe)
                     : "memory");
    return (int)ok;
}

/* vCPU 1's #PF at the store: count it and skip the store. */
static int pf_hook(struct trap_frame *f)
{
    if (f->vector == 14 && f->rip == (unsigned long)stale_store_insn) {
        if ((f->error & 3) != 3)                /* want present + write */
            bad_faults++;
        pf_count++;
        f->rip = (unsigned long)stale_store_fault;
        return 1;
    }
    return 0;
}

static inline uint64_t marker(unsigned long n)
{
    return 2 * (1 + n % 2047);                  /* even, 2..4094: not present, no address */
}

/* vCPU 1: stores into P on request until told to stop. */
void evt_ap_main(unsigned long cpu)
{
    unsigned long seq = 0, s, n = 0;

    ap_trap_rc = trap_install(-1);
    __atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
    while ((s = wait_cmd(seq, &cmd_seq, &ap_quit)) != 0) {
        seq = s;
        st_stores = st_ok = st_faults = st_after = st_after_ok = 0;
        st_last_ok = 0;
        __atomic_store_n(&started_seq, seq, __ATOMIC_RELEASE);
        for (;;) {
            uint64_t m = marker(++n);
            /* The flag is read before the store; the store cannot pass it. */
            int seen = __atomic_load_n(&pinned_seq, __ATOMIC_ACQUIRE) == seq;
            int ok = store_marker(m << 32);

            st_stores++;
            if (ok) {
                st_ok++;
                st_last_ok = m;
            } else {
                st_faults++;
            }
            if (seen) {
                st_after++;
                if (ok)
                    st_after_ok++;
            }
            heartbeat++;
            if (__atomic_load_n(&stop_seq, __ATOMIC_ACQUIRE) == seq) {
                __atomic_store_n(&done_seq, seq, __ATOMIC_RELEASE);
                break;
            }
            if (__atomic_load_n(&ap_quit, __ATOMIC_ACQUIRE))
                goto quit;
        }
    }
quit:
    vcpu_park(cpu, &ap_stopped);
}

struct tally {
    unsigned int tries, counted, not_before, not_after, slow, no_after_attempts;
    unsigned int violations, wrong_contents, changed_after_pin, errors, lost, bad_start;
    unsigned long after_attempts, pre_pin_ok_stale;
};

static unsigned long seq;

/* Stops vCPU 1's current round; 0 if it does not answer. */
static int stop_round(void)
{
    __atomic_store_n(&stop_seq, seq, __ATOMIC_RELEASE);
    return spin_for(&done_seq, seq, 5000 * MS);
}

/* P as seen through R: 1 if entry 1 == WANT1 and every other entry is 0. */
static int contents_are(uint64_t want1, uint64_t *e1)
{
    const volatile uint64_t *r = (const volatile uint64_t *)ralias;
    int good = 1;

    *e1 = r[1];
    for (int i = 0; i < 512; i++)
        if (r[i] != (i == 1 ? want1 : 0))
            good = 0;
    return good;
}

/* One attempt; updates T. Returns 0 if the test cannot go on. */
static int attempt(struct tally *t)
{
    unsigned long x = (unsigned long)pframe;
    uint64_t t0, t1, at_pin, e1;
    int before, after;
    long rc;

    t->tries++;
    if (!post_and_wait(&seq, &cmd_seq, &started_seq, 5000 * MS)) {
        t->lost++;
        return 0;
    }
    t0 = evt_now();
    before = counter_moves(&heartbeat, WINDOW);
    if (!before) {
        t->not_before++;
        if (!stop_round()) {
            t->lost++;
            return 0;
        }
        return 1;
    }
    /* X read-only, no flush anywhere; then at once make P an L1 table. */
    rc = hyp_update_va_mapping(x, pt_pte(pframe, PTE_DATA_RO), UVMF_NONE);
    long prc = rc ? -1 : pt_pin(1, pframe);
    at_pin = ((const volatile uint64_t *)ralias)[1];
    __atomic_store_n(&pinned_seq, seq, __ATOMIC_RELEASE);
    after = counter_moves(&heartbeat, WINDOW);
    t1 = evt_now();
    uint64_t hold_end = evt_now() + HOLD;
    while (evt_now() < hold_end)
        cpu_relax();
    if (!stop_round()) {
        t->lost++;
        return 0;
    }
    if (rc || prc) {
        guest_printf("     update_va_mapping RO %ld, pin L1 %ld\n", rc, prc);
        t->errors++;
    }
    if (st_after_ok) {
        t->violations++;
        guest_printf("     round %lu: %lu of %lu stores attempted after the pin returned went "
                     "through (into a pinned L1)\n", seq, st_after_ok, st_after);
    }
    if (!prc) {
        if (!contents_are(st_last_ok, &e1)) {
            t->wrong_contents++;
            guest_printf("     round %lu: P entry 1 = 0x%lx, last store that went through "
                         "0x%lx (or another entry changed)\n", seq, (unsigned long)e1,
                         (unsigned long)st_last_ok);
        }
        if (e1 != at_pin) {
            t->changed_after_pin++;
            guest_printf("     round %lu: P entry 1 was 0x%lx right after the pin, 0x%lx "
                         "now\n", seq, (unsigned long)at_pin, (unsigned long)e1);
        }
    }
    t->after_attempts += st_after;
    if (!after)
        t->not_after++;
    else if (t1 - t0 >= 3 * WINDOW)
        t->slow++;
    else if (!st_after)
        t->no_after_attempts++;
    else
        t->counted++;
    /* Back to: P untyped, X writable, P zero. */
    if (!prc && pt_unpin(pframe) != 0)
        t->errors++;
    if (hyp_update_va_mapping(x, pt_pte(pframe, PTE_DATA_RW), UVMF_INVLPG | UVMF_ALL) != 0)
        t->errors++;
    for (int i = 0; i < 512; i++)
        ((volatile uint64_t *)pframe)[i] = 0;
    if (!contents_are(0, &e1))
        t->bad_start++;
    return 1;
}

/* Waits until vCPU 1 is seen running alongside (as smp_tlb); 1, 0, or -1 if lost. */
static int settle(void)
{
    int r;

    if (!post_and_wait(&seq, &cmd_seq, &started_seq, 5000 * MS))
        return -1;
    r = seen_alongside(&heartbeat, WINDOW, SEEN, SETTLE_MAX);
    if (!stop_round())
        return -1;
    return r;
}

void test_main(void)
{
    unsigned long x = (unsigned long)pframe;

    TEST("setup: P at X writable, R a read-only alias of P, vCPU 1 up with a #PF hook");
    EXPECT_EQ(trap_install(-1), 0);
    trap_kernel_hook = pf_hook;
    EXPECT_EQ(evt_init(), 0);
    if (!evt_shared)
        return;
    EXPECT(pt_entry(x, 1) != NULL);
    EXPECT(pt_entry((unsigned long)ralias, 1) != NULL);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)ralias, pt_pte(pframe, PTE_DATA_RO),
                                    UVMF_INVLPG | UVMF_ALL), 0);
    ((volatile uint64_t *)pframe)[1] = 0x1234;
    EXPECT_EQ(((volatile uint64_t *)ralias)[1], 0x1234);
    ((volatile uint64_t *)pframe)[1] = 0;
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    if (!EXPECT_EQ(evt_start_ap(1, &ap_ready), 0))
        return;
    EXPECT_EQ(ap_trap_rc, 0);

    TEST("vCPU 1 runs alongside vCPU 0");
    int settled = settle();
    EXPECT_EQ(settled, 1);

    if (settled >= 0) {
        struct tally t = { 0 };
        unsigned int tries = settled ? TRIES : TRIES_UNSETTLED;
        unsigned long r0 = runnable_us(0), r1 = runnable_us(1), pf0 = pf_count;
        uint64_t t0 = evt_now();
        int alive = 1;

        TEST("X -> P read-only with UVMF_NONE, pin P as L1 at once: vCPU 1's stores fault");
        while (alive && t.counted < ROUNDS && t.tries < tries && evt_now() - t0 < MAX_TIME)
            alive = attempt(&t);
        guest_printf("     %u rounds counted in %u tries (vCPU 1 not running: %u before, %u "
                     "after the pin; %u too slow; %u with no store after the pin), %lu us; "
                     "%lu stores attempted after the pin returned, %lu #PFs at the store; "
                     "time runnable vCPU 0 +%lu us, vCPU 1 +%lu us\n",
                     t.counted, t.tries, t.not_before, t.not_after, t.slow,
                     t.no_after_attempts, (unsigned long)((evt_now() - t0) / 1000),
                     t.after_attempts, pf_count - pf0, runnable_us(0) - r0,
                     runnable_us(1) - r1);
        EXPECT_EQ(t.lost, 0);
        EXPECT_EQ(t.errors, 0);
        EXPECT_EQ(t.bad_start, 0);
        EXPECT_EQ(bad_faults, 0);
        expect_rounds(t.counted, ROUNDS);
        EXPECT_EQ(t.violations, 0);
        EXPECT_EQ(t.wrong_contents, 0);
        EXPECT_EQ(t.changed_after_pin, 0);
    }

    TEST("stop vCPU 1, R back to its own frame");
    stop_ap_expect(&ap_quit, &ap_stopped, 1);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)ralias, pt_pte(ralias, PTE_DATA_RW),
                                    UVMF_INVLPG | UVMF_ALL), 0);
}
