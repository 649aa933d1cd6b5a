/*
 * The guest entry/exit cycle, C side: what arch/x86/entry.S calls when the
 * CPU comes in from a guest (SYSCALL, exception, interrupt) or from the
 * hypervisor itself, and the preparation of the way back out. Read with
 * entry.S: one pass through this file is one trip into the hypervisor.
 *
 *   guest --SYSCALL--> syscall_entry --> handle_syscall --> do_hypercall
 *                                         (lock taken)      (or a bounce to
 *                                                            the guest's
 *                                                            syscall callback)
 *   guest --exception/interrupt--> exception_common --> handle_exception
 *                                         (lock taken)  --> guest_exception
 *                                                           (traps.c) or the
 *                                                           timer's work
 *   exit_to_guest --> prepare_exit_to_guest: schedule, deliver a due event,
 *                     sanitise the frame, drop the lock --> SYSRETQ or IRETQ
 *                     (a PVH vCPU: VMRUN in arch/x86/svm.c, whose exit
 *                     comes back here through the same path)
 *
 * Invariants: every entry from a guest takes the hypervisor lock
 * (pvkit/smp.h) before it reads or writes hypervisor state, and the exit
 * path drops it as its last step, so the hypervisor runs on one CPU at a
 * time. The one exception is a kick with nothing to do but a TLB flush,
 * served without the lock (kick_served_without_lock), which reads only
 * fields written atomically. The guest's registers live in
 * cpu_info.guest_regs from entry to exit, whichever vCPU the scheduler
 * picks meanwhile. A guest never runs with its own IOPL, NT or VM flag, with
 * interrupts off, or with a ring-0 CS or SS.
 */
#include "pvkit/entry.h"
#include "pvkit/hypercall.h"
#include "pvkit/ldt.h"
#include "pvkit/sched.h"
#include "pvkit/svm.h"
#include "pvkit/smp.h"
#include "pvkit/time.h"
#include "pvkit/timer.h"
#include "pvkit/traps.h"
#include "pvkit/x86.h"

/* --- the way in ---------------------------------------------------------- */

/*
 * A hardware interrupt. From a guest (lock held) the timer's work runs now;
 * a kick needs nothing more than the exit path it leads to. In the
 * hypervisor, interrupts are on only in the idle halt, without the lock: the
 * idle loop runs the timer's work once it has the lock again.
 */
static void handle_interrupt(unsigned int vector, bool from_guest)
{
    if (vector == SPURIOUS_VECTOR)
        return;
    apic_eoi();
    if (vector != TIMER_VECTOR)
        return;
    if (from_guest)
        timer_interrupt(false);
    else
        __atomic_store_n(&this_cpu()->timer_pending, true, __ATOMIC_RELAXED);
}

/*
 * A kick that only asked for a TLB flush (or found its work already done)
 * is served without the lock: flush, and straight back to the guest if it
 * has nothing to schedule or deliver. Reading that state without the lock is
 * safe: whoever changes it kicks this CPU again afterwards. Every field read
 * here is written atomically by lock holders and read atomically here
 * (need_resched, vcpu.state, domain.state, vcpu.vcpu_info, the event bits).
 */
static bool kick_served_without_lock(void)
{
    const struct vcpu *v = current_vcpu();
    serve_flush_request();
    return !cpu_need_resched(this_cpu()) && v && vcpu_state(v) == VCPU_RUNNABLE &&
           domain_state(v->domain) == DOMAIN_RUNNING && !vcpu_event_pending(v);
}

