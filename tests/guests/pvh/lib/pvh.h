/*
 * The PVH test-kernel framework: what a PVH test kernel's C code uses on
 * top of the PV framework (../../lib/guest.h: printf, TEST/EXPECT, verdict
 * and shutdown, all of it through hypercalls that this build issues with
 * VMMCALL, see ../../lib/hypercall.h, GUEST_PVH).
 *
 * pvh_entry.S reaches 64-bit mode and calls pvh_start, which keeps the
 * hvm_start_info, loads an IDT whose handlers let a probe resume after an
 * expected exception, runs test_main and test_finish.
 *
 * Probes run one instruction that may fault and return the vector it
 * raised, or PVH_NO_TRAP. Single vCPU: the trap globals need no locking.
 * Interrupts (vectors 32-255) are counted in pvh_irq_count while a test
 * lets them in (pvh_irq_window, pvh_halt_until).
 */
#ifndef PVH_H
#define PVH_H

#include "guest.h"
#include <xen/arch-x86/hvm/start_info.h>

#define PVH_NO_TRAP     (-1L)
#define PVH_GP          13
#define PVH_UD          6

/* The start_info the builder gave us (through our identity mapping). */
extern struct hvm_start_info *pvh_start_info;

/* Results of the 32-bit-mode hypercalls pvh_entry.S makes before long mode. */
extern int32_t pvh_version32, pvh_console32;

/* A 64-bit IDT gate, and one to handler in our code segment (0x08) of type (0x8e: ring 0 only). */
struct pvh_idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, reserved;
} __attribute__((packed));

static inline struct pvh_idt_gate pvh_gate(unsigned long handler, uint8_t type)
{
    return (struct pvh_idt_gate){ .off_lo = (uint16_t)handler, .sel = 0x08, .type = type,
                                  .off_mid = (uint16_t)(handler >> 16),
                                  .off_hi = (uint32_t)(handler >> 32) };
}

/* Written by the exception stubs (pvh_entry.S); read by the probes. */
extern volatile long pvh_trap_vector;
extern volatile unsigned long pvh_trap_error;
extern volatile unsigned long pvh_trap_resume;

/*
 * A probe: PVH_PROBE_BEGIN "insn" PVH_PROBE_END as an asm template runs insn
 * with pvh_trap_resume pointing just past it (R11 is its scratch register:
 * clobber it, and "memory"); set pvh_trap_vector to PVH_NO_TRAP before, and
 * it holds the vector insn raised after.
 */
#define PVH_PROBE_BEGIN "lea 1f(%%rip), %%r11\n\tmov %%r11, pvh_trap_resume(%%rip)\n\t"
#define PVH_PROBE_END   "\n1:\n\tmovq $0, pvh_trap_resume(%%rip)"

/* Interrupts taken, by vector; the last one; the upcall flag the callback vector clears. */
extern volatile uint64_t pvh_irq_count[256];
extern volatile uint64_t pvh_irq_last;
extern volatile uint8_t *volatile pvh_upcall_flag;
extern volatile uint64_t pvh_upcall_vector;

/* STI; NOP; CLI: lets a pending interrupt in at the NOP (the STI shadow covers nothing else). */
static inline void pvh_irq_window(void)
{
    __asm__ volatile("sti; nop; cli" ::: "memory");
}

/* STI; HLT; CLI until pvh_irq_count[vector] reaches n or `tries` halts went by; the count. */
static inline uint64_t pvh_halt_until(unsigned int vector, uint64_t n, unsigned int tries)
{
    while (pvh_irq_count[vector] < n && tries--)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    return pvh_irq_count[vector];
}

/* RDMSR/WRMSR of msr; the value read goes to *value. Returns the vector or PVH_NO_TRAP. */
long pvh_rdmsr(uint32_t msr, uint64_t *value);
long pvh_wrmsr(uint32_t msr, uint64_t value);
/* CPUID leaf/subleaf, natively (intercepted by the hypervisor). */
void pvh_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4]);
/* OUT of one byte to port, IN of one byte from it. Return the vector or PVH_NO_TRAP. */
long pvh_outb(uint16_t port, uint8_t value);
long pvh_inb(uint16_t port, uint8_t *value);
/* MOV to CR4 / CR0 of value. Returns the vector or PVH_NO_TRAP. */
long pvh_write_cr4(unsigned long value);
long pvh_write_cr0(unsigned long value);
/* Runs one of the instructions a PVH guest may not use (see pvh.c); returns the vector. */
long pvh_run_forbidden(unsigned int which);
#define PVH_FORBIDDEN_COUNT 7
/* A raw VMMCALL: nr in RAX, arguments in RDI, RSI, RDX, R10, R8; returns RAX. */
long pvh_vmmcall(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3,
                 unsigned long a4, unsigned long a5);

#endif
