/*
 * stats_errors: the hypervisor's per-hypercall statistics count as errors
 * only the results -1..-4095 (-errno), not every negative value (issue 12).
 *
 * set_debugreg puts a kernel address (0xffffffff8..., negative as a long)
 * in DR0; get_debugreg(0) then returns that address five times: successes
 * whose value is negative. get_debugreg of register 99 fails three times
 * with -ENODEV (as Xen 4.17). When the domain ends pvkit prints its statistics; the run
 * script (tests/guests/run, pvkit_text) checks that they say
 * "8:1/0 9:8/3": set_debugreg one call, no error; get_debugreg eight
 * calls, three errors. pvkit before the fix counted all eight as errors
 * ("9:8/8"). On Xen the checks in the kernel itself pass as well (Xen
 * prints no such statistics).
 */
#include "guest.h"
#include "hyp.h"

static char marker;

void test_main(void)
{
    unsigned long addr = (unsigned long)&marker;

    TEST("get_debugreg returning a kernel address is a success, register 99 an error");
    EXPECT((long)addr < 0);
    EXPECT_EQ(hyp_set_debugreg(0, addr), 0);
    for (int i = 0; i < 5; i++)
        EXPECT_EQ(hyp_get_debugreg(0), (long)addr);
    for (int i = 0; i < 3; i++)
        EXPECT_EQ(hyp_get_debugreg(99), -XEN_ENODEV);
}
