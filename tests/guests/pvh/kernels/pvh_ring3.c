/*
 * pvh_ring3: a PVH guest's user mode (CPL 3) must get nothing from the
 * hypervisor that its kernel has not given it. From ring 3: every
 * hypercall fails with -EPERM (console_io prints nothing, sched_op
 * shutdown does not stop the domain); RDMSR/WRMSR, including the
 * hypercall-page MSR, IN/OUT, MOV to CR0/CR4, HLT, RDPMC, WBINVD and the
 * SVM instructions fault (#GP or #UD) as on hardware, before any intercept
 * could act (the hypercall page is not written); CPUID still works.
 * Then, back in ring 0, instruction-length decoding (no NRIP save under
 * TCG): a VMMCALL with segment prefixes, CPUIDs with FS/GS, address-size,
 * REPNE and an ignored REX prefix (the domain was crashed for these), and a
 * VMMCALL straddling a 4 KiB page boundary are each skipped exactly.
 *
 * Setup: our own GDT (user code and data, a 64-bit TSS whose RSP0 takes
 * ring-3 exceptions to the probe stubs of pvh_entry.S), the U/S bit on
 * every entry of the boot page tables, and an IDT with vector 0x80 open to
 * ring 3, the way back. Ring 3 records results; ring 0 checks them.
 */
#include "pvh.h"

#define MSR_EFER 0xC0000080
#define MSR_XEN  0x40000000
#define SEL_UDATA 0x1b
#define SEL_UCODE 0x23
#define SEL_TSS   0x28
#define PTE_US    4ul
#define VB        0xFFFFFFFF80000000ul

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1, ist[7], reserved2;
    uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static uint64_t gdt[7] __attribute__((aligned(16)));
static struct tss64 tss;
static struct pvh_idt_gate idt[0x81] __attribute__((aligned(16)));
static uint8_t ring0_stack[8192] __attribute__((aligned(16)));
static uint8_t ring3_stack[8192] __attribute__((aligned(16)));
static uint8_t victim_page[4096] __attribute__((aligned(4096)));

/* What ring 3 saw, checked by ring 0. */
enum { R_VERSION, R_CONSOLE, R_SHUTDOWN, R_WRMSR_XEN, R_WRMSR_EFER, R_RDMSR_EFER, R_OUTB, R_INB,
       R_CR0, R_CR4, R_HLT, R_RDPMC, R_WBINVD, R_CPUID, R_FORBIDDEN, R_COUNT = R_FORBIDDEN +
       PVH_FORBIDDEN_COUNT };
static volatile long seen[R_COUNT];

void ring3_return(void);
void enter_ring3(void (*fn)(void), unsigned long user_rsp);
__asm__(".text\n"
        ".globl enter_ring3\n"
        "enter_ring3:\n"
        "  push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
        "  mov %rsp, ring0_rsp(%rip)\n"
        "  pushq $0x1b\n"          /* SS */
        "  push %rsi\n"            /* RSP */
        "  pushq $2\n"             /* RFLAGS: IF and IOPL 0 */
        "  pushq $0x23\n"          /* CS */
        "  push %rdi\n"            /* RIP */
        "  iretq\n"
        ".globl ring3_return\n"
        "ring3_return:\n"          /* int $0x80 from ring 3 */
        "  mov ring0_rsp(%rip), %rsp\n"
        "  mov $0x10, %eax; mov %eax, %ds; mov %eax, %es\n"
        "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
        "  ret\n"
        ".data\n"
        "ring0_rsp: .quad 0\n"
        ".text\n");

static long probe_insn_hlt(void)
{
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "hlt" PVH_PROBE_END : : : "r11", "memory");
    return pvh_trap_vector;
}

static long probe_insn_rdpmc(void)
{
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "rdpmc" PVH_PROBE_END : : "c"(0) : "rax", "rdx", "r11", "memory");
    return pvh_trap_vector;
}

static long probe_insn_wbinvd(void)
{
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "wbinvd" PVH_PROBE_END : : : "r11", "memory");
    return pvh_trap_vector;
}

