/*
 * bench_evt.h: event-channel helpers shared by bench_evt and bench_pingpong
 * (make bench-hv): a loopback port pair to oneself whose second end echoes
 * every event back from the event callback, and the timed loopback round
 * trip (send on A -> upcall on B sends on B -> upcall on A counted).
 */
#ifndef BENCH_EVT_H
#define BENCH_EVT_H
#include "bench_common.h"
#include "evt/evt.h"

static evtchn_port_t bench_lb_a, bench_lb_b;

/* Echoes events arriving on the loopback's B end back to A. */
static void bench_lb_hook(unsigned int port, unsigned int cpu)
{
    (void)cpu;
    if (port == bench_lb_b)
        evt_send(bench_lb_b);
}

/* Creates the loopback pair (bind-time pending bits cleared); 0 or -errno. */
static inline long bench_lb_setup(void)
{
    long a, b;

    evt_disable();
    a = evt_alloc_unbound(DOMID_SELF);
    b = a > 0 ? evt_bind_interdomain(DOMID_SELF, (evtchn_port_t)a) : a;
    if (b > 0) {
        bench_lb_a = (evtchn_port_t)a;
        bench_lb_b = (evtchn_port_t)b;
        evt_clear_pending(bench_lb_a);
        evt_clear_pending(bench_lb_b);
        evt_hook = bench_lb_hook;
    }
    evt_enable();
    return b > 0 ? 0 : b;
}

/* N loopback round trips; total cycles, or 0 if one did not come back. */
static inline uint64_t bench_lb_run(unsigned long n)
{
    uint64_t t0 = bench_rdtsc();

    for (unsigned long i = 0; i < n; i++) {
        unsigned int want = evt_count[bench_lb_a] + 1;
        unsigned long spins = 0;

        evt_send(bench_lb_a);
        while (evt_count[bench_lb_a] < want)
            if (++spins > 100000000UL)
                return 0;
    }
    return bench_rdtsc() - t0;
}
#endif