bool handle_exception(struct cpu_regs *regs)
{
    bool from_guest = regs->cs & 3;

    /*
     * NMI, #DF and #MC arrive on IST stacks, where neither the per-CPU data
     * nor the exit path can be found: none is expected, each is fatal.
     */
    if (regs->vector == 2 || regs->vector == 8 || regs->vector == 18) {
        dump_regs(LOG_ERR, "(pvkit)", regs);
        panic("%s (%s)", exception_name(regs->vector), from_guest ? "guest" : "hypervisor");
    }
    if (regs->vector >= 32 && regs->vector < 256) {
        if (from_guest && regs->vector == KICK_VECTOR && kick_served_without_lock()) {
            apic_eoi();
            return true;
        }
        if (from_guest)
            hv_lock();
        handle_interrupt(regs->vector, from_guest);
        return false;
    }
    if (!from_guest) {
        hypervisor_fault(regs);
        return false;
    }
    hv_lock();
    struct vcpu *v = current_vcpu();
    /* Its domain may have been shut down from another CPU: just leave (reschedule). */
    if (v->domain->state == DOMAIN_RUNNING)
        guest_exception(v, regs);
    return false;
}

void handle_syscall(struct cpu_regs *regs)
{
    hv_lock();
    struct vcpu *v = current_vcpu();

    if (v->domain->state != DOMAIN_RUNNING)
        return;
    if (v->in_kernel)
        do_hypercall(v, regs);
    else
        bounce_user_syscall(v, regs);
}

/* The IRET back to the guest faulted (bad selector or frame): the guest dies. */
void bad_guest_iret(void)
{
    hv_lock(); /* dropped on the way out, which failed */
    struct vcpu *v = current_vcpu();
    domain_crash(v->domain, "IRET to the guest faulted (invalid selectors or RIP)",
                 &get_cpu_info()->guest_regs);
}

/* --- the way out --------------------------------------------------------- */

/*
 * SYSRET may return to the guest when it restores exactly the frame: a
 * hypercall that changed nothing but RAX (RCX and R11 still hold the return
 * RIP and RFLAGS the SYSCALL put there), to the flat kernel selectors, at a
 * canonical RIP outside the hypervisor's range (SYSRET to a non-canonical
 * RIP faults in ring 0 on Intel).
 */
static bool sysret_possible(const struct cpu_regs *regs)
{
    bool canonical = regs->rip < 0x0000800000000000ull || regs->rip >= HYPERVISOR_VIRT_END;
    return regs->vector == VECTOR_SYSCALL && regs->rcx == regs->rip &&
           regs->r11 == regs->rflags && regs->cs == FLAT_KERNEL_CS &&
           regs->ss == FLAT_KERNEL_SS && canonical;
}

int prepare_exit_to_guest(struct cpu_regs *regs)
{
    struct cpu_info *ci = get_cpu_info();
    struct vcpu *v;

    schedule();
    v = ci->current;
    regs = &ci->guest_regs;
    /* A PVH vCPU's state is its VMCB's: nothing to bounce or sanitise here. */
    if (is_pvh(v->domain)) {
        svm_prepare_entry(v, regs);
        hv_unlock();
        return EXIT_BY_VMRUN;
    }
    /*
     * An event is due: enter the guest's event callback instead. schedule()
     * left a vCPU of a running domain; only a failed bounce can crash it.
     */
    if (vcpu_event_pending(v) && v->event_cb.address) {
        bounce_to_guest(v, regs, v->event_cb.address, false, 0, true);
        if (v->domain->state != DOMAIN_RUNNING) {
            schedule();
            v = ci->current;
        }
    }
    /* The guest never runs with its own IOPL, NT or VM, and always with IF. */
    regs->rflags = (regs->rflags & ~(RFLAGS_IOPL | RFLAGS_NT | RFLAGS_VM)) | RFLAGS_IF | 2;
    regs->cs |= 3;
    regs->ss |= 3;
    bool sysret = sysret_possible(regs);
    /* The IRET loads CS and SS without the lock: LDT descriptors are mapped now. */
    if (!sysret) {
        ldt_prefault_selector(v, (uint16_t)regs->cs);
        ldt_prefault_selector(v, (uint16_t)regs->ss);
    }
    hv_unlock();
    return sysret ? EXIT_BY_SYSRET : EXIT_BY_IRET;
}
