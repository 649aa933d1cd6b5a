/*
 * Tests hypervisor/common/acpi_build.c: the ACPI tables a PVH domain gets
 * are read back by the hypervisor's own parser (common/acpi.c, which checks
 * every checksum and length): the RSDP is where the builder says, the MADT
 * lists exactly the vCPUs, by APIC id 0..n-1, with no I/O APIC; the tables
 * stay inside their page; a vCPU count of 0 or above 255 is refused with
 * the page untouched.
 */
#include <string.h>
#include "unit.h"
#include "pvkit/acpi.h"

#define PAGE_PA 0x10002000ull       /* where a 256 MiB domain has its ACPI page */
#define PAGE    4096

static uint8_t page[PAGE];

/* The page as guest-physical memory at PAGE_PA; anything outside it is unreadable. */
static const void *reader(uint64_t phys, uint64_t len)
{
    if (phys < PAGE_PA || phys - PAGE_PA > PAGE || len > PAGE - (phys - PAGE_PA))
        return NULL;
    return page + (phys - PAGE_PA);
}

static void parses_back(unsigned int n)
{
    struct acpi_platform p;
    memset(page, 0xa5, sizeof(page));
    assert_int_equal(acpi_build_pvh_tables(page, PAGE_PA, n), 0);
    assert_int_equal(acpi_scan_from_rsdp(reader, PAGE_PA, &p), 0);
    assert_int_equal(p.count, n < ACPI_MAX_CPUS ? n : ACPI_MAX_CPUS);
    for (unsigned int i = 0; i < p.count; i++)
        assert_int_equal(p.apic_id[i], i);
    assert_int_equal(p.nr_ioapics, 0);
    assert_int_equal(p.hpet_phys, 0);
    assert_memory_equal(page, "RSD PTR ", 8);
}

static void one_vcpu(void **state)
{
    (void)state;
    parses_back(1);
}

static void several_vcpus(void **state)
{
    (void)state;
    parses_back(4);
    parses_back(ACPI_MAX_CPUS);
    parses_back(255);
}

static void bad_counts_refused(void **state)
{
    (void)state;
    static const unsigned int bad[] = { 0, 256, 100000 };
    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(page, 0xa5, sizeof(page));
        assert_int_equal(acpi_build_pvh_tables(page, PAGE_PA, bad[i]), -1);
        for (unsigned int b = 0; b < PAGE; b++)
            assert_int_equal(page[b], 0xa5);
    }
}

/* A flipped byte anywhere in the tables' bytes makes a checksum fail: the parser refuses. */
static void corruption_detected(void **state)
{
    (void)state;
    struct acpi_platform p;
    assert_int_equal(acpi_build_pvh_tables(page, PAGE_PA, 2), 0);
    for (unsigned int at = 0; at < 128 + 44 + 2 * 8; at++) {
        if ((at >= 36 && at < 64) || (at >= 64 + 44 && at < 128))
            continue;               /* padding between the tables */
        page[at] ^= 0x01;
        int rc = acpi_scan_from_rsdp(reader, PAGE_PA, &p);
        page[at] ^= 0x01;
        assert_true(rc == -1 || p.count == 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_vcpu),
        cmocka_unit_test(several_vcpus),
        cmocka_unit_test(bad_counts_refused),
        cmocka_unit_test(corruption_detected),
    };
    return UNIT_RUN("acpi_build", tests);
}
