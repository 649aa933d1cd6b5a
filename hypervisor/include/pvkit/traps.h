/*
 * Guest exceptions and bouncing into the guest kernel (arch/x86/traps.c):
 * what arch/x86/entry.c hands an exception to, and the bounce the exit path
 * uses for event callbacks. Hypervisor lock held.
 */
#ifndef PVKIT_TRAPS_H
#define PVKIT_TRAPS_H

#include "pvkit/domain.h"

/* The name of exception `vector` for messages ("#GP general protection"). */
const char *exception_name(unsigned int vector);
/*
 * A fault or trap in the hypervisor itself: resumed at its exception-table
 * fixup (a guest-access helper, a guest selector load), ignored (a guest's
 * breakpoint hit while the hypervisor ran), or a panic.
 */
void hypervisor_fault(struct cpu_regs *regs);
/*
 * A guest exception, lock held: emulated if it is one of the instructions a
 * PV guest may not run itself or a store into its page tables, else
 * bounced to the guest kernel's handler (the domain crashes if none).
 */
void guest_exception(struct vcpu *v, struct cpu_regs *regs);
/*
 * SYSCALL from guest user mode: bounces to the guest kernel's syscall
 * callback, or gives the guest #UD at the instruction if it has none.
 */
void bounce_user_syscall(struct vcpu *v, struct cpu_regs *regs);

/*
 * Switches the vCPU between guest kernel and guest user mode: page tables
 * and GS base. The caller updates the register frame.
 */
void toggle_guest_mode(struct vcpu *v);

/*
 * Enters a guest kernel handler with Xen's bounce frame on the guest kernel
 * stack (RCX, R11, [error code], RIP, CS, RFLAGS, RSP, SS), switching from
 * user mode first if needed. Returns false (after crashing the domain) if the
 * frame cannot be written.
 */
bool bounce_to_guest(struct vcpu *v, struct cpu_regs *regs, uint64_t handler,
                     bool has_error_code, uint32_t error_code, bool mask_events);

/*
 * Delivers exception `vector` to the guest through its trap table; crashes
 * the domain if it has no handler for it.
 */
void inject_exception(struct vcpu *v, struct cpu_regs *regs, unsigned int vector,
                      bool has_error_code, uint32_t error_code);

#endif
