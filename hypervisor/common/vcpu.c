/*
 * Per-vCPU services: vcpu_op, guest timers, time information, runstate,
 * blocking.
 *
 * Time: each vCPU's vcpu_info carries pvclock parameters (version-protected:
 * odd while we write), refreshed whenever the vCPU starts running or asks.
 * Timers: each vCPU has one single-shot deadline and an optional period,
 * served by the APIC timer of the CPU it last ran on (vcpu.cpu): each CPU's
 * timer is armed for the earliest deadline it serves (its vCPUs' timers, its
 * time slice, on CPU 0 the console poll). Any CPU's timer interrupt fires
 * every expired vCPU timer (VIRQ_TIMER). Blocking itself is the scheduler's
 * (common/schedule.c).
 */
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/smp.h"
#include "pvkit/time.h"
#include "pvkit/timer_calc.h"
#include "pvkit/traps.h"
#include "pvkit/x86.h"

static void publish_runstate(struct vcpu *v);

void update_vcpu_time(struct vcpu *v)
{
    publish_runstate(v);
    struct vcpu_time_info *t;
    uint32_t mul;
    int8_t shift;

    if (!v->vcpu_info)
        return;
    t = &v->vcpu_info->time;
    time_scale(&mul, &shift);
    t->version++;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    t->tsc_timestamp = rdtsc();
    t->system_time = system_time_ns();
    t->tsc_to_system_mul = mul;
    t->tsc_shift = shift;
    t->flags = XEN_PVCLOCK_TSC_STABLE_BIT;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    t->version++;
}

/* Writes the runstate to the guest's registered copy (if it can be reached). */
static void publish_runstate(struct vcpu *v)
{
    if (v->runstate_va && v == current_vcpu())
        copy_to_guest(v->runstate_va, &v->runstate, sizeof(v->runstate));
}

void vcpu_set_runstate(struct vcpu *v, int state)
{
    uint64_t now = system_time_ns();
    v->runstate.time[v->runstate.state] += now - v->runstate.state_entry_time;
    v->runstate.state = state;
    v->runstate.state_entry_time = now;
    publish_runstate(v);
}

uint64_t vcpu_running_time(const struct vcpu *v)
{
    uint64_t t = v->runstate.time[RUNSTATE_running];
    if (v->runstate.state == RUNSTATE_running)
        t += system_time_ns() - v->runstate.state_entry_time;
    return t;
}

/* --- timers --------------------------------------------------------------- */

/* When CPU 0 next polls the serial console (system time ns); hypervisor lock. */
static uint64_t next_console_poll;

/*
 * The earliest deadline CPU `cpu` serves: its scheduler's, the timers of the
 * vCPUs that last ran there, and (CPU 0) the console poll.
 */
static uint64_t earliest_deadline(unsigned int cpu)
{
    uint64_t next = schedule_next_deadline(cpu);
    if (cpu == 0) {
        if (!next_console_poll)
            next_console_poll = system_time_ns() + CONSOLE_POLL_NS;
        if (!next || next_console_poll < next)
            next = next_console_poll;
    }
    struct domain *d;

    for_each_domain(d, slot) {
        if (d->state != DOMAIN_RUNNING)
            continue;
        for (unsigned int i = 0; i < d->nr_vcpus; i++) {
            if (d->vcpus[i].cpu != cpu)
                continue;
            uint64_t t = d->vcpus[i].timer_deadline, p = d->vcpus[i].periodic_next;
            if (t && (!next || t < next))
                next = t;
            if (p && (!next || p < next))
                next = p;
        }
    }
    return next;
}

/* Programs this CPU's timer and remembers the deadline (0: disarmed). */
static void program_timer(struct percpu *pc, uint64_t deadline)
{
    pc->timer_armed = deadline;
    timer_program(deadline);
}

/*
 * A deadline that is not earlier than the one armed is left to the armed
 * one: it fires first, and timer_interrupt re-arms from scratch. So moving
 * a deadline later (a new time slice, a stopped timer) costs no timer write,
 * at the price of at most one early interrupt.
 */
void rearm_hardware_timer(void)
{
    struct percpu *pc = this_cpu();
    uint64_t next = earliest_deadline(pc->id);
    if (pc->timer_armed && (!next || next >= pc->timer_armed))
        return;
    program_timer(pc, next);
}

