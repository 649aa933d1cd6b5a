/*
 * hypercall_unknown: hypercall numbers no hypervisor implements, each of
 * which must return -ENOSYS and nothing else: holes in Xen's numbering,
 * numbers past the table, huge values and a valid number with garbage in
 * RAX's upper half. Afterwards a real hypercall still works.
 */
#include "guest.h"

static const unsigned long unknown_nrs[] = {
    11, 43, 47, 56, 63, 64, 100, 127, 128, 1000, 0xffffffffUL, ~0UL,
};

#define N_UNKNOWN (sizeof(unknown_nrs) / sizeof(unknown_nrs[0]))

/* Checks unknown hypercall numbers; counts one result per EXPECT. */
static void test_unknown(void)
{
    TEST("unknown hypercall numbers");
    for (size_t i = 0; i < N_UNKNOWN; i++) {
        long rc = hypercall5(unknown_nrs[i], 1, 2, 3, 4, 5);

        guest_printf("     hypercall(0x%lx) = %ld\n", unknown_nrs[i], rc);
        EXPECT_EQ(rc, -XEN_ENOSYS);
    }
}

/* Checks hypercall number with upper bits set; counts one result per EXPECT. */
static void test_high_bits(void)
{
    long rc = hypercall5((1UL << 32) | __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0);

    TEST("hypercall number with upper bits set");
    guest_printf("     hypercall(0x1_00000011) = %ld\n", rc);
    EXPECT_EQ(rc, -XEN_ENOSYS);
}

/* Checks known hypercall afterwards; counts one result per EXPECT. */
static void test_still_works(void)
{
    TEST("known hypercall afterwards");
    EXPECT(hyp_xen_version(XENVER_version, NULL) > 0);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    test_unknown();
    test_high_bits();
    test_still_works();
}
