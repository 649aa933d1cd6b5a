/*
 * Event channels, time and vCPUs for the issue-4 test kernels (evt_*,
 * time_*, smp_*, sched_*, multi_*): typed wrappers for event_channel_op,
 * vcpu_op and set_timer_op, an event callback that follows the 2-level ABI
 * (vcpu_info upcall flags, the pending selector, the pending and mask
 * bitmaps in shared_info) and counts deliveries per port, a pvclock reader,
 * and stacks plus an entry stub for secondary vCPUs.
 *
 * Model: evt_init() maps shared_info (pt pool) and registers the event
 * callback on vCPU 0. The callback (evtentry.S -> evt_dispatch) runs with
 * events masked by the hypervisor, clears evtchn_upcall_pending, exchanges
 * evtchn_pending_sel with 0 and, for each pending and unmasked port that
 * evt_owner[] assigns to the current vCPU, clears the pending bit, counts
 * it in evt_count[port], notes the vCPU in evt_last_cpu[port] and calls
 * evt_hook if set; it returns with the iret hypercall, whose RFLAGS.IF
 * re-enables delivery. The current vCPU is found from the stack pointer
 * (vCPU 0 runs on the framework's stack, vCPU n > 0 on evt_stacks[n]), so
 * no segment base is needed. Only vCPU 0 may use the test framework's
 * EXPECT/printf (they are not SMP-safe); secondary vCPUs report through
 * variables.
 */
#ifndef GUEST_EVT_H
#define GUEST_EVT_H

#include "guest.h"
#include "hyp.h"
#include <xen/event_channel.h>
#include <xen/vcpu.h>

#define EVT_MAX_CPUS   8
#define EVT_NR_PORTS   4096
#define EVT_STACK_SIZE 16384

/* The mapped shared_info page (after evt_init). */
extern shared_info_t *evt_shared;
/* Deliveries seen by the callback, per port. */
extern volatile unsigned int evt_count[EVT_NR_PORTS];
/* The vCPU that handled the port last, per port. */
extern volatile unsigned char evt_last_cpu[EVT_NR_PORTS];
/* The vCPU whose callback handles the port (default 0). */
extern volatile unsigned char evt_owner[EVT_NR_PORTS];
/* Upcalls (callback entries) per vCPU. */
extern volatile unsigned long evt_upcalls[EVT_MAX_CPUS];
/* The bounce frame of the last upcall per vCPU, and the vCPU's
 * evtchn_upcall_mask as the callback found it. */
struct evt_frame { uint64_t rip, cs, rflags, rsp, ss; uint8_t mask; };
extern volatile struct evt_frame evt_last_frame[EVT_MAX_CPUS];
/* If set, called for each delivered port, on the handling vCPU. */
extern void (*volatile evt_hook)(unsigned int port, unsigned int cpu);
/* Stacks of vCPUs 1..EVT_MAX_CPUS-1 (index 0 unused). */
extern unsigned char evt_stacks[EVT_MAX_CPUS][EVT_STACK_SIZE];

/* Entry points (evtentry.S): the event callback, and a secondary vCPU's
 * first instruction (calls evt_ap_main(RDI) on its stack, which must not
 * return). */
extern char evt_callback_entry[], evt_ap_entry[];
void evt_ap_main(unsigned long cpu);

/* HYPERVISOR_event_channel_op(cmd, arg). */
static inline long hyp_evtchn_op(int cmd, void *arg)
{
    return hypercall3(__HYPERVISOR_event_channel_op, (unsigned long)cmd,
                      (unsigned long)arg, 0);
}

/* HYPERVISOR_vcpu_op(cmd, vcpu, arg). */
static inline long hyp_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
    return hypercall3(__HYPERVISOR_vcpu_op, (unsigned long)cmd, vcpu,
                      (unsigned long)arg);
}

/* HYPERVISOR_set_timer_op(absolute ns; 0 cancels). */
static inline long hyp_set_timer_op(uint64_t ns)
{
    return hypercall3(__HYPERVISOR_set_timer_op, ns, 0, 0);
}

/* Maps shared_info (pt pool of 4 pages owned here) and registers the event
 * callback on vCPU 0; returns 0 or the first failing call's result. */
long evt_init(void);

/* The calling vCPU's id (from its stack). */
unsigned int evt_cpu(void);

/* The vcpu_info the hypervisor uses for vCPU CPU (shared_info slot or the
 * area registered with evt_register_vcpu_info). */
vcpu_info_t *evt_vcpu_info(unsigned int cpu);

/* Registers the calling vCPU's event callback (callback_op). */
long evt_register_callback(void);

/* VCPUOP_register_vcpu_info for vCPU CPU with a static area; on success
 * evt_vcpu_info(CPU) points there. */
long evt_register_vcpu_info(unsigned int cpu);

/* Event channel operations; the ones that create a port return it
 * (>= 0) or -errno. */