void idle_once(uint64_t until_ns)
{
    struct percpu *pc = this_cpu();
    uint64_t next = earliest_deadline(pc->id);
    if (until_ns && (!next || until_ns < next))
        next = until_ns;
    program_timer(pc, next);
    uint64_t start = system_time_ns();
    pc->in_idle = true;
    hv_unlock();
    __asm__ volatile("sti; hlt; cli" ::: "memory");
    hv_lock();
    pc->in_idle = false;
    serve_flush_request(); /* left for us while we were halted */
    cpu_stat_add(&pc->stats.idle_ns, system_time_ns() - start);
    if (__atomic_load_n(&pc->timer_pending, __ATOMIC_RELAXED)) {
        __atomic_store_n(&pc->timer_pending, false, __ATOMIC_RELAXED);
        timer_interrupt();
    }
}

static void fire_vcpu_timers(struct vcpu *v, uint64_t now)
{
    bool fire = false;
    if (v->timer_deadline && v->timer_deadline <= now) {
        v->timer_deadline = 0;
        fire = true;
    }
    if (v->periodic_next && v->periodic_next <= now) {
        v->periodic_next = periodic_next_after(v->periodic_next, v->timer_period, now);
        fire = true;
    }
    if (fire) {
        v->domain->event_stats.timer_fires++;
        send_virq(v, VIRQ_TIMER);
    }
}

void timer_interrupt(void)
{
    uint64_t now = system_time_ns();
    this_cpu()->timer_armed = 0; /* it fired: re-armed below from scratch */
    schedule_tick(now);
    if (this_cpu_id() == 0 && now >= next_console_poll) {
        console_poll();
        next_console_poll = now + CONSOLE_POLL_NS;
    }
    struct domain *d;

    for_each_domain(d, slot) {
        if (d->state != DOMAIN_RUNNING)
            continue;
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            fire_vcpu_timers(&d->vcpus[i], now);
    }
    rearm_hardware_timer();
}

/*
 * Arms the vCPU's single-shot timer (0 disarms). Deadlines are signed system
 * times, as in Xen: one in the past (including "negative" ones such as ~0)
 * fires at once.
 */
static long set_singleshot(struct vcpu *v, uint64_t timeout_ns, bool future_only)
{
    bool past = deadline_is_past(timeout_ns, system_time_ns());

    if (future_only && past)
        return -XEN_ETIME;
    v->timer_deadline = 0;
    if (timeout_ns && past)
        send_virq(v, VIRQ_TIMER);
    else if (timeout_ns)
        v->timer_deadline = timeout_ns;
    rearm_hardware_timer();
    return 0;
}

/* set_timer_op: the single-shot timer, with Xen's treatment of huge deadlines. */
long do_set_timer_op(struct vcpu *v, const uint64_t args[5])
{
    uint64_t timeout = args[0];
    return set_singleshot(v, timeout ? timer_op_deadline(timeout, system_time_ns()) : 0, false);
}

/* --- runstate on switches ------------------------------------------------ */

void vcpu_switch_runstate(struct vcpu *prev, struct vcpu *next)
{
    if (prev && prev->domain->state == DOMAIN_RUNNING)
        vcpu_set_runstate(prev, prev->state == VCPU_BLOCKED ? RUNSTATE_blocked :
                           prev->state == VCPU_DOWN ? RUNSTATE_offline : RUNSTATE_runnable);
    next->runstate.time[next->runstate.state] += system_time_ns() -
                                                 next->runstate.state_entry_time;
    next->runstate.state = RUNSTATE_running;
    next->runstate.state_entry_time = system_time_ns();
    /* Published once next's page tables are live (context_restore -> update). */
}

/* --- vcpu_op --------------------------------------------------------------- */

static long register_vcpu_info(struct vcpu *v, struct vcpu *target, uint64_t arg)
{
    struct vcpu_register_vcpu_info info;

    if (copy_from_guest(&info, arg, sizeof(info)))
        return -XEN_EFAULT;
    if (target->vcpu_info_registered)
        return -XEN_EINVAL;
    if (info.rsvd)
        return -XEN_EINVAL;
    if (info.offset > PAGE_SIZE - sizeof(struct vcpu_info))
        return -XEN_ENXIO; /* as Xen: the area would cross the page end */
    if (get_page_and_type(v->domain, info.mfn, FRAME_TYPE_WRITABLE))
        return -XEN_EINVAL;
    struct vcpu_info *new_info = (struct vcpu_info *)((uint8_t *)frame_page(info.mfn) +
                                                      info.offset);
    if (target->vcpu_info)
        memcpy(new_info, target->vcpu_info, sizeof(*new_info));
    __atomic_store_n(&target->vcpu_info, new_info, __ATOMIC_RELEASE); /* kicks read it unlocked */
    target->vcpu_info_registered = true;
    /* Have the guest rescan every selector: events may have moved with us. */
    new_info->evtchn_pending_sel = ~0ull;
    new_info->evtchn_upcall_pending = 1;
    update_vcpu_time(target);
    return 0;
}

