/*
 * What an exception becomes once arch/x86/entry.c has taken it in: a fault
 * in the hypervisor itself, or a guest exception emulated or bounced into
 * the guest kernel; and the bounce itself, which the exit path also uses to
 * enter the guest's event callback. Everything here runs with the
 * hypervisor lock held.
 *
 * A fault in the hypervisor is either expected (a guest-access helper, a
 * segment load or IRET with guest-supplied values: resumed at its fixup), a
 * debug trap from a guest's breakpoint registers (ignored), or a bug (panic).
 *
 * A guest exception is first offered to emulation (forced CPUID, privileged
 * instructions, stores into page tables); otherwise it is bounced to the
 * guest kernel's handler from its trap table, in Xen's frame format
 * (docs/linux-pv-interface.md §5.1). A guest with no handler for it dies.
 */
#include "pvkit/traps.h"
#include "pvkit/emulate.h"
#include "pvkit/guest_access.h"
#include "pvkit/ldt.h"
#include "pvkit/x86.h"

#define VEC_DB 1
#define VEC_NM 7
#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14

#define FLAT_KERNEL_CS_RPL0 (FLAT_KERNEL_CS & ~3u)

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
    "#MC machine check", "#XM SIMD error", "#VE virtualisation", "#CP control protection",
};

const char *exception_name(unsigned int vector)
{
    if (vector < 32 && exception_names[vector])
        return exception_names[vector];
    return "software interrupt";
}

static bool vector_has_error_code(unsigned int vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 ||
           vector == 21 || vector == 29 || vector == 30;
}

void hypervisor_fault(struct cpu_regs *regs)
{
    uint64_t fixup = search_exception_table(regs->rip);
    if (fixup && regs->vector != VEC_DB && regs->vector < 32) {
        regs->rip = fixup;
        return;
    }
    /*
     * A guest's breakpoint hit in the hypervisor: a data breakpoint on guest
     * memory we copied, or one whose MOV SS/POP SS delayed it past SYSCALL
     * (debug registers never hold hypervisor addresses: set_debugreg refuses
     * them). Not ours: clear the status and carry on without single-step.
     */
    if (regs->vector == VEC_DB) {
        __asm__ volatile("mov %0, %%dr6" : : "r"(0xffff0ff0ul));
        regs->rflags &= ~RFLAGS_TF;
        return;
    }
    dump_regs(LOG_ERR, "(pvkit)", regs);
    panic("%s in the hypervisor at %lx", exception_name(regs->vector),
          (unsigned long)regs->rip);
}

void toggle_guest_mode(struct vcpu *v)
{
    uint64_t active = rdmsr(MSR_GS_BASE);

    if (v->in_kernel) {
        v->gs_base_kernel = active;
        wrmsr(MSR_GS_BASE, v->gs_base_user);
        write_cr3(v->user_l4_mfn << PAGE_SHIFT);
    } else {
        v->gs_base_user = active;
        wrmsr(MSR_GS_BASE, v->gs_base_kernel);
        write_cr3(v->kernel_l4_mfn << PAGE_SHIFT);
    }
    v->in_kernel = !v->in_kernel;
}

bool bounce_to_guest(struct vcpu *v, struct cpu_regs *regs, uint64_t handler,
                     bool has_error_code, uint32_t error_code, bool mask_events)
{
    uint8_t saved_mask = v->vcpu_info ? v->vcpu_info->evtchn_upcall_mask : 1;
    bool from_user = !v->in_kernel;
    uint64_t frame[8], sp;
    uint64_t flags = regs->rflags & ~RFLAGS_IF;

    if (!saved_mask)
        flags |= RFLAGS_IF; /* the guest sees its virtual interrupt flag */
    /* Filled from the top at fixed slots: the frame is frame[first..7]. */
    unsigned int first = has_error_code ? 0 : 1, n = 8 - first;
    frame[7] = regs->ss;
    frame[6] = regs->rsp;
    frame[5] = flags;
    /* CS with RPL 0 tells the guest the interrupted code was its kernel. */
    frame[4] = (from_user ? regs->cs : (regs->cs & ~3ull)) | ((uint64_t)saved_mask << 32);
    frame[3] = regs->rip;
    frame[2] = has_error_code ? error_code : regs->r11;
    frame[1] = has_error_code ? regs->r11 : regs->rcx;
    frame[0] = regs->rcx;

    if (from_user) {
        toggle_guest_mode(v);
        sp = v->kernel_sp;
    } else {
        sp = regs->rsp;
    }
    sp = ALIGN_DOWN(sp, 16) - n * 8;
    if (pv_copy_to_guest(sp, &frame[first], n * 8)) { /* a PV vCPU: PVH ones never bounce */
        domain_crash(v->domain, "cannot write an exception frame on the guest kernel stack",
                     regs);
        return false;
    }
    regs->rsp = sp;
    regs->rip = handler;
    regs->cs = FLAT_KERNEL_CS;
    regs->ss = from_user ? (v->kernel_ss ? v->kernel_ss : FLAT_KERNEL_SS) : regs->ss;
    regs->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_VM | (1ul << 16) /* RF */);
    if (mask_events && v->vcpu_info)
        v->vcpu_info->evtchn_upcall_mask = 1;
    return true;
}

