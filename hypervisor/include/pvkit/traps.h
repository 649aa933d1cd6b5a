/*
 * Exceptions, SYSCALL and emulation entry points called from entry.S.
 */
#ifndef PVKIT_TRAPS_H
#define PVKIT_TRAPS_H

#include "pvkit/domain.h"

void handle_exception(struct cpu_regs *regs);
void handle_syscall(struct cpu_regs *regs);

/* Hypercall dispatch (common/hypercall.c): reads arguments, writes rax. */
void do_hypercall(struct vcpu *v, struct cpu_regs *regs);

/*
 * Tries to emulate the instruction that raised #UD (forced-emulation CPUID)
 * or #GP (privileged instructions from the allow-list). Returns true if it
 * was emulated and regs now describe the state after it.
 */
bool emulate_invalid_op(struct vcpu *v, struct cpu_regs *regs);
bool emulate_privileged_op(struct vcpu *v, struct cpu_regs *regs);

#endif