static long register_runstate(struct vcpu *target, uint64_t arg)
{
    struct vcpu_register_runstate_memory_area area;
    if (copy_from_guest(&area, arg, sizeof(area)))
        return -XEN_EFAULT;
    if (area.addr.v && !guest_range_ok(area.addr.p, sizeof(struct vcpu_runstate_info)))
        return -XEN_EINVAL;
    target->runstate_va = area.addr.p;
    publish_runstate(target);
    return 0;
}

/*
 * VCPUOP_initialise: the complete context a vCPU starts from (Linux fills it
 * in smp_pv.c:cpu_initialize_context). Page tables and GDT are validated and
 * referenced like NEW_BASEPTR and set_gdt; on any failure nothing changes.
 */
static struct vcpu_guest_context init_ctx;   /* scratch of one call; hypervisor lock */

static void set_callback_from_ctx(struct guest_callback *cb, uint64_t address)
{
    cb->address = address;
    cb->mask_events = true;
}

/* A callback address in a context: 0 (none) or a guest address. */
static bool callback_ok(uint64_t address)
{
    return address == 0 || guest_range_ok(address, 1);
}

/* Every address in a context the hardware would load or the guest jump to. */
static bool context_addresses_ok(const struct vcpu_guest_context *c)
{
    if (!guest_range_ok(c->user_regs.rip, 1) || !guest_range_ok(c->kernel_sp, 1) ||
        !is_canonical(c->user_regs.rsp) || !is_canonical(c->fs_base) ||
        !is_canonical(c->gs_base_kernel) || !is_canonical(c->gs_base_user) ||
        !callback_ok(c->event_callback_eip) || !callback_ok(c->failsafe_callback_eip) ||
        !callback_ok(c->syscall_callback_eip))
        return false;
    for (unsigned int i = 0; i < 256; i++)
        if (!callback_ok(c->trap_ctxt[i].address))
            return false;
    return true;
}

/*
 * The kernel L4's references for VCPUOP_initialise: carried over if a
 * re-issued call validated it already (v->init_l4_hold), else taken now (a
 * hold for another L4 is dropped). 0 or -errno as get_page_and_type.
 */
static int get_init_l4(struct vcpu *v, uint64_t l4)
{
    uint64_t held = v->init_l4_hold;

    v->init_l4_hold = 0;
    if (held == l4)
        return 0;
    if (held)
        put_page_and_type(v->domain, held);
    return get_page_and_type(v->domain, l4, FRAME_TYPE_L4);
}

/*
 * Validating new page tables may take several pieces (-XEN_ERESTART): the
 * call is then re-issued with the same arguments; a kernel L4 validated
 * before the user L4 ran out of budget is kept meanwhile (init_l4_hold).
 */
