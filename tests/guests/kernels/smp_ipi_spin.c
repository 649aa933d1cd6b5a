/*
 * smp_ipi_spin (run with --vcpus 2): an event sent to a vCPU that is
 * running guest code on another physical CPU, with events unmasked, is
 * delivered at once: the hypervisor must interrupt (kick) that CPU rather
 * than let the event wait for the target's next hypercall, timer tick or
 * time slice. Linux's IPIs (reschedule, call-function, TLB shootdown in
 * the guest) depend on it. smp_vcpus and multi_smp only send to vCPUs that
 * are blocked (SCHEDOP_block) or yielding, where a wake-up or the next
 * hypercall delivers the event; sched_fair's spinner gets one event.
 *
 * Phase A: vCPU 1 registers its vcpu_info and event callback, binds an IPI
 * port to itself, unmasks events and enters spin_while() below: a loop of
 * plain instructions (heartbeat increment, PAUSE, flag test, RDTSC against
 * a safety deadline) with no hypercall, so it is never blocked. Up to IPIS
 * times, vCPU 0 waits until vCPU 1's heartbeat moves within WINDOW (vCPU 1
 * is spinning right now; if it moved only later the send is put off and it
 * looks again), sends on the port and spins until the callback on vCPU 1
 * has counted the event: the time from just before the send to seeing the
 * count is the latency. Phase B: the same with the roles swapped, vCPU 0
 * spinning in spin_while() with events unmasked and vCPU 1 sending and
 * measuring (with its own pvclock).
 *
 * Checks, per direction: every event delivered, on the target vCPU, none
 * lost (LOST); every upcall interrupted the target inside spin_while() (the
 * bounce frame's RIP), so it was running guest code, not blocked or in a
 * hypercall; IPIS sends (or at least MIN_SAMPLES if BUDGET ran out because
 * the target was seldom seen running); median latency below MEDIAN_BOUND;
 * at most 5% of the deliveries over BOUND. A median and an allowance rather
 * than a hard maximum because under QEMU TCG the host may deschedule a
 * vCPU thread for several ms at any moment, which the guest cannot tell
 * from a slow hypervisor. Mean, median, 99th percentile and maximum are
 * printed.
 *
 * How it fails: on a hypervisor that time-slices both vCPUs on one
 * physical CPU the target is never seen running while the sender is
 * (NONE_BUDGET, no sends); one that marks the event pending without
 * kicking the remote CPU delivers at the target's next timer interrupt
 * (median of half a tick: a 1 ms tick already fails MEDIAN_BOUND) or never
 * (LOST). A direction stops early once more than 5% of IPIS were over
 * BOUND. A host too busy to run QEMU's two vCPU threads at the same time
 * also fails it, with "hardly ever seen running alongside".
 */
#include "evt/evt.h"

#define MS 1000000ULL
#define US 1000ULL
#define IPIS 1000
#define BOUND (5 * MS)
#define MEDIAN_BOUND (250 * US)
#define MIN_SAMPLES 200         /* judged sends needed if BUDGET runs out first */
#define GIVE_UP (IPIS / 20 + 1) /* deliveries over BOUND: more than 5% of IPIS */
#define LOST (1000 * MS)
#define WINDOW (200 * US)       /* target's heartbeat must move this soon before a send */
#define BUDGET (20000 * MS)     /* per direction */
#define NONE_BUDGET (5000 * MS) /* ... if the target is never seen running */

enum { PHASE_SETUP, PHASE_A, PHASE_B, PHASE_DONE };

static volatile int phase __attribute__((aligned(64)));
static volatile unsigned long hb0 __attribute__((aligned(64)));
static volatile unsigned long hb1 __attribute__((aligned(64)));
static volatile long port1, ap_rc_vi, ap_rc_cb;
static evtchn_port_t port0;
static volatile int ap_ready, ap_spun_out;
static volatile unsigned int in_spin[2], out_spin[2];

/* One direction's measurements; B's are filled in by vCPU 1. */
struct run {
    uint64_t lat[IPIS];
    unsigned int n, lost, over, not_running;
    int target_gone, out_of_time;
};
static struct run run_a, run_b;

/*
 * int spin_while(volatile int *flag, int value, volatile unsigned long *hb,
 *                uint64_t tsc_deadline)
 * Spins while *flag == value, incrementing *hb, with PAUSE; returns 1 when
 * the flag changed, 0 if the TSC passed the deadline first. No calls, no
 * hypercalls: an upcall can only interrupt it between instructions (the
 * callback preserves every register).
 */
