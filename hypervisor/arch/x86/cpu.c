/*
 * Processor set-up: GDT with Xen's reserved flat selectors, TSS with IST
 * stacks, IDT, SYSCALL MSRs, control registers. Every CPU has its own GDT,
 * TSS and IST stacks (indexed by cpu_info.cpu_id); the IDT is shared.
 *
 * The GDT has Xen's shape: entries below GDT_FIRST_RESERVED (7168) belong to
 * the guest (all not-present until a guest installs its own with set_gdt), the
 * hypervisor's descriptors follow. The ring-3 code/data descriptors are laid
 * out CS32, DS, CS64 so that one STAR value gives SYSRET the guest's flat
 * selectors, as the ABI (xen-x86_64.h) fixes them.
 */
#include "pvkit/cpu.h"
#include "pvkit/mm.h"
#include "pvkit/smp.h"
#include "pvkit/svm.h"
#include "pvkit/x86.h"
#include "pvkit/xenabi.h"

BUILD_BUG_ON(sizeof(struct cpu_regs) != CPU_REGS_SIZE);
BUILD_BUG_ON(__builtin_offsetof(struct cpu_info, guest_regs) != CPUINFO_GUEST_REGS);
BUILD_BUG_ON((CPUINFO_GUEST_REGS + CPU_REGS_SIZE) % 16 != 0);
BUILD_BUG_ON(__builtin_offsetof(struct cpu_info, syscall_scratch_rsp) != CPUINFO_SCRATCH_RSP);
BUILD_BUG_ON(__builtin_offsetof(struct cpu_info, syscall_stack) != CPUINFO_SYSCALL_STACK);
BUILD_BUG_ON(sizeof(struct cpu_info) > CPU_INFO_RESERVED);

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

struct idt_entry {
    uint16_t offset_low, selector;
    uint8_t ist, type_attr;
    uint16_t offset_mid;
    uint32_t offset_high, reserved;
};

struct table_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

#define IST_NMI 1
#define IST_DF  2
#define IST_MC  3
#define IST_DB  4
#define IST_STACK_SIZE PAGE_SIZE

static uint64_t gdts[MAX_CPUS][GDT_ENTRIES_TOTAL] __attribute__((aligned(PAGE_SIZE)));
static struct idt_entry idt[256] __attribute__((aligned(16)));
static struct tss tsses[MAX_CPUS] __attribute__((aligned(64)));
static uint8_t ist_stacks[MAX_CPUS][4][IST_STACK_SIZE] __attribute__((aligned(16)));

/* This CPU's GDT. */
static uint64_t *this_gdt(void)
{
    return gdts[get_cpu_info()->cpu_id];
}

extern const uint64_t exception_vectors[32];
extern const uint64_t interrupt_stubs[1];   /* address of the stub for vector 32 */
extern char syscall_entry[], syscall32_entry[];

#define GDT_INDEX(sel) ((sel) >> 3)

static void set_gate(unsigned int vec, uint64_t handler, unsigned int dpl, unsigned int ist)
{
    idt[vec] = (struct idt_entry){
        .offset_low = (uint16_t)handler,
        .selector = HV_CS,
        .ist = (uint8_t)ist,
        .type_attr = (uint8_t)(0x8E | (dpl << 5)), /* present 64-bit interrupt gate */
        .offset_mid = (uint16_t)(handler >> 16),
        .offset_high = (uint32_t)(handler >> 32),
    };
}

static void init_gdt(unsigned int cpu)
{
    uint64_t *gdt = gdts[cpu];
    uint64_t base = (uint64_t)&tsses[cpu], limit = sizeof(struct tss) - 1;

    gdt[GDT_INDEX(HV_CS)] = 0x00af9b000000ffffull;              /* 64-bit code, DPL 0 */
    gdt[GDT_INDEX(HV_DS)] = 0x00cf93000000ffffull;              /* data, DPL 0 */
    gdt[GDT_INDEX(FLAT_RING3_CS32)] = 0x00cffb000000ffffull;    /* 32-bit code, DPL 3 */
    gdt[GDT_INDEX(FLAT_RING3_DS32)] = 0x00cff3000000ffffull;    /* data, DPL 3 */
    gdt[GDT_INDEX(FLAT_RING3_CS64)] = 0x00affb000000ffffull;    /* 64-bit code, DPL 3 */
    gdt_set_system_descriptor(HV_TSS_SEL, base, limit, 0x89 /* present 64-bit TSS */);

    struct table_pointer gdtr = { sizeof(gdts[cpu]) - 1, (uint64_t)gdt };
    __asm__ volatile(
        "lgdt %0\n\t"
        "mov %1, %%ds\n\t"
        "mov %1, %%es\n\t"
        "mov %1, %%ss\n\t"
        "pushq %2\n\t"
        "lea 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:"
        : : "m"(gdtr), "r"((uint64_t)HV_DS), "i"(HV_CS) : "rax", "memory");
    __asm__ volatile("ltr %w0" : : "r"(HV_TSS_SEL));
}

static void init_tss(unsigned int cpu, struct cpu_info *ci)
{
    struct tss *tss = &tsses[cpu];
    tss->rsp[0] = ci->syscall_stack;
    tss->ist[IST_NMI - 1] = (uint64_t)ist_stacks[cpu][0] + IST_STACK_SIZE;
    tss->ist[IST_DF - 1] = (uint64_t)ist_stacks[cpu][1] + IST_STACK_SIZE;
    tss->ist[IST_MC - 1] = (uint64_t)ist_stacks[cpu][2] + IST_STACK_SIZE;
    /* #DB: 16 bytes below the top, the first holding TSS.rsp0 for entry.S's vector_1. */
    uint64_t db_top = (uint64_t)ist_stacks[cpu][3] + IST_STACK_SIZE - 16;
    *(uint64_t *)db_top = ci->syscall_stack;
    tss->ist[IST_DB - 1] = db_top;
    tss->iomap_base = sizeof(*tss); /* no I/O bitmap: all ports trap at CPL 3 */
}

