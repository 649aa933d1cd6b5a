/*
 * pvh_smp: a PVH domain with two vCPUs (run with --vcpus 2), vCPU 1 started
 * the way Linux starts an application processor: INIT and a Startup IPI
 * through the x2APIC's ICR (hypervisor/arch/x86/vlapic.c, svm.c), into a
 * real-mode stub this kernel copies below 1 MiB.
 *
 * Checks: the MADT lists two enabled local APICs; before its Startup IPI
 * vCPU 1 is down (VCPUOP_is_up 0, VCPUOP_up -EINVAL); Startup IPIs to an
 * APIC id nobody has, to a logical cluster nobody is in, and an INIT
 * de-assert start nothing; INIT then a Startup IPI start vCPU 1 in real
 * mode at vector * 4 KiB (its stub enables its APIC, reads APIC id 1 and
 * makes a hypercall from real mode); fixed IPIs by physical and logical
 * destination and by shorthand reach it and wake it from HLT (its
 * real-mode vector table counts them); a Startup IPI to a running vCPU,
 * and one broadcast to both, is ignored; a second INIT stops it and a
 * Startup IPI restarts it at another page. Hostile: NMI, SMI and the
 * reserved delivery modes #GP; VCPUOP_initialise (a PV context) of a PVH
 * vCPU, with a garbage pointer or none, is -ENOSYS, of a vCPU the domain
 * does not have -ENOENT.
 */
#include "pvh.h"
#include <xen/vcpu.h>

#define ICR             0x830u
#define MODE_FIXED      (0u << 8)
#define MODE_SMI        (2u << 8)
#define MODE_RESERVED3  (3u << 8)
#define MODE_NMI        (4u << 8)
#define MODE_INIT       (5u << 8)
#define MODE_STARTUP    (6u << 8)
#define MODE_RESERVED7  (7u << 8)
#define LOGICAL         (1u << 11)
#define ASSERT          (1u << 14)
#define LEVEL           (1u << 15)
#define ALL_BUT_SELF    (3u << 18)
#define ALL             (2u << 18)
#define DEST(id)        ((uint64_t)(id) << 32)

/* Where the stub goes (physical = virtual: the first GiB is identity-mapped). */
#define STUB_A          0x8000ul        /* Startup IPI vector 0x08 */
#define STUB_B          0x9000ul        /* vector 0x09 */
#define IPI_VECTOR      0x40
/* The stub's data, at these offsets in its page. */
#define OFF_UP          0x800
#define OFF_ID          0x804
#define OFF_VERSION     0x808
#define OFF_IRQS        0x80c

/*
 * The real-mode stub (copied to STUB_A and STUB_B): DS = SS = CS, a stack
 * at the page's end; enables its x2APIC (SVR 0x1ff), stores its APIC id
 * and xen_version's answer (a VMMCALL from real mode), sets the "up"
 * word, then halts with interrupts on for good. ap_isr counts an
 * interrupt and signals EOI.
 */
extern const uint8_t ap_stub[], ap_isr[], ap_stub_end[];
__asm__(
    ".pushsection .rodata.ap_stub, \"a\"\n"
    ".code16\n"
    "ap_stub:\n"
    "    cli\n"
    "    mov %cs, %ax\n"
    "    mov %ax, %ds\n"
    "    mov %ax, %ss\n"
    "    mov $0xff0, %sp\n"
    "    mov $0x80f, %ecx\n"
    "    mov $0x1ff, %eax\n"
    "    xor %edx, %edx\n"
    "    wrmsr\n"
    "    mov $0x802, %ecx\n"
    "    rdmsr\n"
    "    mov %eax, 0x804\n"
    "    mov $17, %eax\n"
    "    xor %ebx, %ebx\n"
    "    xor %ecx, %ecx\n"
    "    vmmcall\n"
    "    mov %eax, 0x808\n"
    "    movl $1, 0x800\n"
    "    sti\n"
    "1:  hlt\n"
    "    jmp 1b\n"
    "ap_isr:\n"
    "    pushal\n"
    "    lock incl %cs:0x80c\n"
    "    mov $0x80b, %ecx\n"
    "    xor %eax, %eax\n"
    "    xor %edx, %edx\n"
    "    wrmsr\n"
    "    popal\n"
    "    iret\n"
    "ap_stub_end:\n"
    ".code64\n"
    ".popsection\n");

/* A word at physical page + off (the compiler is not told the address: low ones are fine here). */
static volatile uint32_t *word(unsigned long page, unsigned int off)
{
    unsigned long a = page + off;
    __asm__("" : "+r"(a));
    return (volatile uint32_t *)a;
}

