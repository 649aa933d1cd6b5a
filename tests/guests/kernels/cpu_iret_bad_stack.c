/*
 * cpu_iret_bad_stack: the iret hypercall with a stack pointer at which no
 * iret_context can be read. Xen cannot return anywhere sensible, so it
 * kills the domain (and only it); it must neither return an error code
 * into a frame it never read nor fault itself. The runner expects a crash
 * and no verdict after the announcement line.
 */
#include "traps.h"

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    TEST("iret hypercall with an unreadable frame");
    EXPECT_EQ(trap_install(-1), 0);
    guest_printf("about to iret with RSP at an unmapped address\n");
    __asm__ volatile("mov $0x1000, %%rsp\n\t"
                     "mov %0, %%eax\n\t"
                     "syscall"
                     : : "i"(__HYPERVISOR_iret) : "rax", "rcx", "r11", "memory");
    guest_printf("survived an iret with a bad frame\n");
    EXPECT(0);
}