/* Fills the shared IDT (once, on the boot CPU). */
static void build_idt(void)
{
    for (unsigned int v = 0; v < 32; v++)
        set_gate(v, exception_vectors[v], 0, 0);
    for (unsigned int v = 32; v < 256; v++)
        set_gate(v, interrupt_stubs[0] + (v - 32) * 16, 0, 0);
    set_gate(2, exception_vectors[2], 0, IST_NMI);
    set_gate(8, exception_vectors[8], 0, IST_DF);
    set_gate(18, exception_vectors[18], 0, IST_MC);
    set_gate(1, exception_vectors[1], 0, IST_DB);
    /* INT3 and INTO may be executed by the guest on purpose. */
    set_gate(3, exception_vectors[3], 3, 0);
    set_gate(4, exception_vectors[4], 3, 0);
}

static void load_idt(void)
{
    struct table_pointer idtr = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(idtr));
}

static void init_syscall_msrs(struct cpu_info *ci)
{
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    wrmsr(MSR_STAR, ((uint64_t)FLAT_RING3_CS32 << 48) | ((uint64_t)HV_CS << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_CSTAR, (uint64_t)syscall32_entry);
    wrmsr(MSR_SFMASK, RFLAGS_IF | RFLAGS_TF | RFLAGS_DF | RFLAGS_AC | RFLAGS_NT |
                      RFLAGS_IOPL);
    /* While a guest runs, the shadow GS base points at this CPU's cpu_info. */
    wrmsr(MSR_SHADOW_GS_BASE, (uint64_t)ci);
    wrmsr(MSR_GS_BASE, 0);
    wrmsr(MSR_FS_BASE, 0);
}

/* Masks the legacy 8259 PICs: the hypervisor takes no device interrupts yet. */
static void mask_legacy_pic(void)
{
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

struct cpu_info *cpu_info_of_stack(void *stack)
{
    return (struct cpu_info *)((uint8_t *)stack + STACK_SIZE - CPU_INFO_RESERVED);
}

void cpu_init(unsigned int cpu, struct cpu_info *ci)
{
    memset(ci, 0, sizeof(*ci));
    ci->cpu_id = cpu;
    ci->percpu = &percpu[cpu];
    ci->syscall_stack = (uint64_t)(&ci->guest_regs + 1);
    init_tss(cpu, ci);
    init_gdt(cpu);
    if (cpu == 0) {
        build_idt();
        mask_legacy_pic();
    }
    load_idt();
    init_syscall_msrs(ci);
    write_cr0((read_cr0() & ~(CR0_TS | (1ul << 2))) | (1ul << 1) | (1ul << 5)); /* !EM, MP, NE */
    write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    svm_cpu_init(cpu);
}

void gdt_set_system_descriptor(unsigned int selector, uint64_t base, uint64_t limit,
                               unsigned int type)
{
    uint64_t *gdt = this_gdt();
    unsigned int i = selector >> 3;
    gdt[i] = (limit & 0xffff) | ((base & 0xffffff) << 16) | ((uint64_t)type << 40) |
             (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[i + 1] = base >> 32;
}

void gdt_set_guest_entry(unsigned int index, uint64_t desc)
{
    if (index < GDT_FIRST_RESERVED)
        this_gdt()[index] = desc;
}

/* Prints one line of a register dump: who, then four registers, each after its name. */
static void dump_four(enum log_level lvl, const char *who, const char *n0, uint64_t r0,
                      const char *n1, uint64_t r1, const char *n2, uint64_t r2,
                      const char *n3, uint64_t r3)
{
    printk(lvl, "%s: %s %016lx %s %016lx %s %016lx %s %016lx\n", who, n0, (unsigned long)r0, n1,
           (unsigned long)r1, n2, (unsigned long)r2, n3, (unsigned long)r3);
}

void dump_regs(enum log_level lvl, const char *who, const struct cpu_regs *r)
{
    printk(lvl, "%s: vector %u error %x rip %04lx:%016lx rflags %lx\n", who,
           r->vector, r->error_code, (unsigned long)r->cs, (unsigned long)r->rip,
           (unsigned long)r->rflags);
    /* Four registers a line, as Xen prints them. */
    dump_four(lvl, who, "rax", r->rax, "rbx", r->rbx, "rcx", r->rcx, "rdx", r->rdx);
    dump_four(lvl, who, "rsi", r->rsi, "rdi", r->rdi, "rbp", r->rbp, "rsp", r->rsp);
    dump_four(lvl, who, "r8 ", r->r8, "r9 ", r->r9, "r10", r->r10, "r11", r->r11);
    dump_four(lvl, who, "r12", r->r12, "r13", r->r13, "r14", r->r14, "r15", r->r15);
    printk(lvl, "%s: cr2 %016lx cr3 %016lx ss %04lx\n", who, (unsigned long)read_cr2(),
           (unsigned long)read_cr3(), (unsigned long)r->ss);
}

void machine_exit(uint8_t code)
{
    /* QEMU's isa-debug-exit device ends the emulator with status 2*code+1. */
    outb(DEBUG_EXIT_PORT, code);
    /* Elsewhere: ACPI-less fallbacks, a keyboard-controller reset for reboot. */
    if (code == EXIT_REBOOT)
        outb(0x64, 0xfe);
    halt_forever();
}
