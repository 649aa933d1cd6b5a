/*
 * hostile_version: xen_version sub-ops that write their answer to guest
 * memory, handed output pointers the guest must not be able to write
 * through the hypervisor. Each must fail with -EFAULT and write nothing:
 * NULL, hypervisor space, the read-only M2P, non-canonical, unmapped, and —
 * the case that matters for PV safety — our own L4 page-table page, which
 * is mapped read-only to us; a hypervisor that wrote there on our behalf
 * would let a guest forge page-table entries. The L4 must be unchanged.
 */
#include "guest.h"

/* Asks for the 16-byte extraversion at ADDR; returns the hypercall result. */
static long write_extraversion(unsigned long addr)
{
    return hyp_xen_version(XENVER_extraversion, (void *)addr);
}

/* Asks for feature submap 0 at ADDR (read, then written); returns the result. */
static long write_features(unsigned long addr)
{
    return hyp_xen_version(XENVER_get_features, (void *)addr);
}

/* Expects both writing sub-ops to fail with -EFAULT at ADDR (named WHAT). */
static void expect_efault(const char *what, unsigned long addr)
{
    long rc1 = write_extraversion(addr), rc2 = write_features(addr);

    guest_printf("     %s: extraversion %ld, get_features %ld\n", what, rc1, rc2);
    EXPECT_EQ(rc1, -XEN_EFAULT);
    EXPECT_EQ(rc2, -XEN_EFAULT);
}

/*
 * Expects extraversion to fail with -EFAULT at ADDR. Used where
 * get_features would first read a non-zero submap_idx from ADDR and fail
 * with -EINVAL before writing anything, as Xen does.
 */
static void expect_efault_extraversion(const char *what, unsigned long addr)
{
    long rc = write_extraversion(addr);

    guest_printf("     %s: extraversion %ld\n", what, rc);
    EXPECT_EQ(rc, -XEN_EFAULT);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    unsigned long before = guest_l4_checksum();

    TEST("xen_version output to bad pointers");
    expect_efault("NULL", 0);
    expect_efault("hypervisor", 0xFFFF830000000000UL);
    expect_efault("M2P", 0xFFFF800000000000UL);
    expect_efault("non-canonical", 0x0000800000000000UL);
    expect_efault("unmapped", 0x12345000UL);
    TEST("xen_version output to our read-only L4");
    expect_efault("L4 at pt_base", guest_start_info->pt_base);
    expect_efault_extraversion("L4 at pt_base + 4088", guest_start_info->pt_base + 4088);
    EXPECT_EQ(guest_l4_checksum(), before);
}
