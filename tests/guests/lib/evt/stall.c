/*
 * Stall probes (stall.h): the worker loop for vCPU 1 and the measuring
 * loop for vCPU 0. The handshake is three flags: vCPU 0 clears
 * op_started/op_finished and posts op_kind; the worker sets op_started,
 * runs the operation, stores op_rc and sets op_finished; vCPU 0 then
 * withdraws op_kind, so the worker never runs an operation twice.
 */
#include "stall.h"

volatile int stall_ready;
static volatile int op_kind, op_started, op_finished;
static volatile long op_rc;

void stall_worker(long (*run_op)(int kind))
{
    __atomic_store_n(&stall_ready, 1, __ATOMIC_SEQ_CST);
    for (;;) {
        int kind = __atomic_load_n(&op_kind, __ATOMIC_ACQUIRE);

        if (kind == 0 || op_started) {
            __asm__ volatile("pause" ::: "memory");
            continue;
        }
        __atomic_store_n(&op_started, 1, __ATOMIC_SEQ_CST);
        op_rc = run_op(kind);
        __atomic_store_n(&op_finished, 1, __ATOMIC_SEQ_CST);
    }
}

long stall_probe(int kind, const char *what)
{
    uint64_t start, prev, now, gap, stall = 0;
    unsigned long calls = 0, bad = 0;

    op_started = op_finished = 0;
    __atomic_store_n(&op_kind, kind, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&op_started, __ATOMIC_ACQUIRE))
        __asm__ volatile("pause" ::: "memory");
    start = prev = evt_now();
    do {
        bad += hyp_xen_version(XENVER_version, NULL) <= 0;
        now = evt_now();
        gap = now - prev;
        stall = gap > stall ? gap : stall;
        prev = now;
        calls++;
    } while (!__atomic_load_n(&op_finished, __ATOMIC_ACQUIRE) && now - start < STALL_TIMEOUT_NS);
    __atomic_store_n(&op_kind, 0, __ATOMIC_SEQ_CST);
    guest_printf("     %s: %lu ms, rc %ld; vCPU 0 made %lu hypercalls meanwhile, "
                 "largest stall %lu us\n", what, (unsigned long)((now - start) / 1000000),
                 op_rc, calls, (unsigned long)(stall / 1000));
    EXPECT_EQ(bad, 0);
    EXPECT(op_finished);
    EXPECT(stall < STALL_BOUND_NS);
    return op_rc;
}
