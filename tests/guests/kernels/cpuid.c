/*
 * cpuid: CPUID through the PV forced-emulation prefix (ud2; "xen"; cpuid).
 * A guest kernel runs at CPL 3 with no trap table here, so if the prefix
 * were not recognised the #UD would kill the domain. Checks the Xen leaves
 * Linux relies on (0x40000000 signature "XenVMMXenVMM" and max leaf,
 * 0x40000001 = xen_version, 0x40000002 hypercall-page count), the
 * HYPERVISOR bit, and that the features a PV kernel must not see are
 * hidden (docs/linux-pv-interface.md §4.1: PSE, PSE36, PGE, PDPE1GB, VMX, SVM, SMAP,
 * PKU).
 */
#include "guest.h"

enum { EAX, EBX, ECX, EDX };

/* Checks leaf 0x40000000 signature; counts one result per EXPECT. */
static void test_signature(void)
{
    uint32_t r[4];
    char sig[13];

    TEST("leaf 0x40000000 signature");
    guest_cpuid(0x40000000, 0, r);
    memcpy(sig, &r[EBX], 4);
    memcpy(sig + 4, &r[ECX], 4);
    memcpy(sig + 8, &r[EDX], 4);
    sig[12] = '\0';
    guest_printf("     signature \"%s\", max leaf 0x%x\n", sig, r[EAX]);
    EXPECT(guest_memcmp(sig, "XenVMMXenVMM", 12) == 0);
    EXPECT(r[EAX] >= 0x40000002 && r[EAX] < 0x40000100);
}

/* Checks leaves 0x40000001-2; counts one result per EXPECT. */
static void test_version_leaves(void)
{
    uint32_t r[4];

    TEST("leaves 0x40000001-2");
    guest_cpuid(0x40000001, 0, r);
    EXPECT_EQ(r[EAX], hyp_xen_version(XENVER_version, NULL));
    guest_cpuid(0x40000002, 0, r);
    guest_printf("     hypercall pages %u, msr base 0x%x\n", r[EAX], r[EBX]);
    EXPECT(r[EAX] >= 1);
}

/* Checks leaf 0 and leaf 1; counts one result per EXPECT. */
static void test_basic_leaves(void)
{
    uint32_t r[4];

    TEST("leaf 0 and leaf 1");
    guest_cpuid(0, 0, r);
    EXPECT(r[EAX] >= 1);
    EXPECT(r[EBX] != 0);
    guest_cpuid(1, 0, r);
    guest_printf("     leaf 1: ecx 0x%x edx 0x%x\n", r[ECX], r[EDX]);
    EXPECT(r[ECX] & (1u << 31));            /* HYPERVISOR */
    EXPECT(!(r[ECX] & (1u << 5)));          /* VMX */
    EXPECT(!(r[EDX] & (1u << 3)));          /* PSE */
    EXPECT(!(r[EDX] & (1u << 13)));         /* PGE */
    EXPECT(!(r[EDX] & (1u << 17)));         /* PSE36 */
}

/* Checks hidden extended features; counts one result per EXPECT. */
static void test_hidden_extended(void)
{
    uint32_t r[4];

    TEST("hidden extended features");
    guest_cpuid(7, 0, r);
    EXPECT(!(r[EBX] & (1u << 20)));         /* SMAP */
    EXPECT(!(r[ECX] & (1u << 3)));          /* PKU */
    guest_cpuid(0x80000001, 0, r);
    EXPECT(!(r[EDX] & (1u << 26)));         /* PDPE1GB */
    EXPECT(!(r[ECX] & (1u << 2)));          /* SVM */
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    test_signature();
    test_version_leaves();
    test_basic_leaves();
    test_hidden_extended();
}
