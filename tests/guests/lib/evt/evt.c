/*
 * Event channels, pvclock time and secondary-vCPU support for the issue-4
 * test kernels; see evt.h for the model. Written from the public headers
 * (xen/event_channel.h, xen/vcpu.h, xen/xen.h) and the ABI notes in
 * docs/linux-pv-interface.md §5, not from any other implementation.
 */
#include "evt.h"
#include "pt.h"
#include <xen/callback.h>

shared_info_t *evt_shared;
volatile unsigned int evt_count[EVT_NR_PORTS];
volatile unsigned char evt_last_cpu[EVT_NR_PORTS];
volatile unsigned char evt_owner[EVT_NR_PORTS];
volatile unsigned long evt_upcalls[EVT_MAX_CPUS];
volatile struct evt_frame evt_last_frame[EVT_MAX_CPUS];
void (*volatile evt_hook)(unsigned int port, unsigned int cpu);
unsigned char evt_stacks[EVT_MAX_CPUS][EVT_STACK_SIZE] __attribute__((aligned(4096)));

static unsigned char evt_pool[4][4096] __attribute__((aligned(4096)));
/* Registered vcpu_info areas, one per vCPU, each 64-byte aligned in one page. */
static vcpu_info_t evt_vi_area[EVT_MAX_CPUS] __attribute__((aligned(4096)));
static vcpu_info_t *evt_vi[EVT_MAX_CPUS];
static volatile long evt_timer[EVT_MAX_CPUS];

#define BITS_PER_WORD (8 * sizeof(xen_ulong_t))

unsigned int evt_cpu(void)
{
    unsigned long sp = (unsigned long)__builtin_frame_address(0);
    unsigned long base = (unsigned long)evt_stacks;

    if (sp > base && sp <= base + sizeof(evt_stacks))
        return (unsigned int)((sp - base - 1) / EVT_STACK_SIZE);
    return 0;
}

vcpu_info_t *evt_vcpu_info(unsigned int cpu)
{
    if (cpu < EVT_MAX_CPUS && evt_vi[cpu])
        return evt_vi[cpu];
    return &evt_shared->vcpu_info[cpu];
}

long evt_register_callback(void)
{
    struct callback_register cb = {
        .type = CALLBACKTYPE_event,
        .address = (unsigned long)evt_callback_entry,
    };

    return hyp_callback_op(CALLBACKOP_register, &cb);
}

long evt_init(void)
{
    pt_pool_init(evt_pool, 4);
    evt_shared = pt_map_shared_info();
    if (!evt_shared)
        return -XEN_EFAULT;
    return evt_register_callback();
}

long evt_register_vcpu_info(unsigned int cpu)
{
    vcpu_info_t *area = &evt_vi_area[cpu];
    struct vcpu_register_vcpu_info r = {
        .mfn = pt_mfn_of(area),
        .offset = (uint32_t)((unsigned long)area & 4095),
    };
    vcpu_info_t *old;
    uint8_t was_masked;
    long rc;

    if (cpu >= EVT_MAX_CPUS)
        return -XEN_EINVAL;
    /*
     * Events stay masked until evt_vi points at the new area: an upcall in
     * between would have the callback clear the old area's flags while the
     * new one stays pending, and every iret would re-enter it.
     */
    old = evt_vcpu_info(cpu);
    was_masked = __atomic_exchange_n(&old->evtchn_upcall_mask, 1, __ATOMIC_SEQ_CST);
    rc = hyp_vcpu_op(VCPUOP_register_vcpu_info, cpu, &r);
    if (rc == 0)
        evt_vi[cpu] = area; /* the hypervisor copied the old contents, mask included */
    __atomic_store_n(&evt_vcpu_info(cpu)->evtchn_upcall_mask, was_masked, __ATOMIC_SEQ_CST);
    if (!was_masked && evt_vcpu_info(cpu)->evtchn_upcall_pending)
        hyp_xen_version(XENVER_version, NULL); /* a hypercall's return delivers it */
    return rc;
}

long evt_alloc_unbound(domid_t remote)
{
    struct evtchn_alloc_unbound op = { .dom = DOMID_SELF, .remote_dom = remote };
    long rc = hyp_evtchn_op(EVTCHNOP_alloc_unbound, &op);

    return rc ? rc : (long)op.port;
}

long evt_bind_interdomain(domid_t remote, evtchn_port_t remote_port)
{
    struct evtchn_bind_interdomain op = { .remote_dom = remote, .remote_port = remote_port };
    long rc = hyp_evtchn_op(EVTCHNOP_bind_interdomain, &op);

    return rc ? rc : (long)op.local_port;
}

long evt_bind_virq(uint32_t virq, uint32_t vcpu)
{
    struct evtchn_bind_virq op = { .virq = virq, .vcpu = vcpu };
    long rc = hyp_evtchn_op(EVTCHNOP_bind_virq, &op);

    return rc ? rc : (long)op.port;
}