/* Runs in ring 3: no printing (the console is a hypercall), results into seen[]. */
static void ring3_main(void)
{
    static const char msg[] = "pvh_ring3: RING 3 PRINTED THIS\n";
    struct sched_shutdown sd = { .reason = SHUTDOWN_poweroff };
    uint64_t v;
    uint8_t b;
    uint32_t r[4];

    seen[R_VERSION] = hyp_xen_version(XENVER_version, NULL);
    seen[R_CONSOLE] = hyp_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg);
    seen[R_SHUTDOWN] = hyp_sched_op(SCHEDOP_shutdown, &sd);
    seen[R_WRMSR_XEN] = pvh_wrmsr(MSR_XEN, (unsigned long)victim_page - VB);
    seen[R_RDMSR_EFER] = pvh_rdmsr(MSR_EFER, &v);
    seen[R_WRMSR_EFER] = pvh_wrmsr(MSR_EFER, v);
    seen[R_OUTB] = pvh_outb(0x3f8, 'X');
    seen[R_INB] = pvh_inb(0x3fd, &b);
    seen[R_CR0] = pvh_write_cr0(0x80000011);
    seen[R_CR4] = pvh_write_cr4(0x20);
    seen[R_HLT] = probe_insn_hlt();
    seen[R_RDPMC] = probe_insn_rdpmc();
    seen[R_WBINVD] = probe_insn_wbinvd();
    pvh_cpuid(0, 0, r);
    seen[R_CPUID] = r[0];
    for (unsigned int i = 0; i < PVH_FORBIDDEN_COUNT; i++)
        seen[R_FORBIDDEN + i] = pvh_run_forbidden(i);
    __asm__ volatile("int $0x80");
}

static uint64_t seg_desc(uint64_t flags_hi)
{
    return flags_hi | 0xffff;
}

/* GDT: 0x08/0x10 as pvh_entry.S has them, user data 0x1b, user code 0x23, TSS 0x28. */
static void load_gdt_tss(void)
{
    uint64_t base = (uint64_t)&tss;
    struct desc_ptr d = { sizeof(gdt) - 1, (uint64_t)gdt };

    tss.rsp[0] = (uint64_t)(ring0_stack + sizeof(ring0_stack));
    tss.iomap_base = sizeof(tss);           /* no bitmap: every port refused above IOPL */
    gdt[1] = seg_desc(0x00af9a0000000000ul);
    gdt[2] = seg_desc(0x00cf920000000000ul);
    gdt[3] = seg_desc(0x00cff20000000000ul);
    gdt[4] = seg_desc(0x00affa0000000000ul);
    gdt[5] = (sizeof(tss) - 1) | ((base & 0xffffff) << 16) | (0x89ul << 40) |
             ((base >> 24) & 0xff) << 56;
    gdt[6] = base >> 32;
    __asm__ volatile("lgdt %0; ltr %w1" : : "m"(d), "r"(SEL_TSS) : "memory");
}

