/*
 * emul_priv: privileged instructions that a PV kernel still executes
 * natively at CPL 3 and the hypervisor emulates (or reflects as #GP).
 *
 * Why: Linux 6.1 PV runs native WRMSR GS_BASE as its very first trapping
 * instruction, reads CR0/CR4 (and CR2 in early fault handling), probes
 * MSRs with exception fixups, touches legacy I/O ports, executes WBINVD,
 * and uses the forced-emulation CPUID prefix everywhere. Everything not on
 * the allow-list must arrive in the guest as #GP with RIP unchanged.
 *
 * Checks: WRMSR/RDMSR of FS_BASE, GS_BASE, KERNEL_GS_BASE (seen through
 * %fs:0 / %gs:0 and read back), non-canonical WRMSR → #GP; RDMSR/WRMSR of
 * an unknown MSR → #GP(0) at the instruction; RDMSR IA32_PAT and
 * APIC_BASE values; MOV from CR0 (PE, PG, ET; TS tracks CLTS and MOV to
 * CR0), CR2 (the last #PF address), CR4 (PAE, no PGE/PSE); port I/O:
 * #GP(0) while the virtual IOPL is 0 (even for dom0), then after
 * PHYSDEVOP_set_iopl(1) byte/word/dword reads of Xen's own COM1 give all
 * ones and writes are discarded; dom0's real CMOS read at 0x71 is printed;
 * WBINVD completes; HLT is #GP(0) (not emulated, as Xen); forced-emulation
 * CPUID; LGDT, LTR, native MOV to DR7
 * and INVLPG outcomes. Native MOV from every debug register DR0-DR7 gives
 * what get_debugreg gives (DR0 and DR3 holding kernel addresses, which look
 * negative as longs; DR4/DR5 alias DR6/DR7), with no trap.
 */
#include "traps.h"
#include "pt.h"
#include "seg.h"

#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_PAT            0x277
#define MSR_APIC_BASE      0x1b
#define MSR_BOGUS          0x4b564d99    /* no such MSR */
#define CR0_PE 0x1UL
#define CR0_TS 0x8UL
#define CR0_ET 0x10UL
#define CR0_PG 0x80000000UL
#define CR4_PSE 0x10UL
#define CR4_PAE 0x20UL
#define CR4_PGE 0x80UL

static char pool[4][4096] __attribute__((aligned(4096)));

/* RDMSR; *TRAPPED = number of traps it raised. */
static uint64_t rdmsr(uint32_t msr, unsigned long *trapped)
{
    unsigned long before = trap_last.count;
    uint32_t lo = 0, hi = 0;

    __asm__ volatile(TRAP_PROBE_ASM("rdmsr") : "+a"(lo), "+d"(hi) : "c"(msr) : "r11", "memory");
    trap_resume = 0;
    *trapped = trap_last.count - before;
    return ((uint64_t)hi << 32) | lo;
}

/* WRMSR; returns the number of traps it raised. */
static unsigned long wrmsr(uint32_t msr, uint64_t v)
{
    unsigned long before = trap_last.count;

    __asm__ volatile(TRAP_PROBE_ASM("wrmsr")
                     : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "r11", "memory");
    trap_resume = 0;
    return trap_last.count - before;
}

/* The segment-base MSRs. */
static void test_base_msrs(void)
{
    uint64_t *fsp = pt_alloc(), *gsp = pt_alloc();
    unsigned long t;

    TEST("WRMSR/RDMSR FS_BASE, GS_BASE, KERNEL_GS_BASE");
    fsp[0] = 0xf5;
    gsp[0] = 0x65;
    EXPECT_EQ(wrmsr(MSR_FS_BASE, (unsigned long)fsp), 0);
    EXPECT_EQ(read_fs0(), 0xf5);
    EXPECT_EQ(rdmsr(MSR_FS_BASE, &t), (unsigned long)fsp);
    EXPECT_EQ(t, 0);
    EXPECT_EQ(wrmsr(MSR_GS_BASE, (unsigned long)gsp), 0);
    EXPECT_EQ(read_gs0(), 0x65);
    EXPECT_EQ(rdmsr(MSR_GS_BASE, &t), (unsigned long)gsp);
    EXPECT_EQ(wrmsr(MSR_KERNEL_GS_BASE, 0x7000UL), 0);
    EXPECT_EQ(rdmsr(MSR_KERNEL_GS_BASE, &t), 0x7000UL);
    EXPECT_EQ(read_gs0(), 0x65);
    EXPECT_EQ(wrmsr(MSR_FS_BASE, 0x0000800000000000UL), 1);
    EXPECT_EQ(trap_last.vector, 13);
    EXPECT_EQ(read_fs0(), 0xf5);
    EXPECT_EQ(wrmsr(MSR_FS_BASE, 0), 0);
}

