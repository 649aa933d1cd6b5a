/*
 * fault_no_traps: a guest that faults before registering a trap table. It
 * announces the fault, then writes to address 0 (unmapped). The hypervisor
 * cannot deliver the #PF, so it must kill this domain — and only it: the
 * runner expects the launcher to report a crash (pvkit: exit byte 0x12;
 * Xen: "Hardware Dom0 crashed") and no verdict from this kernel.
 */
#include "guest.h"

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    TEST("fault with no trap table");
    EXPECT(guest_start_info != NULL);
    guest_printf("about to write to address 0\n");
    *(volatile unsigned long *)0 = 0x5a5a;
    guest_printf("survived a write to address 0\n");
    EXPECT(0);
}
