/*
 * ACPI tables for a PVH domain (what its kernel reads instead of firmware
 * tables): an RSDP (revision 2), an XSDT listing a FADT and a MADT, the
 * MADT: one enabled local APIC entry per vCPU (APIC id = processor uid =
 * vCPU id), the local APIC address 0xfee00000, no I/O APIC, no PC-AT
 * 8259s; the FADT (revision 6): a hardware-reduced ACPI platform (no PM1
 * blocks, no SCI, no PM timer, no FACS), no VGA, no CMOS RTC, no 8042,
 * with the ACPI 5 sleep control and status registers at I/O ports
 * PVH_SLEEP_CONTROL_PORT and PVH_SLEEP_STATUS_PORT; the DSDT: only the
 * \_S5 package (SLP_TYP PVH_SLEEP_TYPE_S5), so the guest can power off by
 * writing that type with SLP_EN to the control register (arch/x86/svm.c
 * ends the domain then: acpi_pvh_poweroff). Layouts: ACPI specification
 * 6.x, 5.2.5 (RSDP), 5.2.6 (SDT header), 5.2.8 (XSDT), 5.2.9 (FADT),
 * 5.2.12 (MADT), 5.2.3.2 (generic address), 7.4.2 (\_Sx), 20 (AML).
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
#define XSDT_LEN        (36 + 2 * 8)
#define MADT_AT         128
#define MADT_FIXED_LEN  44
#define MADT_LAPIC_LEN  8
#define FADT_AT         2304    /* past a MADT of 255 entries (ends at 2212) */
#define FADT_LEN        276
#define DSDT_AT         2688
#define SDT_HEADER_LEN  36
/* FADT fields (offsets), 5.2.9. */
#define FADT_DSDT           40
#define FADT_BOOT_ARCH      109
#define FADT_FLAGS          112
#define FADT_MINOR          131
#define FADT_X_DSDT         140
#define FADT_SLEEP_CONTROL  244
#define FADT_SLEEP_STATUS   256
#define BOOT_ARCH_NO_VGA    (1u << 2)
#define BOOT_ARCH_NO_CMOS   (1u << 5)
#define FLAG_HW_REDUCED     (1u << 20)
#define GAS_SYSTEM_IO       1
#define GAS_BYTE_ACCESS     1
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

/* A generic address structure: one byte-wide I/O port register. */
static void gas_io_byte(uint8_t *p, uint16_t port)
{
    p[0] = GAS_SYSTEM_IO;
    p[1] = 8;                           /* bit width */
    p[2] = 0;                           /* bit offset */
    p[3] = GAS_BYTE_ACCESS;
    put64(p + 4, port);
}

/* The FADT at fadt (zeroed), its DSDT at dsdt_pa. */
static void build_fadt(uint8_t *fadt, uint64_t dsdt_pa)
{
    sdt_header(fadt, "FACP", FADT_LEN, 6);
    put32(fadt + FADT_DSDT, (uint32_t)dsdt_pa);
    put16(fadt + FADT_BOOT_ARCH, BOOT_ARCH_NO_VGA | BOOT_ARCH_NO_CMOS);
    put32(fadt + FADT_FLAGS, FLAG_HW_REDUCED);
    fadt[FADT_MINOR] = 1;
    put64(fadt + FADT_X_DSDT, dsdt_pa);
    gas_io_byte(fadt + FADT_SLEEP_CONTROL, PVH_SLEEP_CONTROL_PORT);
    gas_io_byte(fadt + FADT_SLEEP_STATUS, PVH_SLEEP_STATUS_PORT);
    set_checksum(fadt, FADT_LEN, 9);
}

/* The DSDT at dsdt (zeroed): Name (\_S5, Package (4) { S5, S5, 0, 0 }) in AML. */
static void build_dsdt(uint8_t *dsdt)
{
    static const uint8_t aml[] = {
        0x08, '_', 'S', '5', '_',       /* NameOp \_S5 */
        0x12, 0x08, 0x04,               /* PackageOp, PkgLength 8, 4 elements */
        0x0a, PVH_SLEEP_TYPE_S5,        /* BytePrefix: SLP_TYPa */
        0x0a, PVH_SLEEP_TYPE_S5,        /* SLP_TYPb */
        0x00, 0x00,                     /* ZeroOp: reserved */
    };
    uint32_t len = SDT_HEADER_LEN + (uint32_t)sizeof(aml);
    sdt_header(dsdt, "DSDT", len, 2);
    memcpy(dsdt + SDT_HEADER_LEN, aml, sizeof(aml));
    set_checksum(dsdt, len, 9);
}

bool acpi_pvh_poweroff(uint16_t port, unsigned int size, uint32_t value)
{
    return port == PVH_SLEEP_CONTROL_PORT && size == 1 && (value & PVH_SLEEP_ENABLE) &&
           ((value >> 2) & 7) == PVH_SLEEP_TYPE_S5;
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

    build_dsdt(page + DSDT_AT);
    build_fadt(page + FADT_AT, page_pa + DSDT_AT);

    sdt_header(xsdt, "XSDT", XSDT_LEN, 1);
    put64(xsdt + SDT_HEADER_LEN, page_pa + FADT_AT);
    put64(xsdt + SDT_HEADER_LEN + 8, page_pa + MADT_AT);
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