/* Unknown MSRs fault; PAT and APIC_BASE read as Xen presents them. */
static void test_other_msrs(void)
{
    unsigned long t;
    uint64_t v;

    TEST("RDMSR/WRMSR of other MSRs");
    rdmsr(MSR_BOGUS, &t);
    EXPECT_EQ(t, 1);
    EXPECT_EQ(trap_last.vector, 13);
    EXPECT_EQ(trap_last.error, 0);
    EXPECT_EQ(wrmsr(MSR_BOGUS, 1), 1);
    EXPECT_EQ(trap_last.vector, 13);
    v = rdmsr(MSR_PAT, &t);
    guest_printf("     IA32_PAT: 0x%lx (trapped %lu)\n", v, t);
    EXPECT_EQ(t, 0);
    EXPECT_EQ(v, 0x0000050100070406UL);
    v = rdmsr(MSR_APIC_BASE, &t);
    guest_printf("     APIC_BASE: 0x%lx (trapped %lu)\n", v, t);
    EXPECT_EQ(t, 0);
    EXPECT_EQ(v & ~0xfffUL, 0xfee00000UL);
}

/* MOV from CR0/CR2/CR4 (emulated), MOV to CR0 and CLTS for TS. */
static void test_crs(void)
{
    unsigned long cr0, cr2, cr4;

    TEST("MOV from CR0, CR2, CR4");
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    guest_printf("     CR0 0x%lx\n", cr0);
    EXPECT_EQ(cr0 & (CR0_PE | CR0_PG | CR0_ET), CR0_PE | CR0_PG | CR0_ET);
    EXPECT_EQ(TRAP_PROBE_RAX("movb (%%rax), %%al", 0x5000), 1);
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    EXPECT_EQ(cr2, 0x5000);
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    guest_printf("     CR4 0x%lx\n", cr4);
    EXPECT_EQ(cr4 & CR4_PAE, CR4_PAE);
    EXPECT_EQ(cr4 & (CR4_PGE | CR4_PSE), 0);
    __asm__ volatile("mov %0, %%cr0" : : "r"(cr0 | CR0_TS));
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    EXPECT_EQ(cr0 & CR0_TS, CR0_TS);
    __asm__ volatile("clts");
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    EXPECT_EQ(cr0 & CR0_TS, 0);
}

/* IN/OUT: #GP without virtual IOPL; with IOPL 1, Xen's COM1 reads as ones. */
static void test_ports(void)
{
    struct physdev_set_iopl iopl = { .iopl = 1 };
    unsigned long before = trap_last.count, at;
    uint8_t b;
    uint16_t w;
    uint32_t l;

    TEST("port I/O");
    __asm__ volatile("leaq 2f(%%rip), %0\n\t" TRAP_PROBE_ASM("2: inb $0x71, %%al")
                     : "=&r"(at) : : "rax", "r11", "memory");
    EXPECT_EQ(trap_last.count - before, 1);
    EXPECT_EQ(trap_last.vector, 13);
    EXPECT_EQ(trap_last.error, 0);
    EXPECT_EQ(trap_last.rip, at);
    EXPECT_EQ(TRAP_PROBE_RAX("outb %%al, $0x80", 0), 1);
    EXPECT_EQ(hyp_physdev_op(PHYSDEVOP_set_iopl, &iopl), 0);
    __asm__ volatile("inb %w1, %0" : "=a"(b) : "d"(0x3fd));
    __asm__ volatile("inw %w1, %0" : "=a"(w) : "d"(0x3f8));
    __asm__ volatile("inl %w1, %0" : "=a"(l) : "d"(0x3f8));
    guest_printf("     COM1 (Xen's console): inb 0x%x inw 0x%x inl 0x%x\n", b, w, l);
    EXPECT_EQ(b, 0xff);
    EXPECT_EQ(w, 0xffff);
    EXPECT_EQ(l, 0xffffffffU);
    __asm__ volatile("outb %b0, %w1" : : "a"('!'), "d"(0x3f8));   /* a trap would stop us */
    EXPECT_EQ(TRAP_PROBE_RAX("inb $0x71, %%al", 0), 0);
    __asm__ volatile("inb $0x71, %0" : "=a"(b));
    guest_printf("     inb $0x71 as dom0 with IOPL 1: 0x%x\n", b);
}