static long vcpu_initialise(struct vcpu *v, const uint64_t args[5])
{
    struct vcpu_guest_context *c = &init_ctx;
    struct domain *d = v->domain;
    int rc;

    if (v->initialised)
        return -XEN_EEXIST;
    if (copy_from_guest(c, args[2], sizeof(*c)))
        return -XEN_EFAULT;
    uint64_t l4 = xen_cr3_to_pfn(c->ctrlreg[3]), user_l4 = xen_cr3_to_pfn(c->ctrlreg[1]);
    if (c->gdt_ents > FIRST_RESERVED_GDT_ENTRY || c->ldt_ents || !context_addresses_ok(c))
        return -XEN_EINVAL;
    if ((rc = get_init_l4(v, l4)))
        return rc == -XEN_ERESTART ? hypercall_continue(__HYPERVISOR_vcpu_op, args) : -XEN_EINVAL;
    if (user_l4 && (rc = get_page_and_type(d, user_l4, FRAME_TYPE_L4))) {
        if (rc == -XEN_ERESTART) {
            v->init_l4_hold = l4;
            return hypercall_continue(__HYPERVISOR_vcpu_op, args);
        }
        put_page_and_type(d, l4);
        return -XEN_EINVAL;
    }
    if (vcpu_set_gdt(v, c->gdt_frames, c->gdt_ents)) {
        put_page_and_type(d, l4);
        if (user_l4)
            put_page_and_type(d, user_l4);
        return -XEN_EINVAL;
    }
    const struct cpu_user_regs *u = &c->user_regs;
    v->regs = (struct cpu_regs){
        .r15 = u->r15, .r14 = u->r14, .r13 = u->r13, .r12 = u->r12, .rbp = u->rbp,
        .rbx = u->rbx, .r11 = u->r11, .r10 = u->r10, .r9 = u->r9, .r8 = u->r8,
        .rax = u->rax, .rcx = u->rcx, .rdx = u->rdx, .rsi = u->rsi, .rdi = u->rdi,
        .rip = u->rip, .cs = u->cs | 3u, .rflags = u->rflags, .rsp = u->rsp, .ss = u->ss | 3u,
    };
    v->sel_ds = u->ds;
    v->sel_es = u->es;
    v->sel_fs = u->fs;
    v->sel_gs = u->gs;
    v->iopl = (unsigned int)((u->rflags >> 12) & 3);
    v->kernel_l4_mfn = l4;
    v->user_l4_mfn = user_l4;
    v->in_kernel = true; /* 64-bit PV vCPUs start in kernel mode (VGCF_in_kernel) */
    for (unsigned int i = 0; i < 256; i++)
        v->trap_table[i] = c->trap_ctxt[i];
    v->kernel_ss = c->kernel_ss | 3;
    v->kernel_sp = c->kernel_sp;
    set_callback_from_ctx(&v->event_cb, c->event_callback_eip);
    set_callback_from_ctx(&v->failsafe_cb, c->failsafe_callback_eip);
    set_callback_from_ctx(&v->syscall_cb, c->syscall_callback_eip);
    v->syscall_cb.mask_events = !!(c->flags & VGCF_syscall_disables_events);
    v->fs_base = c->fs_base;
    v->gs_base_kernel = c->gs_base_kernel;
    v->gs_base_user = c->gs_base_user;
    fpu_init_state(v);
    v->initialised = true;
    return 0;
}

long do_vcpu_op(struct vcpu *v, const uint64_t args[5])
{
    uint64_t cmd = args[0], vcpuid = args[1], arg = args[2];
    struct domain *d = v->domain;

    if (vcpuid >= d->nr_vcpus)
        return -XEN_ENOENT;
    struct vcpu *target = &d->vcpus[vcpuid];
    switch (cmd) {
    case VCPUOP_is_up:
        return target->state != VCPU_DOWN;
    case VCPUOP_initialise:
        return vcpu_initialise(target, args);
    case VCPUOP_up:
        if (!target->initialised)
            return -XEN_EINVAL;
        if (target->state == VCPU_DOWN)
            vcpu_make_runnable(target);
        return 0;
    case VCPUOP_down:
        vcpu_set_state(target, VCPU_DOWN);
        vcpu_force_reschedule(target);
        return 0;
    case VCPUOP_register_vcpu_info:
        return register_vcpu_info(v, target, arg);
    case VCPUOP_register_runstate_memory_area:
        return register_runstate(target, arg);
    case VCPUOP_get_runstate_info:
        return copy_to_guest(arg, &target->runstate, sizeof(target->runstate));
    case VCPUOP_set_singleshot_timer: {
        struct vcpu_set_singleshot_timer t;
        if (target != v)
            return -XEN_EINVAL;
        if (copy_from_guest(&t, arg, sizeof(t)))
            return -XEN_EFAULT;
        return set_singleshot(v, t.timeout_abs_ns, t.flags & VCPU_SSHOTTMR_future);
    }
    case VCPUOP_stop_singleshot_timer:
        if (target != v)
            return -XEN_EINVAL;
        v->timer_deadline = 0;
        rearm_hardware_timer();
        return 0;
    case VCPUOP_set_periodic_timer: {
        struct vcpu_set_periodic_timer p;
        if (target != v)
            return -XEN_EINVAL;
        if (copy_from_guest(&p, arg, sizeof(p)))
            return -XEN_EFAULT;
        if (p.period_ns < TIMER_PERIOD_MIN_NS || p.period_ns > TIMER_PERIOD_MAX_NS)
            return -XEN_EINVAL;
        v->timer_period = p.period_ns;
        v->periodic_next = time_add_sat(system_time_ns(), p.period_ns);
        rearm_hardware_timer();
        return 0;
    }
    case VCPUOP_stop_periodic_timer:
        if (target != v)
            return -XEN_EINVAL;
        v->timer_period = v->periodic_next = 0;
        rearm_hardware_timer();
        return 0;
    default:
        return -XEN_ENOSYS;
    }
}
