/*
 * ACPI, as far as the hypervisor needs it: the local APIC IDs of the
 * machine's processors, read from the MADT, so the boot CPU knows which
 * application processors to start. Nothing else of ACPI is interpreted.
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
/* RSDT, XSDT and MADT longer than this are refused (1 MiB: 65536 x2APIC entries). */
#define ACPI_MAX_TABLE_LEN  (1u << 20)

struct acpi_cpus {
    unsigned int count;
    uint32_t apic_id[ACPI_MAX_CPUS];
};

/*
 * Reads physical memory: returns a pointer to `len` readable bytes at phys,
 * or NULL. A returned pointer must stay valid until the acpi_find_cpus*()
 * call that asked for it returns (a direct map does); it need not be aligned.
 */
typedef const void *(*acpi_phys_reader)(uint64_t phys, uint64_t len);

/*
 * Finds the RSDP (EBDA first KiB, via the BDA word at 0x40E, then
 * 0xE0000-0xFFFFF, 16-byte steps), follows XSDT (rev>=2, preferred) or RSDT
 * to the MADT ("APIC"), and lists the APIC IDs of usable processors: type 0
 * (local APIC) and type 9 (local x2APIC) entries with flags bit0 (enabled) or
 * bit1 (online capable), in table order, de-duplicated, at most
 * ACPI_MAX_CPUS. Returns 0, or -1 if no valid RSDP/MADT was found.
 *
 * The first RSDP whose checksums hold is used. When the XSDT is missing,
 * invalid or lists no valid MADT, the RSDT is tried. A valid MADT with no
 * usable processor gives 0 with out->count == 0; a malformed entry ends the
 * entry walk, keeping the processors listed before it. On -1, out->count is 0.
 */
int acpi_find_cpus(acpi_phys_reader read, struct acpi_cpus *out);

/*
 * As acpi_find_cpus(), starting from the RSDP at rsdp_phys (for example the
 * copy in a multiboot2 ACPI tag) instead of searching for one. Returns -1 if
 * there is no valid RSDP at rsdp_phys or no valid MADT behind it.
 */
int acpi_find_cpus_from_rsdp(acpi_phys_reader read, uint64_t rsdp_phys,
                             struct acpi_cpus *out);

#endif
