/*
 * Per-vCPU services: vcpu_op, time information, runstate.
 *
 * Time: each vCPU's vcpu_info carries pvclock parameters (version-protected:
 * odd while we write), refreshed whenever the vCPU starts running or asks.
 * Runstate: the time each vCPU spent running, runnable, blocked and
 * offline, accounted at every change and published to the guest's
 * registered copy while the vCPU is current (its page tables are live).
 * Guest timers are common/timer.c's, blocking the scheduler's
 * (common/schedule.c). Everything here runs with the hypervisor lock held.
 */
#include "pvkit/vcpu.h"
#include "pvkit/context.h"
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "pvkit/mm.h"
#include "pvkit/npt.h"
#include "pvkit/pagetype.h"
#include "pvkit/pv_cpu.h"
#include "pvkit/sched.h"
#include "pvkit/time.h"
#include "pvkit/timer.h"
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

/* --- runstate on switches ------------------------------------------------ */

/* As Xen: blocked if it waits for an event, offline if down or paused, else runnable. */
static int stopped_runstate(const struct vcpu *v)
{
    if (v->state == VCPU_BLOCKED)
        return RUNSTATE_blocked;
    if (v->state == VCPU_DOWN || v->domain->paused)
        return RUNSTATE_offline;
    return RUNSTATE_runnable;
}

void vcpu_stop_running(struct vcpu *v)
{
    if (v->runstate.state == RUNSTATE_running && v->domain->state != DOMAIN_DYING)
        vcpu_set_runstate(v, stopped_runstate(v));
}

void vcpu_refresh_runstate(struct vcpu *v)
{
    if (v->runstate.state == RUNSTATE_running || v->domain->state == DOMAIN_DYING)
        return;
    int state = stopped_runstate(v);
    if (state != v->runstate.state)
        vcpu_set_runstate(v, state);
}

void vcpu_switch_runstate(struct vcpu *prev, struct vcpu *next)
{
    if (prev)
        vcpu_stop_running(prev);
    /* One clock read: what the old state gets is exactly the new one's start.
     * next is not current yet: published once its page tables are live
     * (context_restore -> update_vcpu_time). */
    vcpu_set_runstate(next, RUNSTATE_running);
}

/* --- vcpu_op --------------------------------------------------------------- */

/*
 * The page a vcpu_info is registered in: for a PV domain its frame `frame`,
 * for a PVH domain the frame at guest-physical page `frame`; kept a plain
 * writable page for good (a reference never dropped until the domain is
 * destroyed, so neither decrease_reservation nor a retype can take it).
 * NULL if there is no such page.
 */
static void *vcpu_info_page(struct domain *d, uint64_t frame)
{
    int64_t mfn = is_pvh(d) ? npt_lookup(d, frame) : (int64_t)frame;
    if (mfn < 0 || get_page_and_type(d, (uint64_t)mfn, FRAME_TYPE_WRITABLE))
        return NULL;
    return frame_page((uint64_t)mfn);
}

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
    void *page = vcpu_info_page(v->domain, info.mfn);
    if (!page)
        return -XEN_EINVAL;
    struct vcpu_info *new_info = (struct vcpu_info *)((uint8_t *)page + info.offset);
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
    case VCPUOP_initialise:     /* a PV context: a PVH vCPU starts through its local APIC (INIT, Startup IPI) */
        return is_pvh(d) ? -XEN_ENOSYS : vcpu_initialise(target, args);
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
    case VCPUOP_set_singleshot_timer:
    case VCPUOP_stop_singleshot_timer:
    case VCPUOP_set_periodic_timer:
    case VCPUOP_stop_periodic_timer:
        return target == v ? vcpu_timer_op(v, cmd, arg) : -XEN_EINVAL;
    default:
        return -XEN_ENOSYS;
    }
}
