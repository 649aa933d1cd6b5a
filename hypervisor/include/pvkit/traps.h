/*
 * Exceptions, SYSCALL, bouncing into the guest kernel, and emulation entry
 * points (arch/x86/traps.c, arch/x86/emulate.c).
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

/* Hypercall dispatch (common/hypercall.c): reads arguments, writes rax. */
void do_hypercall(struct vcpu *v, struct cpu_regs *regs);

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

/*
 * Emulation (arch/x86/emulate.c). Each returns true if the faulting
 * instruction was handled (emulated, or turned into an exception for the
 * guest) and regs describe what the guest sees next.
 */
bool emulate_invalid_op(struct vcpu *v, struct cpu_regs *regs);
bool emulate_privileged_op(struct vcpu *v, struct cpu_regs *regs);
bool emulate_pt_write(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2);

/*
 * Debug register reg (0-7; 4 and 5 alias 6 and 7) of v into *value, as
 * get_debugreg reads it but with the error apart from the value (a DR value
 * may look like -errno). 0 or -XEN_ENODEV.
 */
int vcpu_read_debugreg(const struct vcpu *v, uint64_t reg, uint64_t *value);

/* LDT (arch/x86/ldt.c): MMUEXT_SET_LDT, the on-demand window, switches. */
int vcpu_set_ldt(struct vcpu *v, uint64_t base, uint64_t entries);
/*
 * A guest #PF at cr2: if it is the CPU's own descriptor load from a page of
 * this CPU's LDT window not mapped yet, maps it (or gives the guest a #PF at
 * its LDT page if that page is not a valid descriptor page) and returns true.
 */
bool ldt_fault(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2);
/*
 * Before the hypervisor loads selector sel of the current vCPU v: maps the
 * LDT page holding its descriptor, if it is an LDT selector within the limit.
 * False if that page cannot be mapped (the load will then fault as it would
 * on hardware with a bad LDT).
 */
bool ldt_prefault_selector(struct vcpu *v, uint16_t sel);
void ldt_switch(struct vcpu *prev, struct vcpu *next);
/* Empties this CPU's LDT window (references dropped) and loads no LDT. */
void ldt_unload(struct domain *d);
void ldt_window_init(unsigned int cpu, uint64_t *l1);

/* Installs a GDT (validated descriptor frames) for a vCPU; 0 or -errno. */
int vcpu_set_gdt(struct vcpu *v, const uint64_t *frames, uint64_t entries);

#endif