/* WBINVD, forced CPUID, and instructions that are not emulated. */
static void test_misc(void)
{
    uint32_t r[4];
    unsigned long n;

    TEST("WBINVD, forced CPUID, unemulated instructions");
    EXPECT_EQ(TRAP_PROBE("wbinvd"), 0);
    EXPECT_EQ(TRAP_PROBE("hlt"), 1);        /* as Xen 4.17: not emulated */
    EXPECT_EQ(trap_last.vector, 13);
    EXPECT_EQ(trap_last.error, 0);
    guest_cpuid(0x40000000, 0, r);
    EXPECT_EQ(r[1], 0x566e6558);            /* "XenV" */
    guest_cpuid(1, 0, r);
    EXPECT(r[2] & (1U << 31));
    EXPECT_EQ(TRAP_PROBE("lgdt (%%rsp)"), 1);
    EXPECT_EQ(trap_last.vector, 13);
    EXPECT_EQ(TRAP_PROBE_RAX("ltr %%ax", 0x28), 1);
    EXPECT_EQ(trap_last.vector, 13);
    n = TRAP_PROBE_RAX("mov %%rax, %%dr7", 0x400);
    guest_printf("     native mov to DR7: %lu trap(s)\n", n);
    EXPECT_EQ(n, 0);
    n = TRAP_PROBE_RAX("invlpg (%%rax)", 0x5000);
    guest_printf("     native invlpg: %lu trap(s), vector %lu\n", n, trap_last.vector);
    EXPECT_EQ(n, 1);
    EXPECT_EQ(trap_last.vector, 13);
}

/* Reads debug register N with a native MOV (emulated); counts traps in *traps. */
#define READ_DR(n, traps) ({                                            \
    unsigned long v_ = 0xdeadbeef, before_ = trap_last.count;          \
    __asm__ volatile(TRAP_PROBE_ASM("mov %%dr" #n ", %0") : "+r"(v_) : : "r11", "memory"); \
    trap_resume = 0;                                                    \
    *(traps) += trap_last.count - before_;                              \
    v_;                                                                 \
})

static void test_mov_from_dr(void)
{
    unsigned long traps = 0, got[8];
    const unsigned long dr0 = (unsigned long)&pool[0][8], dr3 = (unsigned long)&pool[1][16];

    TEST("native MOV from DR0-DR7: the values get_debugreg gives");
    EXPECT_EQ(hyp_set_debugreg(0, dr0), 0);
    EXPECT_EQ(hyp_set_debugreg(3, dr3), 0);
    got[0] = READ_DR(0, &traps);
    got[1] = READ_DR(1, &traps);
    got[2] = READ_DR(2, &traps);
    got[3] = READ_DR(3, &traps);
    got[4] = READ_DR(4, &traps);
    got[5] = READ_DR(5, &traps);
    got[6] = READ_DR(6, &traps);
    got[7] = READ_DR(7, &traps);
    EXPECT_EQ(traps, 0);
    EXPECT_EQ(got[0], dr0);
    EXPECT_EQ(got[3], dr3);
    for (int i = 0; i < 8; i++)
        EXPECT_EQ(got[i], (unsigned long)hyp_get_debugreg(i));
    EXPECT_EQ(got[4], got[6]);
    EXPECT_EQ(got[5], got[7]);
    EXPECT_EQ(hyp_set_debugreg(0, 0), 0);
    EXPECT_EQ(hyp_set_debugreg(3, 0), 0);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    pt_pool_init(pool, 4);
    EXPECT_EQ(trap_install(-1), 0);
    trap_shared_info = pt_map_shared_info();
    test_base_msrs();
    test_mov_from_dr();
    test_other_msrs();
    test_crs();
    test_ports();
    test_misc();
}
