/*
 * smp_stats_remap (run with --vcpus 2; pvkit only): pvkit_op's
 * PVKIT_OP_get_own_stats called on vCPU 1 over and over while vCPU 0
 * remaps the buffer under it. The hypervisor writes the statistics through
 * vCPU 1's own translations, so it must never write a frame vCPU 1 may not
 * write: not one that vCPU 0 has meanwhile made a pinned L1 (removing the
 * writable mapping with UVMF_NONE, so vCPU 1's TLB may still hold it), nor
 * one the buffer now maps read-only.
 *
 * vCPU 1 loops over pvkit_op(X, 8): the 8 bytes are hypercalls[0]
 * (set_trap_table), which this kernel never calls: 0, an empty PTE, so P can
 * be pinned with them in it. It reads vCPU 0's phase before each call; a
 * call begun in a phase must fail with -EFAULT, and one that returned 8
 * (written) is a violation: it wrote into the pinned L1 or the read-only page.
 * vCPU 0, each round: X -> P writable (flushing every vCPU) and waits for a
 * write; X unmapped with UVMF_NONE; pins P as an L1 (must succeed), reads it
 * through a read-only alias R, and sets phase P_PINNED for 20 calls of vCPU
 * 1 (P unchanged); unpins P; X -> A read-only (flushing), phase A_READONLY
 * for 20 calls (A unchanged); X -> P writable again.
 */
#include "evt/spin.h"
#include "pt.h"
#include "public/pvkit.h"

#define MS 1000000ULL
#define ROUNDS 100
#define CALLS 20
#define WAIT (5000 * MS)

static char pool[4][4096] __attribute__((aligned(4096)));
static volatile unsigned long written __attribute__((aligned(64)));
static volatile unsigned long faulted_in_phase __attribute__((aligned(64)));
static volatile unsigned long violations, other;
static volatile int phase __attribute__((aligned(64))); /* 0, or P_PINNED / A_READONLY */
static volatile int ap_ready, ap_stop, ap_stopped;

#define P_PINNED   1
#define A_READONLY 2
#define X ((unsigned long)pool[0])  /* the buffer's VA; its own frame is P */
#define R ((unsigned long)pool[1])  /* a read-only alias of P while it is pinned */
#define A pool[2]                   /* data mapped read-only at X */

/*
 * vCPU 1: reads its statistics into X until told to stop. A call that
 * began after vCPU 0 set a phase (the phase is read before the SYSCALL)
 * must not write; one that wrote is a violation.
 */
void evt_ap_main(unsigned long cpu)
{
    __atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&ap_stop, __ATOMIC_ACQUIRE)) {
        int ph = __atomic_load_n(&phase, __ATOMIC_SEQ_CST);
        long rc = hypercall3(__HYPERVISOR_pvkit_op, PVKIT_OP_get_own_stats, X, 8);
        if (rc == 8) {
            __atomic_add_fetch(&written, 1, __ATOMIC_SEQ_CST);
            if (ph)
                violations++;
        } else if (rc == -XEN_EFAULT) {
            if (ph)
                __atomic_add_fetch(&faulted_in_phase, 1, __ATOMIC_SEQ_CST);
        } else {
            other++;
        }
    }
    vcpu_park(cpu, &ap_stopped);
}

/* Waits up to WAIT for *COUNTER to pass FROM + N; 1 if it did. */
static int wait_calls(volatile unsigned long *counter, unsigned long from, unsigned long n)
{
    uint64_t end = evt_now() + WAIT;
    while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < from + n)
        if (evt_now() >= end)
            return 0;
    return 1;
}

/* Sets the phase and waits for CALLS calls of vCPU 1 begun in it; 1 if they came. */
static int calls_in_phase(int ph)
{
    unsigned long from = faulted_in_phase;
    __atomic_store_n(&phase, ph, __ATOMIC_SEQ_CST);
    int came = wait_calls(&faulted_in_phase, from, CALLS);
    __atomic_store_n(&phase, 0, __ATOMIC_SEQ_CST);
    return came;
}

/* True if N bytes at P all hold C. */
static int all_bytes(const volatile unsigned char *p, size_t n, unsigned char c)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != c)
            return 0;
    return 1;
}

/* One round; returns 0 if it held, else which step failed (1..). */
static int round_once(void)
{
    uint64_t p_pte = pt_pte(pool[0], PTE_DATA_RW);
    unsigned long p_mfn = pt_mfn_of(pool[0]);

    if (hyp_update_va_mapping(X, p_pte, UVMF_INVLPG | UVMF_ALL))
        return 1;
    if (!wait_calls(&written, written, 1))
        return 2;
    if (hyp_update_va_mapping(X, 0, UVMF_NONE))
        return 3;
    if (hyp_update_va_mapping(R, p_pte & ~(uint64_t)PTE_RW, UVMF_INVLPG))
        return 4;
    if (hyp_mmuext1(MMUEXT_PIN_L1_TABLE, p_mfn))
        return 5;
    uint64_t seen = *(volatile uint64_t *)R;
    int came = calls_in_phase(P_PINNED);
    int same = *(volatile uint64_t *)R == seen;
    if (hyp_mmuext1(MMUEXT_UNPIN_TABLE, p_mfn))
        return 6;
    if (hyp_update_va_mapping(R, pt_pte(pool[1], PTE_DATA_RW), UVMF_INVLPG))
        return 7;
    if (!came || !same)
        return came ? 8 : 9;
    memset(A, 0x5a, 4096);
    if (hyp_update_va_mapping(X, pt_pte(A, PTE_DATA_RO), UVMF_INVLPG | UVMF_ALL))
        return 10;
    if (!calls_in_phase(A_READONLY))
        return 11;
    if (!all_bytes((volatile unsigned char *)A, 4096, 0x5a))
        return 12;
    return hyp_update_va_mapping(X, p_pte, UVMF_INVLPG | UVMF_ALL) ? 13 : 0;
}

void test_main(void)
{
    int failed_at = 0, rounds = 0;

    if (!evt_setup("setup: vCPU 1 reads its statistics into X"))
        return;
    pt_pool_init(pool, 0);
    if (!EXPECT_EQ(evt_start_ap(1, &ap_ready), 0))
        return;

    TEST("X remapped under vCPU 1's pvkit_op: pinned L1 and read-only page never written");
    while (rounds < ROUNDS && !(failed_at = round_once()))
        rounds++;
    guest_printf("     %d rounds, stopped at step %d; vCPU 1: %lu written, %lu -EFAULT in a "
                 "phase, %lu written in a phase, %lu other\n", rounds, failed_at, written,
                 faulted_in_phase, violations, other);
    EXPECT_EQ(failed_at, 0);
    EXPECT_EQ(rounds, ROUNDS);
    EXPECT_EQ(violations, 0);
    EXPECT_EQ(other, 0);

    TEST("stop vCPU 1");
    stop_ap_expect(&ap_stop, &ap_stopped, 1);
}
