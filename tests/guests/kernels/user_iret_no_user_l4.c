/*
 * user_iret_no_user_l4: an iret hypercall to guest user mode (CS RPL 3)
 * while no user L4 is set (NEW_USER_BASEPTR 0, as for a kernel thread).
 * There is no address space to run user mode in, so Xen kills the domain
 * rather than run user code on the kernel page tables (which would expose
 * all kernel memory to it). The runner expects a crash and no verdict.
 */
#include "traps.h"
#include "hyp.h"

static char user_stack[4096] __attribute__((aligned(4096)));

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    TEST("iret to user mode without a user L4");
    EXPECT_EQ(trap_install(-1), 0);
    EXPECT_EQ(hyp_mmuext1(MMUEXT_NEW_USER_BASEPTR, 0), 0);
    guest_printf("about to iret to user mode with no user L4\n");
    trap_enter_user((unsigned long)test_main, (unsigned long)user_stack + 4096, 0);
}
