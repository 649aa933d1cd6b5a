/*
 * Instruction emulation for PV guests (arch/x86/emulate.c): forced CPUID
 * (#UD), privileged instructions (#GP) and stores into the guest's own page
 * tables (#PF). Hypervisor lock held.
 */
#ifndef PVKIT_EMULATE_H
#define PVKIT_EMULATE_H

#include "pvkit/domain.h"

/*
 * Each returns true if the faulting
 * instruction was handled (emulated, or turned into an exception for the
 * guest) and regs describe what the guest sees next.
 */
bool emulate_invalid_op(struct vcpu *v, struct cpu_regs *regs);
bool emulate_privileged_op(struct vcpu *v, struct cpu_regs *regs);
bool emulate_pt_write(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2);

#endif
