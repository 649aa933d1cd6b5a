/*
 * smp_stats_remap (run with --vcpus 2; pvkit only): pvkit_op's
 * PVKIT_OP_get_own_stats called on vCPU 1 over and over while vCPU 0
 * remaps the buffer under it. The hypervisor writes the statistics through
 * vCPU 1's own translations, so it must never write a frame vCPU 1 may not
 * write: not one that vCPU 0 has meanwhile made a pinned L1 (removing the
 * writable mapping with UVMF_NONE, so vCPU 1's TLB may still hold it), nor
 * one the buffer now maps read-only.
 *
 * vCPU 1 loops over pvkit_op(X, 8) and counts its results: written (8),
 * -EFAULT, anything else. The 8 bytes are hypercalls[0] (set_trap_table),
 * made even at the start and not called again: a not-present PTE with no
 * address, which an L1 may hold, so P can be pinned with them in it. A
 * write that returned 8 after the pin would have gone into the L1.
 * vCPU 0, each round: X -> P writable (flushing every vCPU) and waits for a
 * write; X unmapped with UVMF_NONE; pins P as an L1 (must succeed) and
 * reads it through a read-only alias R; waits for 20 more calls of vCPU 1:
 * none written, P unchanged. Unpins P; X -> A read-only (flushing): 20 more
 * calls, none written, A unchanged. Then X -> P writable again.
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
static volatile unsigned long faulted __attribute__((aligned(64)));
static volatile unsigned long other __attribute__((aligned(64)));
static volatile int ap_ready, ap_stop, ap_stopped;

#define X ((unsigned long)pool[0])  /* the buffer's VA; its own frame is P */
#define R ((unsigned long)pool[1])  /* a read-only alias of P while it is pinned */
#define A pool[2]                   /* data mapped read-only at X */

/* vCPU 1: reads its statistics into X until told to stop. */
void evt_ap_main(unsigned long cpu)
{
    __atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&ap_stop, __ATOMIC_ACQUIRE)) {
        long rc = hypercall3(__HYPERVISOR_pvkit_op, PVKIT_OP_get_own_stats, X, 8);
        if (rc == 8)
            __atomic_add_fetch(&written, 1, __ATOMIC_SEQ_CST);
        else if (rc == -XEN_EFAULT)
            __atomic_add_fetch(&faulted, 1, __ATOMIC_SEQ_CST);
        else
            __atomic_add_fetch(&other, 1, __ATOMIC_SEQ_CST);
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

/* Makes hypercalls[0] (set_trap_table) even: one -EFAULT call if it is odd. */
static void even_first_counter(void)
{
    static struct pvkit_domain_stats s;
    hypercall3(__HYPERVISOR_pvkit_op, PVKIT_OP_get_own_stats, (unsigned long)&s, sizeof(s));
    if (s.hypercalls[0] & 1)
        hyp_set_trap_table((const struct trap_info *)0xFFFF830000000000UL);
}

/* One round; returns 0 if it held, else which step failed (1..). */
static int round_once(void)
{
    uint64_t p_pte = pt_pte(pool[0], PTE_DATA_RW);
    unsigned long w;

    if (hyp_update_va_mapping(X, p_pte, UVMF_INVLPG | UVMF_ALL))
        return 1;
    if (!wait_calls(&written, written, 1))
        return 2;
    if (hyp_update_va_mapping(X, 0, UVMF_NONE))
        return 3;
    if (hyp_update_va_mapping(R, p_pte & ~(uint64_t)PTE_RW, UVMF_INVLPG))
        return 4;
    long pin = hyp_mmuext1(MMUEXT_PIN_L1_TABLE, pt_mfn_of(pool[0]));
    uint64_t seen = *(volatile uint64_t *)R;
    w = written;
    int held = pin == 0 && wait_calls(&faulted, faulted, CALLS) && written == w &&
               *(volatile uint64_t *)R == seen;
    if (pin == 0 && hyp_mmuext1(MMUEXT_UNPIN_TABLE, pt_mfn_of(pool[0])))
        return 5;
    if (hyp_update_va_mapping(R, pt_pte(pool[1], PTE_DATA_RW), UVMF_INVLPG))
        return 6;
    if (!held)
        return pin ? 7 : 8;
    memset(A, 0x5a, 4096);
    if (hyp_update_va_mapping(X, pt_pte(A, PTE_DATA_RO), UVMF_INVLPG | UVMF_ALL))
        return 9;
    w = written;
    if (!wait_calls(&faulted, faulted, CALLS) || written != w)
        return 10;
    for (int i = 0; i < 4096; i++)
        if (((volatile unsigned char *)A)[i] != 0x5a)
            return 11;
    return hyp_update_va_mapping(X, p_pte, UVMF_INVLPG | UVMF_ALL) ? 12 : 0;
}

void test_main(void)
{
    int failed_at = 0, rounds = 0;

    if (!evt_setup("setup: vCPU 1 reads its statistics into X"))
        return;
    pt_pool_init(pool, 0);
    even_first_counter();
    if (!EXPECT_EQ(evt_start_ap(1, &ap_ready), 0))
        return;

    TEST("X remapped under vCPU 1's pvkit_op: pinned L1 and read-only page never written");
    while (rounds < ROUNDS && !(failed_at = round_once()))
        rounds++;
    guest_printf("     %d rounds, stopped at step %d; vCPU 1: %lu written, %lu -EFAULT, "
                 "%lu other\n", rounds, failed_at, written, faulted, other);
    EXPECT_EQ(failed_at, 0);
    EXPECT_EQ(rounds, ROUNDS);
    EXPECT_EQ(other, 0);

    TEST("stop vCPU 1");
    stop_ap_expect(&ap_stop, &ap_stopped, 1);
}
