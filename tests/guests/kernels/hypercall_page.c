/*
 * hypercall_page: a kernel whose notes carry XEN_ELFNOTE_HYPERCALL_PAGE, so
 * the hypervisor fills our page-aligned hypercall_page with 32-byte stubs
 * before we start. Built with -DGUEST_HYPERCALL_PAGE, every framework
 * hypercall (console output included) goes through `call page + nr*32`.
 * Checks that the page was written (it was assembled full of int3), that
 * calls through it give the same answers as inline SYSCALL, and that an
 * unknown number's stub returns -ENOSYS.
 */
#include "guest.h"

/* Checks hypercall page filled; counts one result per EXPECT. */
static void test_page_filled(void)
{
    TEST("hypercall page filled");
    EXPECT(((unsigned long)hypercall_page & 4095) == 0);
    EXPECT((unsigned char)hypercall_page[__HYPERVISOR_xen_version * 32] != 0xcc);
    EXPECT((unsigned char)hypercall_page[__HYPERVISOR_console_io * 32] != 0xcc);
    EXPECT((unsigned char)hypercall_page[__HYPERVISOR_sched_op * 32] != 0xcc);
}

/* Checks calls through the page; counts one result per EXPECT. */
static void test_calls(void)
{
    static const char line[] = "hypercall_page: written through the page\n";
    long via_page = hypercall_stub(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0);
    long via_syscall = hypercall_syscall(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0);

    TEST("calls through the page");
    EXPECT(via_page > 0);
    EXPECT_EQ(via_page, via_syscall);
    EXPECT(hypercall_stub(__HYPERVISOR_console_io, CONSOLEIO_write, sizeof(line) - 1,
                          (unsigned long)line, 0, 0) >= 0);
    EXPECT_EQ(hypercall_stub(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0), 0);
    EXPECT_EQ(hypercall_stub(63, 0, 0, 0, 0, 0), -XEN_ENOSYS);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    test_page_filled();
    test_calls();
}
