/*
 * Stall probes for the smp_* kernels that check that a long hypercall on
 * one vCPU holds up no other: vCPU 1 runs the operations vCPU 0 posts
 * (stall_worker), while vCPU 0 issues null hypercalls (xen_version 0) and
 * measures with its pvclock the largest gap between two that completed
 * (stall_probe). Invariant: one operation is posted at a time, and only
 * vCPU 0 calls stall_probe (it uses the test framework).
 */
#ifndef GUEST_EVT_STALL_H
#define GUEST_EVT_STALL_H

#include "evt.h"

#define STALL_BOUND_NS   (750 * 1000000ULL)    /* the largest gap allowed */
#define STALL_TIMEOUT_NS (120000 * 1000000ULL) /* an operation that never ends */

/* Set by stall_worker once it is ready to take operations. */
extern volatile int stall_ready;

/* vCPU 1's loop: runs RUN_OP(kind) for each operation kind (nonzero) that
 * vCPU 0 posts and reports its result. Never returns. */
void stall_worker(long (*run_op)(int kind));

/* The start of a stall kernel's test_main: evt_init (one check), then, if
 * shared_info is mapped, SETUP (which starts stall_worker on vCPU 1).
 * Returns 1 if the worker is ready. */
static inline int stall_start(void (*setup)(void))
{
    EXPECT_EQ(evt_init(), 0);
    if (!evt_shared)
        return 0;
    setup();
    return stall_ready;
}

/* Posts operation KIND (nonzero) to the worker and issues null hypercalls
 * until it finishes or STALL_TIMEOUT_NS passes; prints WHAT with the time,
 * result, call count and largest gap, and checks that every call succeeded,
 * the operation finished and the largest gap stayed under STALL_BOUND_NS.
 * Returns the operation's result. */
long stall_probe(int kind, const char *what);

#endif