long evt_bind_ipi(uint32_t vcpu)
{
    struct evtchn_bind_ipi op = { .vcpu = vcpu };
    long rc = hyp_evtchn_op(EVTCHNOP_bind_ipi, &op);

    return rc ? rc : (long)op.port;
}

long evt_send(evtchn_port_t port)
{
    struct evtchn_send op = { .port = port };

    return hyp_evtchn_op(EVTCHNOP_send, &op);
}

long evt_close(evtchn_port_t port)
{
    struct evtchn_close op = { .port = port };

    return hyp_evtchn_op(EVTCHNOP_close, &op);
}

long evt_unmask(evtchn_port_t port)
{
    struct evtchn_unmask op = { .port = port };

    return hyp_evtchn_op(EVTCHNOP_unmask, &op);
}

long evt_bind_vcpu(evtchn_port_t port, uint32_t vcpu)
{
    struct evtchn_bind_vcpu op = { .port = port, .vcpu = vcpu };

    return hyp_evtchn_op(EVTCHNOP_bind_vcpu, &op);
}

long evt_status(domid_t dom, evtchn_port_t port, evtchn_status_t *out)
{
    memset(out, 0, sizeof(*out));
    out->dom = dom;
    out->port = port;
    return hyp_evtchn_op(EVTCHNOP_status, out);
}

void evt_mask(evtchn_port_t port)
{
    __atomic_fetch_or(&evt_shared->evtchn_mask[port / BITS_PER_WORD],
                      1UL << (port % BITS_PER_WORD), __ATOMIC_SEQ_CST);
}

void evt_clear_mask_bit(evtchn_port_t port)
{
    __atomic_fetch_and(&evt_shared->evtchn_mask[port / BITS_PER_WORD],
                       ~(1UL << (port % BITS_PER_WORD)), __ATOMIC_SEQ_CST);
}

int evt_is_pending(evtchn_port_t port)
{
    return (int)((__atomic_load_n(&evt_shared->evtchn_pending[port / BITS_PER_WORD],
                                  __ATOMIC_SEQ_CST) >> (port % BITS_PER_WORD)) & 1);
}

int evt_is_masked(evtchn_port_t port)
{
    return (int)((__atomic_load_n(&evt_shared->evtchn_mask[port / BITS_PER_WORD],
                                  __ATOMIC_SEQ_CST) >> (port % BITS_PER_WORD)) & 1);
}

void evt_clear_pending(evtchn_port_t port)
{
    __atomic_fetch_and(&evt_shared->evtchn_pending[port / BITS_PER_WORD],
                       ~(1UL << (port % BITS_PER_WORD)), __ATOMIC_SEQ_CST);
}

void evt_disable(void)
{
    evt_vcpu_info(evt_cpu())->evtchn_upcall_mask = 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void evt_enable(void)
{
    vcpu_info_t *vi = evt_vcpu_info(evt_cpu());

    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    vi->evtchn_upcall_mask = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vi->evtchn_upcall_pending)
        hyp_xen_version(XENVER_version, NULL);  /* any hypercall delivers */
}

/* Handles the pending, unmasked ports owned by CPU in selector word W. */
static void dispatch_word(unsigned int cpu, unsigned int w)
{
    xen_ulong_t bits = __atomic_load_n(&evt_shared->evtchn_pending[w], __ATOMIC_SEQ_CST) &
                       ~__atomic_load_n(&evt_shared->evtchn_mask[w], __ATOMIC_SEQ_CST);

    while (bits) {
        unsigned int b = (unsigned int)__builtin_ctzl(bits);
        evtchn_port_t port = w * BITS_PER_WORD + b;

        bits &= bits - 1;
        if (evt_owner[port] != cpu)
            continue;
        evt_clear_pending(port);
        evt_last_cpu[port] = (unsigned char)cpu;
        __atomic_fetch_add(&evt_count[port], 1, __ATOMIC_SEQ_CST);
        if (evt_hook)
            evt_hook(port, cpu);
    }
}

/* C side of evt_callback_entry: one upcall. REGS points at the 10 saved
 * registers (R11 first, RAX last), followed by the frame's RIP..SS. */
void evt_dispatch(const uint64_t *regs);
void evt_dispatch(const uint64_t *regs)
{
    unsigned int cpu = evt_cpu();
    vcpu_info_t *vi = evt_vcpu_info(cpu);
    volatile struct evt_frame *f = &evt_last_frame[cpu];

    f->rip = regs[10];
    f->cs = regs[11];
    f->rflags = regs[12];
    f->rsp = regs[13];
    f->ss = regs[14];
    f->mask = vi->evtchn_upcall_mask;
    evt_upcalls[cpu]++;
    do {
        vi->evtchn_upcall_pending = 0;
        xen_ulong_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);

        while (sel) {
            unsigned int w = (unsigned int)__builtin_ctzl(sel);

            sel &= sel - 1;
            dispatch_word(cpu, w);
        }
    } while (__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
}

uint64_t evt_rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
    return ((uint64_t)hi << 32) | lo;
}

