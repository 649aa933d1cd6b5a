/*
 * sched: SCHEDOP_yield returns 0 (repeatedly), unknown sched_op commands
 * fail with -ENOSYS, and a shutdown whose argument pointer is bad fails
 * with -EFAULT without ending the domain; the final poweroff comes from the
 * framework. (An out-of-range shutdown reason is not refused by Xen 4.17:
 * it ends the domain, see shutdown_unknown.) (SCHEDOP_block needs event channels and an upcall handler,
 * which these first kernels do not have.)
 */
#include "guest.h"

/* Checks SCHEDOP_yield; counts one result per EXPECT. */
static void test_yield(void)
{
    long rc = 0;

    TEST("SCHEDOP_yield");
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT_EQ(rc, 0);
}

/* Checks sched_op unknown commands; counts one result per EXPECT. */
static void test_unknown(void)
{
    TEST("sched_op unknown commands");
    EXPECT_EQ(hyp_sched_op(99, NULL), -XEN_ENOSYS);
    EXPECT_EQ(hyp_sched_op(0x7fffffff, NULL), -XEN_ENOSYS);
}

/* Checks SCHEDOP_shutdown with a bad argument pointer; counts one result per EXPECT. */
static void test_bad_shutdown(void)
{
    TEST("SCHEDOP_shutdown with a bad argument pointer");
    EXPECT_EQ(hyp_sched_op(SCHEDOP_shutdown, NULL), -XEN_EFAULT);
    EXPECT_EQ(hyp_sched_op(SCHEDOP_shutdown, (void *)0xFFFF830000000000UL), -XEN_EFAULT);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    test_yield();
    test_unknown();
    test_bad_shutdown();
}
