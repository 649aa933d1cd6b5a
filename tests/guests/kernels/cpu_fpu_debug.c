/*
 * cpu_fpu_debug: lazy FPU switching (fpu_taskswitch, #NM) and the debug
 * registers (set_debugreg / get_debugreg).
 *
 * Why: CR0.TS of a PV guest is virtual; fpu_taskswitch(1) must make the
 * next x87/SSE instruction raise #NM in the guest (trap 7), whose handler
 * clears TS with fpu_taskswitch(0) and re-executes it, with the register
 * state intact. The emulated `mov %cr0` must show the virtual TS. Debug
 * registers are set by hypercall; addresses that would let the guest watch
 * the hypervisor must be refused.
 *
 * Checks: TS visible in CR0 after fpu_taskswitch(1) and gone after (0);
 * exactly one #NM for an SSE and one for an x87 instruction after
 * fpu_taskswitch(1), RIP at the instruction, the instruction completes
 * after the handler and XMM0 keeps its value; no #NM with TS clear.
 * DR0-DR3 and DR7 round trips, DR6 readable; DR0 in the hypervisor range,
 * non-canonical and DR7 with GD (-EPERM); DR4 aliases DR6; DR8 is -ENODEV.
 * #DB: single-stepping (TF) traps after one instruction with DR6.BS, a
 * DR0/DR7 instruction breakpoint faults at the instruction with DR6.B0.
 */
#include "traps.h"
#include "pt.h"

#define CR0_TS 0x8UL

static unsigned long nm_count, nm_rip;
static char never_executed[64];

/* Trap 7: clear TS and re-execute the instruction. */
static int nm_hook(struct trap_frame *f)
{
    if (f->vector != 7)
        return 0;
    nm_count++;
    nm_rip = f->rip;
    if (hyp_fpu_taskswitch(0) != 0)
        guest_printf("FAIL fpu_taskswitch(0) in the #NM handler\n");
    return 1;
}