int spin_while(volatile int *flag, int value, volatile unsigned long *hb, uint64_t deadline);
extern char spin_while_end[];
__asm__(
    "    .pushsection .text\n"
    "    .globl spin_while\n"
    "spin_while:\n"
    "    mov %rdx, %r9\n"
    "    mov %rcx, %r8\n"
    "1:  incq (%r9)\n"
    "    pause\n"
    "    cmpl %esi, (%rdi)\n"
    "    jne 2f\n"
    "    rdtsc\n"
    "    shl $32, %rdx\n"
    "    or %rdx, %rax\n"
    "    cmp %r8, %rax\n"
    "    jb 1b\n"
    "    xor %eax, %eax\n"
    "    ret\n"
    "2:  mov $1, %eax\n"
    "    ret\n"
    "    .globl spin_while_end\n"
    "spin_while_end:\n"
    "    .popsection\n");

/* The TSC value NS nanoseconds from now, from the calling vCPU's pvclock
 * scale (64-bit arithmetic only; a safety deadline need not be exact). */
static uint64_t tsc_after(uint64_t ns)
{
    const volatile struct vcpu_time_info *t = &evt_vcpu_info(evt_cpu())->time;
    uint64_t mul = t->tsc_to_system_mul, ticks;
    int shift = t->tsc_shift;

    if (!mul)
        return ~0UL;
    ticks = ((ns / mul) << 32) + (((ns % mul) << 32) / mul);
    ticks = shift >= 0 ? ticks >> shift : ticks << -shift;
    return evt_rdtsc() + ticks;
}

/* Per delivered event: did the upcall interrupt spin_while()? */
static void on_event(unsigned int port, unsigned int cpu)
{
    uint64_t rip = evt_last_frame[cpu].rip;

    (void)port;
    if (cpu > 1)
        return;
    if (rip >= (uint64_t)spin_while && rip < (uint64_t)spin_while_end)
        in_spin[cpu]++;
    else
        out_spin[cpu]++;
}

/* Waits until *HB moves: 1 if within WINDOW, 0 if later, -1 if not within LOST. */
static int wait_running(volatile unsigned long *hb)
{
    unsigned long h = *hb;
    uint64_t t0 = evt_now(), t;

    for (;;) {
        int moved = *hb != h;

        t = evt_now();
        if (moved)
            return t - t0 < WINDOW;
        if (t - t0 >= LOST)
            return -1;
        __asm__ volatile("pause" ::: "memory");
    }
}

/* Sends IPIS events on PORT to the vCPU whose heartbeat is HB, one at a time,
 * each after the previous was counted and only while the target is seen
 * running (else it waits and looks again); fills R. Stops at BUDGET. */
static void measure(struct run *r, evtchn_port_t port, volatile unsigned long *hb)
{
    uint64_t start = evt_now();

    for (r->n = 0; r->n < IPIS; ) {
        int running = wait_running(hb);
        unsigned int c = evt_count[port];
        uint64_t t0, t;

        if (running < 0) {
            r->target_gone = 1;
            return;
        }
        if (evt_now() - start > (r->n ? BUDGET : NONE_BUDGET)) {
            r->out_of_time = 1;
            return;
        }
        if (!running) {
            r->not_running++;
            continue;
        }
        t0 = evt_now();
        evt_send(port);
        do {
            __asm__ volatile("pause" ::: "memory");
            t = evt_now();
        } while (__atomic_load_n(&evt_count[port], __ATOMIC_ACQUIRE) == c && t - t0 < LOST);
        if (evt_count[port] == c) {
            r->lost++;
            return;
        }
        r->lat[r->n++] = t - t0;
        if (t - t0 > BOUND && ++r->over >= GIVE_UP)
            return;
    }
}

/* vCPU 1: events on, spins through phase A, measures phase B, goes down. */
void evt_ap_main(unsigned long cpu)
{
    long p;

    ap_rc_vi = evt_register_vcpu_info((unsigned int)cpu);
    evt_vcpu_info((unsigned int)cpu)->evtchn_upcall_mask = 1;
    ap_rc_cb = evt_register_callback();
    p = evt_bind_ipi((uint32_t)cpu);
    if (p > 0)
        evt_owner[p] = (unsigned char)cpu;
    port1 = p;
    __atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
    evt_enable();
    if (!spin_while(&phase, PHASE_SETUP, &hb1, tsc_after(60000 * MS)) ||
        !spin_while(&phase, PHASE_A, &hb1, tsc_after(60000 * MS)))
        ap_spun_out = 1;
    evt_disable();
    if (phase == PHASE_B)
        measure(&run_b, port0, &hb0);
    __atomic_store_n(&phase, PHASE_DONE, __ATOMIC_SEQ_CST);
    for (;;)
        hyp_vcpu_op(VCPUOP_down, (unsigned int)cpu, NULL);
}

