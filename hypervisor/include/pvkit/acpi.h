/*
 * ACPI, as far as the hypervisor needs it: the local APIC IDs of the
 * machine's processors, read from the MADT, so the boot CPU knows which
 * application processors to start; and where the interrupt controllers and
 * timers are (the MADT's I/O APICs, the HPET table's block), so that no
 * domain, the privileged one included, can map them. Nothing else of ACPI
 * is interpreted.
 *
 * The firmware's tables are read through a caller-supplied reader, so the
 * same code runs in the hypervisor (through the direct map) and in host unit
 * tests (over buffers). Every table is treated as hostile: checksums and
 * lengths are checked before anything in a table is used.
 */
#ifndef PVKIT_ACPI_H
#define PVKIT_ACPI_H

#include "pvkit/lib.h"

#define ACPI_MAX_CPUS       64
#define ACPI_MAX_IOAPICS    16
/* RSDT, XSDT and MADT longer than this are refused (1 MiB: 65536 x2APIC entries). */
#define ACPI_MAX_TABLE_LEN  (1u << 20)

struct acpi_platform {
    unsigned int count;                     /* processors */
    uint32_t apic_id[ACPI_MAX_CPUS];
    unsigned int nr_ioapics;
    uint64_t ioapic_phys[ACPI_MAX_IOAPICS]; /* register block of each I/O APIC */
    uint64_t hpet_phys;                     /* the HPET's registers, 0 if none */
};

/*
 * Reads physical memory: returns a pointer to `len` readable bytes at phys,
 * or NULL. A returned pointer must stay valid until the acpi_scan*()
 * call that asked for it returns (a direct map does); it need not be aligned.
 */
typedef const void *(*acpi_phys_reader)(uint64_t phys, uint64_t len);

/*
 * Finds the RSDP (EBDA first KiB, via the BDA word at 0x40E, then
 * 0xE0000-0xFFFFF, 16-byte steps), follows XSDT (rev>=2, preferred) or RSDT
 * to the MADT ("APIC"), and lists the APIC IDs of usable processors: type 0
 * (local APIC) and type 9 (local x2APIC) entries with flags bit0 (enabled) or
 * bit1 (online capable), in table order, de-duplicated, at most
 * ACPI_MAX_CPUS; and the addresses of type 1 (I/O APIC) entries, at most
 * ACPI_MAX_IOAPICS. The first valid "HPET" table with a memory-space base
 * address gives hpet_phys. Returns 0, or -1 if no valid RSDP/MADT was found
 * (the HPET is looked for all the same when the root tables are valid).
 *
 * The first RSDP whose checksums hold is used. When the XSDT is missing,
 * invalid or lists no valid MADT, the RSDT is tried. A valid MADT with no
 * usable processor gives 0 with out->count == 0; a malformed entry ends the
 * entry walk, keeping the entries listed before it. On -1, out->count and
 * out->nr_ioapics are 0.
 */
int acpi_scan(acpi_phys_reader read, struct acpi_platform *out);

/*
 * As acpi_scan(), starting from the RSDP at rsdp_phys (for example the
 * copy in a multiboot2 ACPI tag) instead of searching for one. Returns -1 if
 * there is no valid RSDP at rsdp_phys or no valid MADT behind it.
 */
int acpi_scan_from_rsdp(acpi_phys_reader read, uint64_t rsdp_phys,
                             struct acpi_platform *out);

/*
 * A PVH domain's ACPI sleep registers (the FADT's SLEEP_CONTROL_REG and
 * SLEEP_STATUS_REG, one byte each, I/O ports) and the sleep type its DSDT
 * gives S5: SLP_TYP in bits 2-4 of the control register, SLP_EN bit 5.
 */
#define PVH_SLEEP_CONTROL_PORT  0x600
#define PVH_SLEEP_STATUS_PORT   0x601
#define PVH_SLEEP_TYPE_S5       5
#define PVH_SLEEP_ENABLE        0x20

/*
 * Writes a PVH domain's ACPI tables (common/acpi_build.c) over the page
 * `page`, which the guest sees at guest-physical page_pa: the RSDP at its
 * start, an XSDT, a MADT with one enabled local APIC per vCPU (ids
 * 0..nr_cpus-1), a hardware-reduced FADT with the sleep registers above and
 * a DSDT holding \_S5. Returns 0, or -1 (page untouched) unless
 * 1 <= nr_cpus <= 255.
 */
int acpi_build_pvh_tables(uint8_t *page, uint64_t page_pa, unsigned int nr_cpus);

/* True if an OUT of `size` bytes of value to port asks for S5 (power off) through the sleep control register. */
bool acpi_pvh_poweroff(uint16_t port, unsigned int size, uint32_t value);

#endif
