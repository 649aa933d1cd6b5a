/*
 * console: HYPERVISOR_console_io from a well-behaved guest. Writes of a
 * short line, an empty buffer and a long multi-chunk buffer succeed; a read
 * with nothing typed (the runner gives QEMU no input) returns 0 and leaves
 * the buffer alone; a zero-length read returns 0; an unknown command fails
 * with Xen's error.
 */
#include "guest.h"

/* Checks CONSOLEIO_write; counts one result per EXPECT. */
static void test_write(void)
{
    static const char line[] = "console: a short line\n";
    static char big[700];
    long rc;

    TEST("CONSOLEIO_write");
    rc = hyp_console_io(CONSOLEIO_write, sizeof(line) - 1, line);
    guest_printf("     write(%lu) = %ld\n", (unsigned long)sizeof(line) - 1, rc);
    EXPECT(rc >= 0);
    EXPECT_EQ(hyp_console_io(CONSOLEIO_write, 0, line), 0);
    memset(big, '=', sizeof(big));
    big[sizeof(big) - 1] = '\n';
    rc = hyp_console_io(CONSOLEIO_write, sizeof(big), big);
    guest_printf("     write(%lu) = %ld\n", (unsigned long)sizeof(big), rc);
    EXPECT(rc >= 0);
}

/* Checks CONSOLEIO_read; counts one result per EXPECT. */
static void test_read(void)
{
    static char buf[64];

    TEST("CONSOLEIO_read");
    memset(buf, 0x5a, sizeof(buf));
    EXPECT_EQ(hyp_console_io(CONSOLEIO_read, sizeof(buf), buf), 0);
    EXPECT_EQ(buf[0], 0x5a);
    EXPECT_EQ(hyp_console_io(CONSOLEIO_read, 0, buf), 0);
}

/* Checks console_io unknown command; counts one result per EXPECT. */
static void test_unknown(void)
{
    TEST("console_io unknown command");
    EXPECT_EQ(hyp_console_io(99, 4, "xxxx"), -XEN_ENOSYS);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    test_write();
    test_read();
    test_unknown();
}