long evt_alloc_unbound(domid_t remote);
long evt_bind_interdomain(domid_t remote, evtchn_port_t remote_port);
long evt_bind_virq(uint32_t virq, uint32_t vcpu);
long evt_bind_ipi(uint32_t vcpu);
long evt_send(evtchn_port_t port);
long evt_close(evtchn_port_t port);
long evt_unmask(evtchn_port_t port);
long evt_bind_vcpu(evtchn_port_t port, uint32_t vcpu);
/* EVTCHNOP_status of (DOM, PORT) into *OUT. */
long evt_status(domid_t dom, evtchn_port_t port, evtchn_status_t *out);

/* Direct bit operations on the shared bitmaps (atomic). */
void evt_mask(evtchn_port_t port);
void evt_clear_mask_bit(evtchn_port_t port);
int evt_is_pending(evtchn_port_t port);
int evt_is_masked(evtchn_port_t port);
void evt_clear_pending(evtchn_port_t port);

/* Sets / clears the calling vCPU's evtchn_upcall_mask; evt_enable then
 * forces delivery of anything pending (xen_version) as Linux does. */
void evt_disable(void);
void evt_enable(void);

/* System time in ns from the calling vCPU's pvclock (retries while the
 * version is odd or changes). */
uint64_t evt_now(void);
/* Raw rdtsc. */
uint64_t evt_rdtsc(void);

/* Binds VIRQ_TIMER on the calling vCPU (once) and returns its port or
 * -errno. */
long evt_timer_port(void);

/* Stops this vCPU's periodic timer and binds VIRQ_TIMER (evt_timer_port),
 * for kernels that arm the single-shot timer alone: two checks (the stop
 * returned 0, the port > 0). Returns the port or -errno. */
static inline long evt_timer_only(void)
{
    long port;

    EXPECT_EQ(hyp_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL), 0);
    port = evt_timer_port();
    EXPECT(port > 0);
    return port;
}

/*
 * Waits until evt_count[PORT] >= TARGET or TIMEOUT_NS elapsed: events
 * masked around the check, SCHEDOP_poll on PORT with the deadline as its
 * timeout, then unmasked so the callback handles what arrived (no timer of
 * ours is touched). Returns 1 if the count was reached, 0 on timeout.
 * Leaves events enabled.
 */
int evt_wait(evtchn_port_t port, unsigned int target, uint64_t timeout_ns);

/*
 * Like evt_wait but sleeps with SCHEDOP_block, the single-shot timer
 * (VIRQ_TIMER, evt_timer_port() must have succeeded) armed at the deadline
 * and stopped afterwards; PORT must not be the timer port. Counts the
 * blocks in *BLOCKS if not NULL.
 */
int evt_block_until(evtchn_port_t port, unsigned int target, uint64_t timeout_ns,
                    unsigned long *blocks);

/* Fills CTX for a secondary vCPU CPU entering evt_ap_entry with RDI = CPU,
 * on evt_stacks[CPU], on our current L4, with our callbacks. */
void evt_ap_context(struct vcpu_guest_context *ctx, unsigned int cpu);

/*
 * Sleeps until DEADLINE (system time): arms vCPU 0's single-shot timer and
 * blocks (SCHEDOP_block, events enabled) until an event arrives on TPORT,
 * the timer's VIRQ port.
 */
static inline void evt_sleep_until(long tport, uint64_t deadline)
{
    unsigned int c = evt_count[tport];
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = deadline };

    hyp_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t);
    while (evt_count[tport] == c) {
        evt_disable();
        if (evt_count[tport] == c)
            hyp_sched_op(SCHEDOP_block, NULL);
        evt_enable();
    }
}

/* Starts a kernel's first group NAME with evt_init (one check); 1 if
 * shared_info is mapped (evt_shared), else 0 and the kernel cannot go on. */
static inline int evt_setup(const char *name)
{
    TEST(name);
    EXPECT_EQ(evt_init(), 0);
    return evt_shared != NULL;
}

/* evt_setup(NAME), then evt_timer_only: the port of VIRQ_TIMER with the
 * periodic timer stopped, or <= 0 if the kernel cannot go on. */
static inline long evt_setup_timer(const char *name)
{
    return evt_setup(name) ? evt_timer_only() : 0;
}

/* Yields for MS milliseconds. */
void evt_sleep_ms(uint64_t ms);

/* Waits (yielding) until *FLAG is set or TIMEOUT_NS has passed; 1 if set. */
int evt_wait_flag(volatile int *flag, uint64_t timeout_ns);

/* Brings up secondary vCPU CPU with upcalls masked, entering
 * evt_ap_main(CPU) (evt_ap_context), and waits up to 5 s for it to set
 * *READY. 0 once it has; else the failing vcpu_op's -errno, or
 * -XEN_ETIMEDOUT. */
int evt_start_ap(unsigned int cpu, volatile int *ready);

/* Parses "KEY=<decimal>" from our command line; DEF if absent. */
long evt_cmdline_num(const char *key, long def);

#endif
