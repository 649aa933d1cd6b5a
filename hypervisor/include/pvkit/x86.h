/*
 * Thin wrappers around x86-64 instructions the hypervisor needs: port I/O,
 * MSRs, control registers, CPUID, TLB maintenance. Nothing here has policy.
 */
#ifndef PVKIT_X86_H
#define PVKIT_X86_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_EFER            0xC0000080
#define MSR_STAR            0xC0000081
#define MSR_LSTAR           0xC0000082
#define MSR_CSTAR           0xC0000083
#define MSR_SFMASK          0xC0000084
#define MSR_FS_BASE         0xC0000100
#define MSR_GS_BASE         0xC0000101
#define MSR_SHADOW_GS_BASE  0xC0000102
#define MSR_TSC_AUX         0xC0000103
#define MSR_PAT             0x00000277
#define MSR_APIC_BASE       0x0000001B
#define MSR_UCODE_REV       0x0000008B

#define EFER_SCE            (1u << 0)
#define EFER_NXE            (1u << 11)

/* Page-fault error code bits. */
#define PF_PRESENT          (1u << 0)
#define PF_WRITE            (1u << 1)
#define PF_USER             (1u << 2)
#define PF_RSVD             (1u << 3)

#define CR0_TS              (1ul << 3)
#define CR0_WP              (1ul << 16)
#define CR4_PAE             (1ul << 5)
#define CR4_PGE             (1ul << 7)
#define CR4_OSFXSR          (1ul << 9)
#define CR4_OSXMMEXCPT      (1ul << 10)

#define RFLAGS_IF           (1ul << 9)
#define RFLAGS_IOPL         (3ul << 12)
#define RFLAGS_NT           (1ul << 14)
#define RFLAGS_VM           (1ul << 17)
#define RFLAGS_AC           (1ul << 18)
#define RFLAGS_TF           (1ul << 8)
#define RFLAGS_DF           (1ul << 10)

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

/*
 * read_crN and write_crN, one instruction each, made by one template:
 * read_cr0/write_cr0, read_cr2, read_cr3/write_cr3, read_cr4/write_cr4.
 * A write is a compiler barrier: the memory it governs is read after it.
 */
#define CR_READ(n)                                                \
    static inline uint64_t read_cr##n(void)                       \
    {                                                             \
        uint64_t v;                                               \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));         \
        return v;                                                 \
    }
#define CR_WRITE(n)                                               \
    static inline void write_cr##n(uint64_t v)                    \
    {                                                             \
        __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); \
    }
CR_READ(0)
CR_WRITE(0)
CR_READ(2)
CR_READ(3)
CR_WRITE(3)
CR_READ(4)
CR_WRITE(4)
#undef CR_READ
#undef CR_WRITE

static inline void cpuid_count(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Flushes this CPU's non-global TLB entries (a CR3 reload). */
static inline void flush_tlb_local(void)
{
    write_cr3(read_cr3());
}

static inline void invlpg(uint64_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* True if va is canonical: bits 63..47 all equal (48-bit virtual addresses). */
static inline bool is_canonical(uint64_t va)
{
    return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}

/* Enables interrupts, halts until one has been taken, and disables them again. */
static inline void wait_for_interrupt(void)
{
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

static inline void cpu_relax(void)
{
    __asm__ volatile("pause");
}

static inline __attribute__((noreturn)) void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

#endif