/* The boot tables (pvh_entry.S: L4 -> one L3 -> one L2 of 2 MiB pages) opened to ring 3. */
static void open_page_tables(void)
{
    unsigned long cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    uint64_t *l4 = (uint64_t *)(cr3 & ~0xffful);
    uint64_t *l3 = (uint64_t *)(l4[0] & 0xffffffffff000ul);
    uint64_t *l2 = (uint64_t *)(l3[0] & 0xffffffffff000ul);
    l4[0] |= PTE_US;
    l4[511] |= PTE_US;
    l3[0] |= PTE_US;
    l3[510] |= PTE_US;
    for (unsigned int i = 0; i < 512; i++)
        l2[i] |= PTE_US;
    __asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

/* The probe IDT (vectors 0-31, as pvh.c loads it) plus vector 0x80 for ring 3: the way back. */
static void load_idt_with_return(void)
{
    struct desc_ptr cur, d = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("sidt %0" : "=m"(cur));
    memcpy(idt, (const void *)cur.base, 32 * sizeof(idt[0]));
    idt[0x80] = pvh_gate((unsigned long)ring3_return, 0xee);   /* DPL 3 */
    __asm__ volatile("lidt %0" : : "m"(d));
}

static void check_ring3(void)
{
    TEST("ring 3: hypercalls refused, privileged instructions fault first");
    load_gdt_tss();
    open_page_tables();
    load_idt_with_return();
    enter_ring3(ring3_main, (unsigned long)(ring3_stack + sizeof(ring3_stack)));
    EXPECT_EQ(seen[R_VERSION], -XEN_EPERM);
    EXPECT_EQ(seen[R_CONSOLE], -XEN_EPERM);
    EXPECT_EQ(seen[R_SHUTDOWN], -XEN_EPERM);
    EXPECT_EQ(seen[R_WRMSR_XEN], PVH_GP);
    for (unsigned int i = 0; i < sizeof(victim_page); i++)
        if (victim_page[i]) {
            EXPECT(!"the hypercall page was written from ring 3");
            break;
        }
    EXPECT_EQ(seen[R_RDMSR_EFER], PVH_GP);
    EXPECT_EQ(seen[R_WRMSR_EFER], PVH_GP);
    EXPECT_EQ(seen[R_OUTB], PVH_GP);
    EXPECT_EQ(seen[R_INB], PVH_GP);
    EXPECT_EQ(seen[R_CR0], PVH_GP);
    EXPECT_EQ(seen[R_CR4], PVH_GP);
    EXPECT_EQ(seen[R_HLT], PVH_GP);
    EXPECT_EQ(seen[R_RDPMC], PVH_GP);
    EXPECT_EQ(seen[R_WBINVD], PVH_GP);
    EXPECT(seen[R_CPUID] >= 0xd);
    for (unsigned int i = 0; i < PVH_FORBIDDEN_COUNT; i++) {
        guest_printf("forbidden instruction %u from ring 3: vector %ld\n", i, seen[R_FORBIDDEN + i]);
        EXPECT(seen[R_FORBIDDEN + i] == PVH_GP || seen[R_FORBIDDEN + i] == PVH_UD);
    }
    EXPECT_EQ(hyp_xen_version(XENVER_version, NULL), (4 << 16) | 17);  /* ring 0 still served */
}

/* A VMMCALL (xen_version) with a CS prefix, and one whose bytes straddle a 4 KiB boundary. */
long vmmcall_prefixed(void);
long vmmcall_straddle(void);
__asm__(".text\n"
        ".globl vmmcall_prefixed\n"
        "vmmcall_prefixed:\n"
        "  mov $17, %eax; xor %edi, %edi; xor %esi, %esi\n"
        "  .byte 0x2e, 0x3e, 0x0f, 0x01, 0xd9\n"
        "  ret\n"
        ".balign 4096\n"
        "  .skip 4096 - 16\n"
        ".globl vmmcall_straddle\n"
        "vmmcall_straddle:\n"
        "  mov $17, %eax; xor %edi, %edi; xor %esi, %esi\n"   /* 5 + 2 + 2 bytes */
        "  .skip 16 - 9 - 2, 0x90\n"
        "  .byte 0x0f, 0x01, 0xd9\n"                          /* 2 bytes here, 1 on the next page */
        "  ret\n");

static void check_lengths(void)
{
    uint32_t a = 0, b, c = 0, d;

    TEST("VMMCALL and CPUID lengths: prefixes, a page boundary");
    EXPECT_EQ(vmmcall_prefixed(), (4 << 16) | 17);
    __asm__ volatile(".byte 0x65, 0x67, 0x0f, 0xa2" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    EXPECT(a >= 0xd);                       /* GS and address-size prefixed CPUID */
    a = 0;
    __asm__ volatile(".byte 0x48, 0x64, 0xf2, 0x0f, 0xa2" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    EXPECT(a >= 0xd);                       /* a REX the CPU ignores (not last), FS, REPNE */
    EXPECT_EQ(((unsigned long)vmmcall_straddle + 16) & 0xfff, 0);   /* VMMCALL at 0xffe */
    EXPECT_EQ(vmmcall_straddle(), (4 << 16) | 17);
}

void test_main(void)
{
    check_lengths();
    check_ring3();
}