static long vcpu_op(int cmd, unsigned int id, unsigned long arg)
{
    return hypercall3(__HYPERVISOR_vcpu_op, (unsigned long)cmd, id, arg);
}

static long icr(uint64_t value)
{
    return pvh_wrmsr(ICR, value);
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* Spins until *w == want or about `ticks` TSC ticks went by; the value last read. */
static uint32_t wait_for(volatile uint32_t *w, uint32_t want, uint64_t ticks)
{
    uint64_t end = rdtsc() + ticks;
    while (*w != want && rdtsc() < end)
        __asm__ volatile("pause");
    return *w;
}

#define LONG_WAIT   20000000000ull   /* several seconds of TCG time */
#define SHORT_WAIT  300000000ull     /* a moment: for what must not happen */

static void check_madt(void)
{
    TEST("MADT: two enabled local APICs, ids 0 and 1");
    const uint8_t *rsdp = (const uint8_t *)(unsigned long)pvh_start_info->rsdp_paddr;
    const uint8_t *xsdt = (const uint8_t *)(unsigned long)*(const uint64_t *)(rsdp + 24);
    uint32_t xlen = *(const uint32_t *)(xsdt + 4);
    const uint8_t *madt = NULL;
    for (uint32_t off = 36; off + 8 <= xlen; off += 8) {
        const uint8_t *t = (const uint8_t *)(unsigned long)*(const uint64_t *)(xsdt + off);
        if (!guest_memcmp(t, "APIC", 4))
            madt = t;
    }
    EXPECT(madt != NULL);
    if (!madt)
        return;
    unsigned int n = 0, ids = 0;
    uint32_t len = *(const uint32_t *)(madt + 4);
    for (uint32_t off = 44; off + 2 <= len && madt[off + 1]; off += madt[off + 1])
        if (madt[off] == 0 && (madt[off + 4] & 1)) {
            n++;
            ids |= 1u << madt[off + 3];
        }
    EXPECT_EQ(n, 2);
    EXPECT_EQ(ids, 3);
}

static void check_down(void)
{
    TEST("vCPU 1 before its Startup IPI: down, VCPUOP_up refused");
    EXPECT_EQ(vcpu_op(VCPUOP_is_up, 1, 0), 0);
    EXPECT_EQ(vcpu_op(VCPUOP_up, 1, 0), -XEN_EINVAL);
    EXPECT_EQ(vcpu_op(VCPUOP_is_up, 1, 0), 0);

    TEST("VCPUOP_initialise of a PVH vCPU: -ENOSYS (garbage or none); vCPU 2: -ENOENT");
    EXPECT_EQ(vcpu_op(VCPUOP_initialise, 1, 0xdeadbeef000ul), -XEN_ENOSYS);
    EXPECT_EQ(vcpu_op(VCPUOP_initialise, 1, 0), -XEN_ENOSYS);
    EXPECT_EQ(vcpu_op(VCPUOP_initialise, 0, 0x1000), -XEN_ENOSYS);
    EXPECT_EQ(vcpu_op(VCPUOP_initialise, 2, 0x1000), -XEN_ENOENT);
    EXPECT_EQ(vcpu_op(VCPUOP_is_up, 1, 0), 0);
}

static void place_stubs(void)
{
    unsigned long n = (unsigned long)ap_stub_end - (unsigned long)ap_stub;
    uint32_t isr = (uint32_t)((unsigned long)ap_isr - (unsigned long)ap_stub);
    memcpy((void *)STUB_A, ap_stub, n);
    memcpy((void *)STUB_B, ap_stub, n);
    for (unsigned int off = OFF_UP; off <= OFF_IRQS; off += 4)
        *word(STUB_A, off) = *word(STUB_B, off) = 0;
    /* The real-mode vector table at 0: IPI_VECTOR -> 0x0800:ap_isr. */
    *word(0, IPI_VECTOR * 4) = isr | ((uint32_t)(STUB_A >> 4) << 16);
}

static void check_nobody(void)
{
    TEST("Startup IPIs nobody takes, INIT de-assert: nothing starts");
    EXPECT_EQ(icr(MODE_STARTUP | 0x08 | DEST(5)), PVH_NO_TRAP);         /* no APIC id 5 */
    EXPECT_EQ(icr(MODE_STARTUP | 0x08 | DEST(0xff)), PVH_NO_TRAP);
    EXPECT_EQ(icr(MODE_STARTUP | LOGICAL | 0x08 | DEST((1u << 16) | 2)), PVH_NO_TRAP);
    EXPECT_EQ(icr(MODE_INIT | LEVEL | DEST(1)), PVH_NO_TRAP);           /* de-assert */
    EXPECT_EQ(wait_for(word(STUB_A, OFF_UP), 1, SHORT_WAIT), 0);
    EXPECT_EQ(vcpu_op(VCPUOP_is_up, 1, 0), 0);

    TEST("ICR: NMI, SMI and the reserved delivery modes #GP");
    EXPECT_EQ(icr(MODE_NMI | DEST(1)), PVH_GP);
    EXPECT_EQ(icr(MODE_SMI | DEST(1)), PVH_GP);
    EXPECT_EQ(icr(MODE_RESERVED3 | DEST(1)), PVH_GP);
    EXPECT_EQ(icr(MODE_RESERVED7 | 0x08 | DEST(1)), PVH_GP);
}

static void check_start(void)
{
    TEST("INIT, Startup IPI 0x08: vCPU 1 runs the stub in real mode");
    long version = hyp_xen_version(XENVER_version, NULL);
    EXPECT_EQ(icr(MODE_INIT | LEVEL | ASSERT | DEST(1)), PVH_NO_TRAP);
    EXPECT_EQ(icr(MODE_INIT | LEVEL | DEST(1)), PVH_NO_TRAP);
    EXPECT_EQ(icr(MODE_STARTUP | 0x08 | DEST(1)), PVH_NO_TRAP);
    EXPECT_EQ(wait_for(word(STUB_A, OFF_UP), 1, LONG_WAIT), 1);
    EXPECT_EQ(*word(STUB_A, OFF_ID), 1);
    EXPECT_EQ(*word(STUB_A, OFF_VERSION), version);
    EXPECT_EQ(vcpu_op(VCPUOP_is_up, 1, 0), 1);
    EXPECT_EQ(*word(STUB_B, OFF_UP), 0);
}

static void check_ipis(void)
{
    volatile uint32_t *irqs = word(STUB_A, OFF_IRQS);
    TEST("fixed IPIs to vCPU 1: physical, logical, all-but-self");
    EXPECT_EQ(icr(MODE_FIXED | IPI_VECTOR | DEST(1)), PVH_NO_TRAP);
    EXPECT_EQ(wait_for(irqs, 1, LONG_WAIT), 1);
    EXPECT_EQ(icr(MODE_FIXED | LOGICAL | IPI_VECTOR | DEST(2)), PVH_NO_TRAP); /* cluster 0, bit 1 */
    EXPECT_EQ(wait_for(irqs, 2, LONG_WAIT), 2);
    EXPECT_EQ(icr(MODE_FIXED | ALL_BUT_SELF | IPI_VECTOR), PVH_NO_TRAP);
    EXPECT_EQ(wait_for(irqs, 3, LONG_WAIT), 3);
    EXPECT_EQ(pvh_irq_count[IPI_VECTOR], 0);    /* none came back to vCPU 0 */

    TEST("Startup IPIs to running vCPUs are ignored (vCPU 1's, and a broadcast)");
    EXPECT_EQ(icr(MODE_STARTUP | 0x09 | DEST(1)), PVH_NO_TRAP);
    EXPECT_EQ(icr(MODE_STARTUP | ALL | 0x09), PVH_NO_TRAP);
    EXPECT_EQ(wait_for(word(STUB_B, OFF_UP), 1, SHORT_WAIT), 0);
    EXPECT_EQ(icr(MODE_FIXED | IPI_VECTOR | DEST(1)), PVH_NO_TRAP);     /* still there */
    EXPECT_EQ(wait_for(irqs, 4, LONG_WAIT), 4);
}

static void check_restart(void)
{
    TEST("INIT stops vCPU 1; a Startup IPI 0x09 restarts it at 0x9000");
    EXPECT_EQ(icr(MODE_INIT | LEVEL | ASSERT | DEST(1)), PVH_NO_TRAP);
    EXPECT_EQ(vcpu_op(VCPUOP_is_up, 1, 0), 0);
    EXPECT_EQ(vcpu_op(VCPUOP_initialise, 1, 0xdeadbeef000ul), -XEN_ENOSYS);
    EXPECT_EQ(icr(MODE_STARTUP | 0x09 | DEST(1)), PVH_NO_TRAP);
    EXPECT_EQ(wait_for(word(STUB_B, OFF_UP), 1, LONG_WAIT), 1);
    EXPECT_EQ(*word(STUB_B, OFF_ID), 1);
    EXPECT_EQ(vcpu_op(VCPUOP_is_up, 1, 0), 1);
}

void test_main(void)
{
    check_madt();
    check_down();
    place_stubs();
    check_nobody();
    check_start();
    check_ipis();
    check_restart();
}