/* Emulated MOV from CR0. */
static unsigned long read_cr0(void)
{
    unsigned long v;

    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

/* Puts V in XMM0 (SSE, may #NM); returns the address of the instruction. */
static unsigned long sse_put(unsigned long v)
{
    unsigned long at;

    __asm__ volatile("leaq 1f(%%rip), %0\n1:\tmovq %1, %%xmm0" : "=&r"(at) : "r"(v));
    return at;
}

/* Reads XMM0 (SSE). */
static unsigned long sse_get(void)
{
    unsigned long v;

    __asm__ volatile("movq %%xmm0, %0" : "=r"(v));
    return v;
}

/* An x87 instruction (fninit); returns its address. */
static unsigned long x87_op(void)
{
    unsigned long at;

    __asm__ volatile("leaq 1f(%%rip), %0\n1:\tfninit" : "=&r"(at));
    return at;
}

/* fpu_taskswitch and #NM. */
static void test_fpu(void)
{
    unsigned long at;

    TEST("fpu_taskswitch and #NM");
    trap_kernel_hook = nm_hook;
    EXPECT_EQ(hyp_fpu_taskswitch(0), 0);
    EXPECT_EQ(read_cr0() & CR0_TS, 0);
    sse_put(0x1122334455667788UL);
    EXPECT_EQ(nm_count, 0);
    EXPECT_EQ(hyp_fpu_taskswitch(1), 0);
    guest_printf("     CR0 with TS set: 0x%lx\n", read_cr0());
    EXPECT_EQ(read_cr0() & CR0_TS, CR0_TS);
    EXPECT_EQ(sse_get(), 0x1122334455667788UL);
    EXPECT_EQ(nm_count, 1);
    EXPECT_EQ(read_cr0() & CR0_TS, 0);
    at = sse_put(0x99);
    EXPECT_EQ(nm_count, 1);
    EXPECT(at != 0);
    EXPECT_EQ(hyp_fpu_taskswitch(1), 0);
    at = x87_op();
    EXPECT_EQ(nm_count, 2);
    EXPECT_EQ(nm_rip, at);
    EXPECT_EQ(hyp_fpu_taskswitch(1), 0);
    at = sse_put(0xabcdef);
    EXPECT_EQ(nm_count, 3);
    EXPECT_EQ(nm_rip, at);
    EXPECT_EQ(sse_get(), 0xabcdef);
    EXPECT_EQ(nm_count, 3);
    trap_kernel_hook = NULL;
}

/* set_debugreg(REG, V) then get_debugreg(REG) == V. */
static void round_trip(int reg, unsigned long v)
{
    guest_printf("     DR%d = 0x%lx\n", reg, v);
    EXPECT_EQ(hyp_set_debugreg(reg, v), 0);
    EXPECT_EQ(hyp_get_debugreg(reg), (long)v);
}

/* Debug registers: round trips and refused values. */
static void test_debugreg(void)
{
    unsigned long addr = (unsigned long)never_executed;
    long rc;

    TEST("set_debugreg / get_debugreg");
    for (int r = 0; r < 4; r++)
        round_trip(r, addr + (unsigned long)r * 8);
    round_trip(0, 0x400000UL);
    round_trip(7, 0x401);               /* L0: instruction breakpoint at DR0 */
    round_trip(7, 0x400);
    guest_printf("     DR6 = 0x%lx\n", hyp_get_debugreg(6));
    EXPECT_EQ(hyp_get_debugreg(6) & 0xf, 0);
    rc = hyp_set_debugreg(0, 0xFFFF830000000000UL);
    guest_printf("     DR0 in the hypervisor range: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EPERM);
    rc = hyp_set_debugreg(1, 0x0000800000000000UL);
    guest_printf("     DR1 non-canonical: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EPERM);
    EXPECT_EQ(hyp_get_debugreg(0), 0x400000L);
    rc = hyp_set_debugreg(7, 0x2400);
    guest_printf("     DR7 with GD: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EPERM);
    rc = hyp_set_debugreg(4, 0);
    guest_printf("     set DR4: %ld, get DR4: %ld, set DR8: %ld, get DR8: %ld\n", rc,
                 hyp_get_debugreg(4), hyp_set_debugreg(8, 0), hyp_get_debugreg(8));
    EXPECT_EQ(rc, 0);                               /* DR4 aliases DR6 (CR4.DE clear) */
    EXPECT_EQ(hyp_get_debugreg(4), hyp_get_debugreg(6));
    EXPECT_EQ(hyp_set_debugreg(8, 0), -XEN_ENODEV);
    EXPECT_EQ(hyp_get_debugreg(8), -XEN_ENODEV);
    for (int r = 0; r < 4; r++)
        EXPECT_EQ(hyp_set_debugreg(r, 0), 0);
}

static unsigned long db_count, db_rip, db_dr6;

/* Trap 1: records, clears TF and disables breakpoints, resumes. */
static int db_hook(struct trap_frame *f)
{
    if (f->vector != 1)
        return 0;
    db_count++;
    db_rip = f->rip;
    db_dr6 = (unsigned long)hyp_get_debugreg(6);
    f->rflags &= ~0x100UL;
    hyp_set_debugreg(7, 0x400);
    hyp_set_debugreg(6, 0xffff0ff0);
    return 1;
}

/* #DB from single-stepping and from an instruction breakpoint; DR6 bits. */
static void test_db(void)
{
    unsigned long after, bp;

    TEST("#DB: single step and DR0 breakpoint, DR6");
    trap_kernel_hook = db_hook;
    __asm__ volatile("pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
                     "nop\n"
                     "1:\tleaq 1b(%%rip), %0"
                     : "=r"(after) : : "memory", "cc");
    EXPECT_EQ(db_count, 1);
    EXPECT_EQ(db_rip, after);
    guest_printf("     DR6 after single step: 0x%lx\n", db_dr6);
    EXPECT_EQ(db_dr6 & 0x4000, 0x4000);
    __asm__ volatile("leaq 2f(%%rip), %0" : "=r"(bp));
    EXPECT_EQ(hyp_set_debugreg(0, bp), 0);
    EXPECT_EQ(hyp_set_debugreg(7, 0x401), 0);
    __asm__ volatile("2:\tnop" ::: "memory");
    EXPECT_EQ(db_count, 2);
    EXPECT_EQ(db_rip, bp);
    guest_printf("     DR6 after the DR0 breakpoint: 0x%lx\n", db_dr6);
    EXPECT_EQ(db_dr6 & 0xf, 1);
    EXPECT_EQ(hyp_get_debugreg(7), 0x400);
    trap_kernel_hook = NULL;
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    EXPECT_EQ(trap_install(-1), 0);
    test_fpu();
    test_debugreg();
    test_db();
}
