/*
 * What happens when the CPU enters the hypervisor: exceptions (from a guest or
 * from the hypervisor itself) and SYSCALL.
 *
 * A fault in the hypervisor is either an expected one in a guest-access
 * helper (resumed at its fixup) or a bug (panic). A guest exception is first
 * offered to emulation; if that does not apply, the guest would need a trap
 * table to take it. Trap tables arrive with the PV CPU work (issue 3); until
 * then such a fault kills the guest, with a register dump, and only the guest.
 */
#include "pvkit/traps.h"
#include "pvkit/guest_access.h"
#include "pvkit/x86.h"

#define VEC_UD 6
#define VEC_GP 13
#define VEC_PF 14
#define VEC_EXTERNAL 0xff

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
    "#MC machine check", "#XM SIMD error", "#VE virtualisation", "#CP control protection",
};

static const char *exception_name(unsigned int vector)
{
    if (vector < 32 && exception_names[vector])
        return exception_names[vector];
    return "unexpected vector";
}

static void hypervisor_fault(struct cpu_regs *regs)
{
    uint64_t fixup = search_exception_table(regs->rip);
    if (fixup && (regs->vector == VEC_PF || regs->vector == VEC_GP)) {
        regs->rip = fixup;
        return;
    }
    dump_regs(LOG_ERR, "(pvkit)", regs);
    panic("%s in the hypervisor at %lx", exception_name(regs->vector),
          (unsigned long)regs->rip);
}

static void guest_exception(struct vcpu *v, struct cpu_regs *regs)
{
    char why[96];

    if (regs->vector == VEC_EXTERNAL)
        return; /* a stray external interrupt: nothing to deliver yet */
    if (regs->vector == VEC_UD && emulate_invalid_op(v, regs))
        return;
    if (regs->vector == VEC_GP && emulate_privileged_op(v, regs))
        return;
    if (regs->vector == VEC_PF && v->vcpu_info)
        v->vcpu_info->arch.cr2 = read_cr2();
    v->domain->emu_stats.exceptions_fatal++;
    snprintf(why, sizeof(why), "%s in guest %s mode with no trap handler",
             exception_name(regs->vector), v->in_kernel ? "kernel" : "user");
    domain_crash(v->domain, why, regs);
}

void handle_exception(struct cpu_regs *regs)
{
    if ((regs->cs & 3) == 0) {
        hypervisor_fault(regs);
        return;
    }
    guest_exception(current_vcpu(), regs);
}

void handle_syscall(struct cpu_regs *regs)
{
    struct vcpu *v = current_vcpu();

    if (v->in_kernel) {
        do_hypercall(v, regs);
        return;
    }
    v->domain->emu_stats.exceptions_fatal++;
    domain_crash(v->domain, "system call from guest user mode with no syscall callback",
                 regs);
}
