/*
 * Per-CPU state and the guest register frame.
 *
 * Each physical CPU runs on its own STACK_SIZE-aligned stack with struct cpu_info
 * in its top CPU_INFO_RESERVED bytes. guest_regs comes (nearly) first: TSS.rsp0 points
 * just past it, so when the CPU enters the hypervisor from a guest (exception,
 * interrupt) the hardware frame lands in guest_regs' tail, and entry.S pushes
 * the general registers below it, completing the frame in place. SYSCALL,
 * which does not switch stacks, builds the same frame by hand. So while a
 * vCPU runs, its live registers are always cpu_info.guest_regs.
 */
#ifndef PVKIT_CPU_H
#define PVKIT_CPU_H

#include "pvkit/layout.h"
#include "pvkit/console.h"
#include "pvkit/lib.h"

struct cpu_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8;
    uint64_t rax, rcx, rdx, rsi, rdi;
    uint32_t error_code;
    uint32_t vector;        /* exception vector, or VECTOR_SYSCALL */
    uint64_t rip, cs, rflags, rsp, ss;  /* the hardware frame */
};

struct vcpu;

struct cpu_info {
    /*
     * Exceptions align the stack to 16 bytes before pushing their frame, so
     * the end of guest_regs (TSS.rsp0) must be 16-byte aligned.
     */
    uint64_t pad;
    struct cpu_regs guest_regs;
    struct vcpu *current;
    uint64_t syscall_scratch_rsp;   /* guest RSP while SYSCALL entry switches stacks */
    uint64_t syscall_stack;         /* == (uint64_t)(&guest_regs + 1) */
    unsigned int cpu_id;
    struct percpu *percpu;          /* == &percpu[cpu_id]: this_cpu() without an index */
    /* The number of the last hypercall a guest made on this CPU (named when a
     * timer's work runs late: a long call delays it). Here rather than in
     * struct percpu: the entry path finds cpu_info without an index. */
    uint64_t last_hypercall;
};

static inline struct cpu_info *get_cpu_info(void)
{
    uint64_t rsp;
    __asm__("mov %%rsp, %0" : "=r"(rsp));
    return (struct cpu_info *)(ALIGN_DOWN(rsp, STACK_SIZE) + STACK_SIZE - CPU_INFO_RESERVED);
}

static inline struct vcpu *current_vcpu(void)
{
    return get_cpu_info()->current;
}

/* The cpu_info at the top of a STACK_SIZE stack starting at `stack`. */
struct cpu_info *cpu_info_of_stack(void *stack);
/*
 * Sets up CPU `cpu` (0: the boot CPU) running on the stack whose cpu_info is
 * ci: its GDT, TSS, the IDT, SYSCALL MSRs, CR0/CR4 bits.
 */
void cpu_init(unsigned int cpu, struct cpu_info *ci);

/* Enters the guest with the registers in cpu_info.guest_regs; never returns. */
__attribute__((noreturn)) void exit_to_guest(void);

/* Writes a 16-byte system descriptor (TSS, LDT) at a hypervisor selector. */
void gdt_set_system_descriptor(unsigned int selector, uint64_t base, uint64_t limit,
                               unsigned int type);
/* Sets entry index (< GDT_FIRST_RESERVED) of this CPU's GDT: a guest descriptor. */
void gdt_set_guest_entry(unsigned int index, uint64_t desc);

/* Prints a register dump at the given level. */
void dump_regs(enum log_level lvl, const char *who, const struct cpu_regs *r);

/* Machine power-off (or reset) with a QEMU exit code; see layout.h. */
__attribute__((noreturn)) void machine_exit(uint8_t code);

#endif
