/*
 * ACPI tables for a PVH domain (what its kernel reads instead of firmware
 * tables): an RSDP (revision 2), an XSDT listing one MADT, and the MADT:
 * one enabled local APIC entry per vCPU (APIC id = processor uid = vCPU
 * id), the local APIC address 0xfee00000, no I/O APIC, no PC-AT 8259s.
 * Layouts: ACPI specification 5.2.5 (RSDP), 5.2.6 (SDT header), 5.2.8
 * (XSDT), 5.2.12 (MADT). No FADT and no DSDT: the guest's ACPI interpreter
 * finds nothing to load, only the static tables are there.
 *
 * Invariants: everything lies inside the one page given; every checksum
 * holds; fields are written byte by byte (little-endian), so no packed
 * structures are needed. Host unit tests read the result back with the
 * hypervisor's own parser (tests/unit/hv/test_acpi_build.c).
 */
#include "pvkit/acpi.h"

#define RSDP_AT         0
#define RSDP_LEN        36
#define XSDT_AT         64
#define XSDT_LEN        (36 + 8)
#define MADT_AT         128
#define MADT_FIXED_LEN  44
#define MADT_LAPIC_LEN  8
#define SDT_HEADER_LEN  36
#define ACPI_PVH_PAGE_LEN 4096
#define LAPIC_ADDRESS   0xfee00000u
#define LAPIC_ENABLED   1u

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

/* The byte that makes the len bytes at p sum to 0 modulo 256, with p[at] 0 meanwhile. */
static void set_checksum(uint8_t *p, uint32_t len, uint32_t at)
{
    uint8_t sum = 0;
    p[at] = 0;
    for (uint32_t i = 0; i < len; i++)
        sum += p[i];
    p[at] = (uint8_t)-sum;
}

/* An SDT header: signature, length, revision, OEM fields; its checksum is set last. */
static void sdt_header(uint8_t *p, const char *sig, uint32_t len, uint8_t revision)
{
    memcpy(p, sig, 4);
    put32(p + 4, len);
    p[8] = revision;
    memcpy(p + 10, "PVKIT ", 6);        /* OEM ID */
    memcpy(p + 16, "PVKITPVH", 8);      /* OEM table ID */
    put32(p + 24, 1);                   /* OEM revision */
    memcpy(p + 28, "PVKT", 4);          /* creator ID */
    put32(p + 32, 1);                   /* creator revision */
}

int acpi_build_pvh_tables(uint8_t *page, uint64_t page_pa, unsigned int nr_cpus)
{
    uint32_t madt_len = MADT_FIXED_LEN + nr_cpus * MADT_LAPIC_LEN;
    uint8_t *rsdp = page + RSDP_AT, *xsdt = page + XSDT_AT, *madt = page + MADT_AT;

    if (nr_cpus == 0 || nr_cpus > 255)      /* 255 entries end at byte 2212 */
        return -1;
    memset(page, 0, ACPI_PVH_PAGE_LEN);
    for (unsigned int i = 0; i < nr_cpus; i++) {
        uint8_t *e = madt + MADT_FIXED_LEN + i * MADT_LAPIC_LEN;
        e[0] = 0;                       /* processor local APIC */
        e[1] = MADT_LAPIC_LEN;
        e[2] = (uint8_t)i;              /* processor uid */
        e[3] = (uint8_t)i;              /* APIC id */
        put32(e + 4, LAPIC_ENABLED);
    }
    sdt_header(madt, "APIC", madt_len, 4);
    put32(madt + SDT_HEADER_LEN, LAPIC_ADDRESS);
    put32(madt + SDT_HEADER_LEN + 4, 0); /* flags: no PC-AT dual 8259 */
    set_checksum(madt, madt_len, 9);

    sdt_header(xsdt, "XSDT", XSDT_LEN, 1);
    put64(xsdt + SDT_HEADER_LEN, page_pa + MADT_AT);
    set_checksum(xsdt, XSDT_LEN, 9);

    memcpy(rsdp, "RSD PTR ", 8);
    memcpy(rsdp + 9, "PVKIT ", 6);
    rsdp[15] = 2;                       /* revision: XSDT */
    put32(rsdp + 20, RSDP_LEN);
    put64(rsdp + 24, page_pa + XSDT_AT);
    set_checksum(rsdp, 20, 8);
    set_checksum(rsdp, RSDP_LEN, 32);
    return 0;
}
