/*
 * Tests hypervisor/common/acpi_build.c: the ACPI tables a PVH domain gets
 * are read back by the hypervisor's own parser (common/acpi.c, which checks
 * every checksum and length): the RSDP is where the builder says, the MADT
 * lists exactly the vCPUs, by APIC id 0..n-1, with no I/O APIC; the tables
 * stay inside their page; a vCPU count of 0 or above 255 is refused with
 * the page untouched. The XSDT's other table, the FADT, is a hardware-
 * reduced one with the sleep registers at their ports and a DSDT with
 * \_S5, every checksum right; acpi_pvh_poweroff answers only an S5 write
 * with SLP_EN, of one byte, to the control port.
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
        if ((at >= 36 && at < 64) || (at >= 64 + 52 && at < 128))
            continue;               /* padding between the tables */
        page[at] ^= 0x01;
        int rc = acpi_scan_from_rsdp(reader, PAGE_PA, &p);
        page[at] ^= 0x01;
        assert_true(rc == -1 || p.count == 0);
    }
}

/* The table at guest-physical pa, as a pointer into the page, if its signature is sig and its checksum holds. */
static const uint8_t *table_at(uint64_t pa, const char *sig)
{
    const uint8_t *t = reader(pa, 36);
    assert_non_null(t);
    uint32_t len = t[4] | t[5] << 8 | t[6] << 16 | (uint32_t)t[7] << 24;
    assert_non_null(reader(pa, len));
    assert_memory_equal(t, sig, 4);
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum += t[i];
    assert_int_equal(sum, 0);
    return t;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void fadt_and_dsdt(void **state)
{
    (void)state;
    assert_int_equal(acpi_build_pvh_tables(page, PAGE_PA, 3), 0);
    const uint8_t *xsdt = table_at(get64(page + 24), "XSDT");
    assert_int_equal(xsdt[4], 36 + 16);
    const uint8_t *fadt = table_at(get64(xsdt + 36), "FACP");
    table_at(get64(xsdt + 44), "APIC");
    assert_int_equal(fadt[4] | fadt[5] << 8, 276);
    assert_int_equal(fadt[8], 6);                       /* revision */
    assert_int_equal(fadt[114] & (1u << 4), 1u << 4);   /* flags bit 20: hardware-reduced */
    assert_int_equal(fadt[109] & 0x27, 0x24);           /* no VGA, no CMOS RTC, no 8042 or legacy */
    static const uint8_t control[12] = { 1, 8, 0, 1, 0x00, 0x06 }, status[12] = { 1, 8, 0, 1, 0x01, 0x06 };
    assert_memory_equal(fadt + 244, control, 12);
    assert_memory_equal(fadt + 256, status, 12);
    uint64_t dsdt_pa = get64(fadt + 140);
    assert_int_equal(fadt[40] | fadt[41] << 8 | fadt[42] << 16 | (uint64_t)fadt[43] << 24, dsdt_pa);
    const uint8_t *dsdt = table_at(dsdt_pa, "DSDT");
    static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 5, 0x0a, 5, 0, 0 };
    assert_int_equal(dsdt[4], 36 + sizeof(s5));
    assert_memory_equal(dsdt + 36, s5, sizeof(s5));
}

static void poweroff_write(void **state)
{
    (void)state;
    assert_true(acpi_pvh_poweroff(PVH_SLEEP_CONTROL_PORT, 1, 0x34));           /* S5 | SLP_EN */
    assert_true(acpi_pvh_poweroff(PVH_SLEEP_CONTROL_PORT, 1, 0xffffff34));     /* upper bits ignored */
    assert_false(acpi_pvh_poweroff(PVH_SLEEP_CONTROL_PORT, 1, 0x14));          /* no SLP_EN */
    assert_false(acpi_pvh_poweroff(PVH_SLEEP_CONTROL_PORT, 1, 0x2c));          /* type 3 */
    assert_false(acpi_pvh_poweroff(PVH_SLEEP_CONTROL_PORT, 2, 0x34));          /* not one byte */
    assert_false(acpi_pvh_poweroff(PVH_SLEEP_STATUS_PORT, 1, 0x34));
    assert_false(acpi_pvh_poweroff(0xb004, 2, 0x2000));                         /* Xen's PM1a_CNT */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_vcpu),
        cmocka_unit_test(several_vcpus),
        cmocka_unit_test(bad_counts_refused),
        cmocka_unit_test(corruption_detected),
        cmocka_unit_test(fadt_and_dsdt),
        cmocka_unit_test(poweroff_write),
    };
    return UNIT_RUN("acpi_build", tests);
}
