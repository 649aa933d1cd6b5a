/*
 * pvh_debugregs: a PVH guest's DR0-DR3 are its own. The CPU does not swap
 * them on VMRUN/#VMEXIT (only DR6 and DR7 are in the VMCB) and the guest
 * reads and writes them without an exit, so the hypervisor must keep them
 * per vCPU: else a PV domain's breakpoint addresses show through to the
 * PVH guest, and the PVH guest's values are lost when the CPU runs another
 * vCPU. Run beside the PV `hello` (d2) on one CPU (tests/guests/run,
 * guests.mk): the guest starts with all four zero, writes its own values,
 * then yields many times, each time checking they are still there.
 */
#include "pvh.h"

#define ROUNDS 2000

static void read_drs(unsigned long dr[4])
{
    __asm__ volatile("mov %%dr0, %0" : "=r"(dr[0]));
    __asm__ volatile("mov %%dr1, %0" : "=r"(dr[1]));
    __asm__ volatile("mov %%dr2, %0" : "=r"(dr[2]));
    __asm__ volatile("mov %%dr3, %0" : "=r"(dr[3]));
}

static void write_drs(const unsigned long dr[4])
{
    __asm__ volatile("mov %0, %%dr0" : : "r"(dr[0]));
    __asm__ volatile("mov %0, %%dr1" : : "r"(dr[1]));
    __asm__ volatile("mov %0, %%dr2" : : "r"(dr[2]));
    __asm__ volatile("mov %0, %%dr3" : : "r"(dr[3]));
}

void test_main(void)
{
    static const unsigned long mine[4] = { 0x1111000, 0x2222000, 0x3333000, 0x4444000 };
    unsigned long dr[4];
    unsigned int bad = 0;

    TEST("DR0-DR3 start at zero (nothing of another vCPU)");
    read_drs(dr);
    EXPECT_EQ(dr[0] | dr[1] | dr[2] | dr[3], 0);

    TEST("DR0-DR3 keep the guest's values across vCPU switches");
    write_drs(mine);
    for (unsigned int i = 0; i < ROUNDS; i++) {
        EXPECT_EQ(hyp_sched_op(SCHEDOP_yield, NULL), 0);
        read_drs(dr);
        for (unsigned int r = 0; r < 4; r++)
            if (dr[r] != mine[r] && bad++ < 4)
                guest_printf("round %u: DR%u = %lx, wrote %lx\n", i, r, dr[r], mine[r]);
    }
    EXPECT_EQ(bad, 0);
}