uint64_t evt_now(void)
{
    const volatile struct vcpu_time_info *t = &evt_vcpu_info(evt_cpu())->time;
    uint32_t ver;
    uint64_t ns;

    do {
        ver = t->version;
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        uint64_t delta = evt_rdtsc() - t->tsc_timestamp;
        int8_t shift = t->tsc_shift;

        if (shift >= 0)
            delta <<= shift;
        else
            delta >>= -shift;
        ns = t->system_time + (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    } while ((ver & 1) || ver != t->version);
    return ns;
}

long evt_timer_port(void)
{
    unsigned int cpu = evt_cpu();

    if (!evt_timer[cpu]) {
        long p = evt_bind_virq(VIRQ_TIMER, cpu);

        if (p <= 0)
            return p ? p : -XEN_EINVAL;
        evt_owner[p] = (unsigned char)cpu;
        evt_timer[cpu] = p;
    }
    return evt_timer[cpu];
}

int evt_wait(evtchn_port_t port, unsigned int target, uint64_t timeout_ns)
{
    uint64_t deadline = evt_now() + timeout_ns;
    struct sched_poll p = { .nr_ports = 1, .timeout = deadline };
    int reached;

    set_xen_guest_handle(p.ports, &port);
    for (;;) {
        evt_disable();
        reached = evt_count[port] >= target;
        if (reached || evt_now() >= deadline)
            break;
        hyp_sched_op(SCHEDOP_poll, &p);     /* keeps events masked */
        evt_enable();                       /* delivers what poll saw */
    }
    evt_enable();
    return reached;
}

int evt_block_until(evtchn_port_t port, unsigned int target, uint64_t timeout_ns,
                    unsigned long *blocks)
{
    uint64_t deadline = evt_now() + timeout_ns;
    struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = deadline };
    unsigned int cpu = evt_cpu();
    int reached;

    hyp_vcpu_op(VCPUOP_set_singleshot_timer, cpu, &t);
    for (;;) {
        evt_disable();
        reached = evt_count[port] >= target;
        if (reached || evt_now() >= deadline)
            break;
        if (blocks)
            (*blocks)++;
        hyp_sched_op(SCHEDOP_block, NULL);  /* unmasks; the upcall runs on return */
    }
    evt_enable();
    hyp_vcpu_op(VCPUOP_stop_singleshot_timer, cpu, NULL);
    return reached;
}

void evt_ap_context(struct vcpu_guest_context *ctx, unsigned int cpu)
{
    unsigned long top = (unsigned long)evt_stacks[cpu] + EVT_STACK_SIZE;

    memset(ctx, 0, sizeof(*ctx));
    ctx->flags = VGCF_in_kernel;
    ctx->user_regs.rip = (unsigned long)evt_ap_entry;
    ctx->user_regs.rsp = top;
    ctx->user_regs.rdi = cpu;
    ctx->user_regs.cs = FLAT_KERNEL_CS;
    ctx->user_regs.ss = FLAT_KERNEL_SS;
    ctx->user_regs.ds = ctx->user_regs.es = FLAT_KERNEL_DS;
    ctx->user_regs.rflags = 0x200;
    ctx->kernel_ss = FLAT_KERNEL_SS;
    ctx->kernel_sp = top;
    ctx->ctrlreg[3] = xen_pfn_to_cr3(pt_cur_l4_mfn);
    ctx->event_callback_eip = (unsigned long)evt_callback_entry;
}

void evt_sleep_ms(uint64_t ms)
{
    uint64_t end = evt_now() + ms * 1000000ULL;

    while (evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
}

int evt_wait_flag(volatile int *flag, uint64_t timeout_ns)
{
    uint64_t end = evt_now() + timeout_ns;

    while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE) && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    return __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
}

int evt_start_ap(unsigned int cpu, volatile int *ready)
{
    static struct vcpu_guest_context ctx; /* copied by VCPUOP_initialise */
    long rc;

    evt_shared->vcpu_info[cpu].evtchn_upcall_mask = 1;
    evt_ap_context(&ctx, cpu);
    rc = hyp_vcpu_op(VCPUOP_initialise, cpu, &ctx);
    if (!rc)
        rc = hyp_vcpu_op(VCPUOP_up, cpu, NULL);
    if (rc)
        return (int)rc;
    return evt_wait_flag(ready, 5000 * 1000000ULL) ? 0 : -XEN_ETIMEDOUT;
}

long evt_cmdline_num(const char *key, long def)
{
    const char *s = (const char *)guest_start_info->cmd_line;
    size_t klen = guest_strlen(key);

    for (const char *p = s; *p; p++) {
        if ((p == s || p[-1] == ' ') && !guest_strncmp(p, key, klen) && p[klen] == '=') {
            long v = 0;

            for (p += klen + 1; *p >= '0' && *p <= '9'; p++)
                v = v * 10 + (*p - '0');
            return v;
        }
    }
    return def;
}

/* A kernel that starts no secondary vCPU need not define evt_ap_main. */
__attribute__((weak)) void evt_ap_main(unsigned long cpu)
{
    (void)cpu;
    for (;;)
        hyp_vcpu_op(VCPUOP_down, evt_cpu(), NULL);
}
