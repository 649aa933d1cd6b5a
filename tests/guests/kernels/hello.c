/*
 * hello: the smallest useful test kernel. It proves the image was built and
 * entered (notes, entry, stack), that SYSCALL hypercalls and console_io
 * work, and that the verdict and shutdown path ends the run with poweroff.
 * It is the default guest of `make run`.
 */
#include "guest.h"

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    static const char msg[] = "hello from a pvkit test kernel\n";

    TEST("hello");
    EXPECT(guest_start_info != NULL);
    EXPECT(hyp_console_io(CONSOLEIO_write, sizeof(msg) - 1, msg) >= 0);
    EXPECT(hyp_xen_version(XENVER_version, NULL) > 0);
}
