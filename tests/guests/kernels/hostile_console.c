/*
 * hostile_console: console_io handed pointers a guest must not be able to
 * use. Each write must fail with -EFAULT and change nothing: NULL, an
 * address inside the hypervisor (0xFFFF830000000000), the guest-readable
 * M2P (still hypervisor space, so not a valid guest buffer), a non-canonical
 * address, an unmapped user address and an unmapped kernel address beyond
 * the initial mapping. A read into a bad buffer with nothing to read may
 * return 0 (nothing copied) or -EFAULT. Afterwards the console still works
 * and the run goes on to its verdict.
 */
#include "guest.h"

/* The addresses we hand to the hypervisor, with a name for the log. */
static const struct {
    const char *name;
    unsigned long addr;
} bad_ptrs[] = {
    { "NULL", 0 },
    { "hypervisor 0xFFFF830000000000", 0xFFFF830000000000UL },
    { "M2P 0xFFFF800000000000", 0xFFFF800000000000UL },
    { "non-canonical 0x0000800000000000", 0x0000800000000000UL },
    { "non-canonical 0x8000000000000000", 0x8000000000000000UL },
    { "unmapped user 0x12345000", 0x12345000UL },
    { "unmapped kernel VIRT_BASE+768MiB", GUEST_VIRT_BASE + (768UL << 20) },
};

#define N_BAD (sizeof(bad_ptrs) / sizeof(bad_ptrs[0]))

/* Checks CONSOLEIO_write with bad pointers; counts one result per EXPECT. */
static void test_bad_writes(void)
{
    TEST("CONSOLEIO_write with bad pointers");
    for (size_t i = 0; i < N_BAD; i++) {
        long rc = hyp_console_io(CONSOLEIO_write, 16, (const void *)bad_ptrs[i].addr);

        guest_printf("     write(%s) = %ld\n", bad_ptrs[i].name, rc);
        EXPECT_EQ(rc, -XEN_EFAULT);
    }
}

/* Checks CONSOLEIO_read with bad pointers; counts one result per EXPECT. */
static void test_bad_reads(void)
{
    TEST("CONSOLEIO_read with bad pointers");
    for (size_t i = 0; i < N_BAD; i++) {
        long rc = hyp_console_io(CONSOLEIO_read, 16, (void *)bad_ptrs[i].addr);

        guest_printf("     read(%s) = %ld\n", bad_ptrs[i].name, rc);
        EXPECT(rc == 0 || rc == -XEN_EFAULT);
    }
}

/* Checks console works after the bad calls; counts one result per EXPECT. */
static void test_still_alive(void)
{
    static const char line[] = "hostile_console: still alive\n";

    TEST("console works after the bad calls");
    EXPECT(hyp_console_io(CONSOLEIO_write, sizeof(line) - 1, line) >= 0);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    test_bad_writes();
    test_bad_reads();
    test_still_alive();
}
