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


/* CPUID leaf EAX, subleaf ECX as a guest sees it (pvkit/cpuid.h), into RAX..RDX. */
void emulate_cpuid(struct cpu_regs *regs);

/*
 * For PVH exits without NRIP save (arch/x86/svm.c): the length of the
 * instruction at guest linear address rip, read through the guest's
 * paging, which must be `opcode` (n bytes) after any legacy and REX prefixes;
 * 0 if it cannot be read or is something else.
 */
unsigned int insn_length_at(uint64_t rip, const uint8_t *opcode, unsigned int n);
/*
 * Decodes MOV to CRn at rip (0F 22 /r): sets *cr and *value (the source
 * register's, from regs) and returns the length; 0 if it is not one.
 */
unsigned int insn_decode_mov_to_cr(struct cpu_regs *regs, uint64_t rip, unsigned int *cr,
                                   uint64_t *value);

#endif
