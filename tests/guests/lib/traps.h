/*
 * Trap handling for the PV CPU test kernels: a virtual IDT (set_trap_table)
 * whose every entry leads through trapentry.S to trap_dispatch, which records
 * what arrived (struct trap_record) and resumes where the test said.
 *
 * How a test provokes a fault: TRAP_PROBE_ASM(insn) stores the address just
 * after INSN in trap_resume and runs INSN; when a trap arrives with
 * trap_resume set, the dispatcher records it and continues at trap_resume
 * (and clears it). A trap that arrives with trap_resume clear in kernel mode
 * is unexpected: it is counted as a failed check and the kernel stops. A
 * trap from guest user mode (frame CS with RPL 3) and the syscall callback
 * are passed to trap_user_hook if a test installed one, else they end the
 * user excursion through trap_user_ctx (see user_* kernels).
 */
#ifndef GUEST_TRAPS_H
#define GUEST_TRAPS_H

#include "guest.h"

/* Registers as saved by trapentry.S, lowest address first. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* What the last trap looked like when it arrived. */
struct trap_record {
    uint64_t vector, error, rip, cs, rflags, rsp, ss, rcx, r11, rax;
    uint64_t cr2;   /* vcpu_info.arch.cr2 at #PF delivery, if shared_info is mapped */
    unsigned long count;
};

/* A saved kernel context (trap_ctx_save/restore). */
struct trap_ctx {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

#define TRAP_SYSCALL 256    /* pseudo-vector of the syscall callback */

extern struct trap_record trap_last;
extern volatile unsigned long trap_resume;
extern shared_info_t *trap_shared_info;
extern struct trap_ctx trap_user_ctx;
/* If set, called for traps from user mode and syscalls instead of the default. */
extern void (*trap_user_hook)(struct trap_frame *f);
/* If set, called for vector N in kernel mode before the default handling. */
extern int (*trap_kernel_hook)(struct trap_frame *f);

/* Installs the virtual IDT: vectors 0-19 (3 and 4 with DPL 3), and 0x80
 * with DPL INT80_DPL if INT80_DPL >= 0; returns set_trap_table's result. */
long trap_install(int int80_dpl);

/* C side of trapentry.S; see the top of this file. */
void trap_dispatch(struct trap_frame *f);

/* setjmp/longjmp for leaving user mode through a handler (trapentry.S). */
int trap_ctx_save(struct trap_ctx *ctx) __attribute__((returns_twice));
void trap_ctx_restore(struct trap_ctx *ctx, long val) __attribute__((noreturn));

/* iret to guest user mode at RIP on stack RSP with RDI = ARG (trapentry.S). */
void trap_enter_user(unsigned long rip, unsigned long rsp, unsigned long arg)
    __attribute__((noreturn));

/*
 * Iret-hypercalls to code segment SEL (the guest kernel stays in kernel
 * mode: RPL < 3 in the frame, the hypervisor forces RPL 3), reads CS there
 * and irets back to FLAT_KERNEL_CS; returns the CS seen.
 */
unsigned long trap_visit_cs(unsigned long sel);

/* Entry points for the trap table and callbacks (trapentry.S). */
extern char trap_stub_syscall[], trap_stub_128[];

/* Asm text: arm trap_resume with the address after INSN, then run INSN. */
#define TRAP_PROBE_ASM(insn) \
    "leaq 1f(%%rip), %%r11\n\tmovq %%r11, trap_resume(%%rip)\n\t" insn "\n1:\n\t"

/* Runs INSN (no operands) expecting a trap; returns the trap count delta. */
#define TRAP_PROBE(insn) ({                                             \
    unsigned long before_ = trap_last.count;                           \
    __asm__ volatile(TRAP_PROBE_ASM(insn) ::: "r11", "memory");         \
    trap_resume = 0;                                                    \
    trap_last.count - before_;                                          \
})

/* Like TRAP_PROBE with RAX = VAL on entry (INSN may use and change it). */
#define TRAP_PROBE_RAX(insn, val) ({                                    \
    unsigned long before_ = trap_last.count, rax_ = (unsigned long)(val); \
    __asm__ volatile(TRAP_PROBE_ASM(insn) : "+a"(rax_) : : "r11", "memory"); \
    trap_resume = 0;                                                    \
    trap_last.count - before_;                                          \
})

#endif