/* inject_exception's end when the guest has no handler for `vector`: its domain dies. */
static __attribute__((noinline)) void crash_without_handler(struct vcpu *v, struct cpu_regs *regs,
                                                            unsigned int vector,
                                                            uint32_t error_code)
{
    char why[96];

    v->domain->emu_stats.exceptions_fatal++;
    snprintf(why, sizeof(why), "%s (error %x) in guest %s mode with no handler",
             exception_name(vector), error_code, v->in_kernel ? "kernel" : "user");
    domain_crash(v->domain, why, regs);
}

/* inject_exception, inline in guest_exception (every bounced fault goes through it). */
static ALWAYS_INLINE void deliver_exception(struct vcpu *v, struct cpu_regs *regs,
                                            unsigned int vector, bool has_error_code,
                                            uint32_t error_code)
{
    const struct trap_info *ti = &v->trap_table[vector & 0xff];

    if (vector == VEC_PF && v->vcpu_info)
        v->vcpu_info->arch.cr2 = v->cr2;
    /* The guest kernel believes it runs in supervisor mode: no U bit for it. */
    if (vector == VEC_PF && v->in_kernel)
        error_code &= ~4u;
    if (!ti->address) {
        crash_without_handler(v, regs, vector, error_code);
        return;
    }
    v->domain->emu_stats.exceptions_bounced++;
    bounce_to_guest(v, regs, ti->address, has_error_code, error_code, ti->flags & 4);
}

void inject_exception(struct vcpu *v, struct cpu_regs *regs, unsigned int vector,
                      bool has_error_code, uint32_t error_code)
{
    deliver_exception(v, regs, vector, has_error_code, error_code);
}

/*
 * INT n from the guest arrives as #GP through a DPL-0 gate. The instruction
 * is decoded rather than the error code trusted (emulators differ in the
 * index they report). A vector the guest's trap table permits at DPL 3 is
 * delivered there; otherwise the guest gets #GP(n<<3 | 2).
 */
static bool software_interrupt(struct vcpu *v, struct cpu_regs *regs)
{
    uint8_t insn[2];
    if (copy_from_guest(insn, regs->rip, sizeof(insn)) || insn[0] != 0xcd)
        return false;
    unsigned int vector = insn[1];
    const struct trap_info *ti = &v->trap_table[vector];
    regs->error_code = (vector << 3) | 2;
    if (!ti->address || (ti->flags & 3) != 3)
        return false; /* not permitted from CPL 3: a #GP for the guest */
    regs->rip += 2;   /* CD ib */
    v->domain->emu_stats.exceptions_bounced++;
    bounce_to_guest(v, regs, ti->address, false, 0, ti->flags & 4);
    return true;
}

/* The guest set CR0.TS (fpu_taskswitch): its first FPU use is its #NM. */
static bool device_not_available(struct vcpu *v)
{
    if (!v->fpu_ts)
        return false;
    write_cr0(read_cr0() & ~CR0_TS);
    v->fpu_ts = false;
    return true;
}

void guest_exception(struct vcpu *v, struct cpu_regs *regs)
{
    unsigned int vector = regs->vector;

    switch (vector) {
    case VEC_UD:
        if (emulate_invalid_op(v, regs))
            return;
        break;
    case VEC_GP:
        if (software_interrupt(v, regs) || emulate_privileged_op(v, regs))
            return;
        break;
    case VEC_PF:
        v->cr2 = read_cr2();
        if (ldt_fault(v, regs, v->cr2))
            return;
        if ((regs->error_code & (PF_PRESENT | PF_WRITE)) == (PF_PRESENT | PF_WRITE) &&
            v->in_kernel && emulate_pt_write(v, regs, v->cr2))
            return;
        break;
    case VEC_DB:
        /* The guest reads DR6 with get_debugreg; hardware DR6 is reset for the next #DB. */
        __asm__ volatile("mov %%dr6, %0" : "=r"(v->debugreg[6]));
        __asm__ volatile("mov %0, %%dr6" : : "r"(0xffff0ff0ul));
        break;
    case VEC_NM:
        if (!device_not_available(v)) {
            domain_crash(v->domain, "#NM without a virtual CR0.TS", regs);
            return;
        }
        break;
    default:
        break;
    }
    deliver_exception(v, regs, vector, vector_has_error_code(vector), regs->error_code);
}

void bounce_user_syscall(struct vcpu *v, struct cpu_regs *regs)
{
    if (!v->syscall_cb.address) {
        /* As Xen: no callback makes SYSCALL an invalid opcode, at the instruction. */
        regs->rip -= 2;
        inject_exception(v, regs, VEC_UD, false, 0);
        return;
    }
    bounce_to_guest(v, regs, v->syscall_cb.address, false, 0, v->syscall_cb.mask_events);
}
