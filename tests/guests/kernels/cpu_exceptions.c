/*
 * cpu_exceptions: the remaining architectural exceptions and software
 * interrupts raised in guest-kernel mode, each bounced with the right
 * vector, error-code presence and RIP.
 *
 * Why: cpu_traps covers the common vectors; a PV kernel also gets #MF
 * (x87) and software interrupts of both encodings. A missing
 * or extra error code for any of them desynchronises the guest's handler,
 * so each check also looks at the error-code slot and the RSP in the frame.
 *
 * Checks: #MF (vector 16, no error code) at the next waiting x87
 * instruction after an unmasked divide by zero; `int $3` (the two-byte
 * CD 03 form) reaches trap 3 with RIP
 * after it; `int $0x80` from kernel mode reaches trap 0x80 (DPL 3);
 * `int $0x81` (no gate) is #GP with an IDT error code.
 *
 * Not here: #XM and #AC, which QEMU's TCG does not raise (an unmasked SSE
 * divide by zero and a misaligned load with RFLAGS.AC and CR0.AM set both
 * complete without a trap under Xen 4.17 on QEMU 7.2 TCG).
 */
#include "traps.h"

/* Runs the probe asm TEXT and returns (count delta, recorded RSP). */
#define PROBE_RSP(text, rsp_out) ({                                         \
    unsigned long before_ = trap_last.count;                               \
    __asm__ volatile("mov %%rsp, %0\n\t" TRAP_PROBE_ASM(text)              \
                     : "=&r"(rsp_out) : : "r11", "memory", "cc");           \
    trap_resume = 0;                                                        \
    trap_last.count - before_;                                              \
})

/* Checks the last trap: VECTOR, at RIP AT, error ERR, frame RSP. */
static void expect_trap(unsigned long n, unsigned long vector, unsigned long at,
                        unsigned long err, unsigned long rsp)
{
    EXPECT_EQ(n, 1);
    EXPECT_EQ(trap_last.vector, vector);
    if (at)
        EXPECT_EQ(trap_last.rip, at);
    EXPECT_EQ(trap_last.error, err);
    EXPECT_EQ(trap_last.rsp, rsp);
}

/* #MF: unmasked x87 divide by zero, reported at fwait. */
static void test_mf(void)
{
    unsigned short cw = 0x37b;   /* all masked except ZE */
    unsigned long rsp, at, n;

    TEST("#MF from x87");
    __asm__ volatile("fninit\n\tfldcw %0\n\tfld1\n\tfldz\n\tfdivrp" : : "m"(cw));
    __asm__ volatile("leaq 2f(%%rip), %0" : "=r"(at) : : "memory");
    n = PROBE_RSP("2: fwait", rsp);
    guest_printf("     #MF: vector %lu rip 0x%lx (fwait 0x%lx)\n", trap_last.vector,
                 trap_last.rip, at);
    expect_trap(n, 16, at, 0, rsp);
    __asm__ volatile("fnclex\n\tfninit");
}

/* Software interrupts from kernel mode. */
static void test_soft_ints(void)
{
    unsigned long rsp, after, n;

    TEST("int $3, int $0x80, int $0x81 in kernel mode");
    n = PROBE_RSP(".byte 0xcd, 0x03", rsp);        /* int $3, not int3 */
    __asm__ volatile("" ::: "memory");
    after = trap_last.rip;
    expect_trap(n, 3, 0, 0, rsp);
    EXPECT_EQ(*(unsigned char *)(after - 2), 0xcd);
    n = PROBE_RSP("int $0x80", rsp);
    expect_trap(n, 0x80, 0, 0, rsp);
    EXPECT_EQ(*(unsigned char *)(trap_last.rip - 2), 0xcd);
    n = PROBE_RSP("int $0x81", rsp);
    guest_printf("     int $0x81: vector %lu error 0x%lx\n", trap_last.vector, trap_last.error);
    EXPECT_EQ(n, 1);
    EXPECT_EQ(trap_last.vector, 13);
    EXPECT_EQ(trap_last.error & 3, 2);
    EXPECT_EQ(*(unsigned char *)trap_last.rip, 0xcd);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    EXPECT_EQ(trap_install(3), 0);
    test_mf();
    test_soft_ints();
}