/* Prints R's latency statistics and judges them. */
static void judge(const char *dir, struct run *r, unsigned int target)
{
    uint64_t sum = 0;

    /* Insertion sort: IPIS is small. */
    for (unsigned int i = 1; i < r->n; i++) {
        uint64_t v = r->lat[i];
        unsigned int j = i;

        for (; j > 0 && r->lat[j - 1] > v; j--)
            r->lat[j] = r->lat[j - 1];
        r->lat[j] = v;
    }
    for (unsigned int i = 0; i < r->n; i++)
        sum += r->lat[i];
    if (r->n) {
        guest_printf("     %s: %u events, latency mean %lu us, median %lu us, 99%% %lu us, "
                     "max %lu us; %u over %lu ms\n", dir, r->n,
                     (unsigned long)(sum / r->n / 1000), (unsigned long)(r->lat[r->n / 2] / 1000),
                     (unsigned long)(r->lat[r->n * 99 / 100] / 1000),
                     (unsigned long)(r->lat[r->n - 1] / 1000), r->over, (unsigned long)(BOUND / MS));
    }
    guest_printf("     %s: %u times the target was not seen running (heartbeat still for "
                 "%lu us) and the send was put off\n", dir, r->not_running,
                 (unsigned long)(WINDOW / US));
    if (r->out_of_time)
        guest_printf("     %s: out of time with %u sends: the target was %s\n", dir, r->n,
                     r->n >= MIN_SAMPLES ? "not often seen running alongside" :
                     "hardly ever seen running alongside (no parallel vCPUs?)");
    if (r->over >= GIVE_UP)
        guest_printf("     %s: gave up after %u deliveries over %lu ms: no kick to a "
                     "running vCPU?\n", dir, r->over, (unsigned long)(BOUND / MS));
    guest_printf("     upcalls on vCPU %u: %u inside the spin loop, %u elsewhere\n", target,
                 in_spin[target], out_spin[target]);
    EXPECT_EQ(r->target_gone, 0);
    EXPECT_EQ(r->lost, 0);
    EXPECT(r->n >= (r->out_of_time ? MIN_SAMPLES : IPIS));
    EXPECT(r->over * 20 <= r->n);                   /* at most 5% over BOUND */
    EXPECT(r->n && r->lat[r->n / 2] < MEDIAN_BOUND);
    EXPECT_EQ(in_spin[target], r->n);
    EXPECT_EQ(out_spin[target], 0);
}

void test_main(void)
{
    uint64_t end;

    if (!evt_setup("setup: vCPU 1 up with its own vcpu_info, callback and IPI port"))
        return;
    long p = evt_bind_ipi(0);
    EXPECT(p > 0);
    if (p <= 0)
        return;
    port0 = (evtchn_port_t)p;
    evt_hook = on_event;
    if (!EXPECT_EQ(evt_start_ap(1, &ap_ready), 0))
        return;
    EXPECT_EQ(ap_rc_vi, 0);
    EXPECT_EQ(ap_rc_cb, 0);
    EXPECT(port1 > 0);
    if (port1 <= 0)
        return;

    TEST("A: 1000 IPIs from vCPU 0 to vCPU 1 spinning with events unmasked");
    __atomic_store_n(&phase, PHASE_A, __ATOMIC_SEQ_CST);
    measure(&run_a, (evtchn_port_t)port1, &hb1);
    if (run_a.n)
        EXPECT_EQ(evt_last_cpu[port1], 1);
    judge("vCPU 0 -> vCPU 1", &run_a, 1);
    EXPECT_EQ(ap_spun_out, 0);

    TEST("B: 1000 IPIs from vCPU 1 to vCPU 0 spinning with events unmasked");
    __atomic_store_n(&phase, PHASE_B, __ATOMIC_SEQ_CST);
    evt_enable();
    EXPECT(spin_while(&phase, PHASE_B, &hb0, tsc_after(60000 * MS)));
    evt_disable();
    if (run_b.n)
        EXPECT_EQ(evt_last_cpu[port0], 0);
    judge("vCPU 1 -> vCPU 0", &run_b, 0);

    TEST("vCPU 1 goes down");
    end = evt_now() + 5000 * MS;
    while (hyp_vcpu_op(VCPUOP_is_up, 1, NULL) != 0 && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
}
