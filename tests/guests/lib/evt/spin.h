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

/*
 * Posts command number ++*SEQ in *CMD for the other vCPU and spins until it
 * acknowledges that number in *ACK or TIMEOUT_NS passes; 1 if it did.
 */
static inline int post_and_wait(unsigned long *seq, volatile unsigned long *cmd,
                                volatile unsigned long *ack, uint64_t timeout_ns)
{
    ++*seq;
    __atomic_store_n(cmd, *seq, __ATOMIC_RELEASE);
    return spin_for(ack, *seq, timeout_ns);
}

/*
 * The other side of post_and_wait: spins until *CMD differs from SEQ (the
 * last command taken; commands are numbered from 1) and returns the new
 * number, or returns 0 once *QUIT is set.
 */
static inline unsigned long wait_cmd(unsigned long seq, volatile unsigned long *cmd,
                                     volatile int *quit)
{
    unsigned long s;

    while ((s = __atomic_load_n(cmd, __ATOMIC_ACQUIRE)) == seq) {
        if (__atomic_load_n(quit, __ATOMIC_ACQUIRE))
            return 0;
        cpu_relax();
    }
    return s;
}

/* Sets *STOPPED and takes this vCPU (number CPU) down for good. */
static inline __attribute__((noreturn)) void vcpu_park(unsigned long cpu, volatile int *stopped)
{
    __atomic_store_n(stopped, 1, __ATOMIC_SEQ_CST);
    for (;;)
        hyp_vcpu_op(VCPUOP_down, (unsigned int)cpu, NULL);
}

/*
 * Tells vCPU CPU to stop (*QUIT = 1) and checks, 5 s at most each, that it
 * set *STOPPED (vcpu_park) and that it is down (VCPUOP_is_up 0): two checks.
 */
static inline void stop_ap_expect(volatile int *quit, volatile int *stopped, unsigned int cpu)
{
    __atomic_store_n(quit, 1, __ATOMIC_SEQ_CST);
    EXPECT(evt_wait_flag(stopped, 5000 * 1000000ULL));
    uint64_t end = evt_now() + 5000 * 1000000ULL;
    while (hyp_vcpu_op(VCPUOP_is_up, cpu, NULL) != 0 && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, cpu, NULL), 0);
}

/*
 * Checks that COUNTED, the rounds in which vCPU 1 was seen running
 * alongside, reached WANT; says why that may fail if not. One check.
 */
static inline void expect_rounds(unsigned int counted, unsigned int want)
{
    if (counted < want)
        guest_printf("     too few rounds with vCPU 1 seen running alongside vCPU 0: no "
                     "parallel vCPUs (or a host too busy to run both QEMU vCPU threads)?\n");
    EXPECT_EQ(counted, want);
}

/*
 * Watches *COUNTER (bumped by another vCPU) for up to MAX ns until it has
 * been seen moving within WINDOW WANT times: the other vCPU runs alongside
 * this one. Prints how long that took, or how often it was seen, and
 * returns 1 if seen WANT times, else 0. On one physical CPU it never is
 * (this vCPU would have to be descheduled and back within WINDOW while the
 * other burns a whole slice); on a busy host it may take a while.
 */
static inline int seen_alongside(const volatile unsigned long *counter, uint64_t window,
                                 unsigned int want, uint64_t max)
{
    uint64_t start = evt_now();
    unsigned int stalls = 0, seen = 0;

    while (evt_now() - start < max) {
        if (!counter_moves(counter, window)) {
            stalls++;
        } else if (++seen == want) {
            guest_printf("     vCPU 1 seen running alongside vCPU 0 after %lu us "
                         "(%u stalls of its heartbeat first)\n",
                         (unsigned long)((evt_now() - start) / 1000), stalls);
            return 1;
        }
    }
    guest_printf("     vCPU 1 seen running alongside vCPU 0 only %u times in %lu ms "
                 "(%u stalls of its heartbeat): no parallel vCPUs (or a host too busy "
                 "to run both QEMU vCPU threads)?\n", seen,
                 (unsigned long)(max / 1000000), stalls);
    return 0;
}

/* Time vCPU CPU has spent runnable (waiting for a physical CPU), in us; 0 if unknown. */
static inline unsigned long runnable_us(unsigned int cpu)
{
    struct vcpu_runstate_info info;

    if (hyp_vcpu_op(VCPUOP_get_runstate_info, cpu, &info))
        return 0;
    return (unsigned long)(info.time[RUNSTATE_runnable] / 1000);
}

#endif
