/*
 * Spinning on shared memory without a hypercall, for the smp_* kernels
 * whose vCPUs talk through memory while both run: a pause hint, a bounded
 * wait for a value, and whether another vCPU's counter is moving (it is
 * running right now). Times are pvclock system time (evt_now).
 */
#ifndef GUEST_EVT_SPIN_H
#define GUEST_EVT_SPIN_H

#include "evt.h"

/* The spin-loop hint (PAUSE); also a compiler barrier. */
static inline void cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

/* Spins until *V == WANT or TIMEOUT_NS passes (no hypercall); 1 if reached. */
static inline int spin_for(volatile unsigned long *v, unsigned long want, uint64_t timeout_ns)
{
    uint64_t end = evt_now() + timeout_ns;

    while (__atomic_load_n(v, __ATOMIC_ACQUIRE) != want) {
        if (evt_now() >= end)
            return 0;
        cpu_relax();
    }
    return 1;
}

/* 1 if *COUNTER (bumped by another vCPU) moves within WINDOW ns of system time. */
static inline int counter_moves(const volatile unsigned long *counter, uint64_t window)
{
    unsigned long h = *counter;
    uint64_t t0 = evt_now();

    for (;;) {
        int moved = *counter != h;
        uint64_t t = evt_now();

        if (moved)
            return t - t0 < window;
        if (t - t0 >= window)
            return 0;
        cpu_relax();
    }
}

#endif
