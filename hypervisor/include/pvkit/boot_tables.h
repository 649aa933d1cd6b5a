/*
 * A new domain's initial page tables (mm/boot_tables.c), for the domain
 * builder.
 */
#ifndef PVKIT_BOOT_TABLES_H
#define PVKIT_BOOT_TABLES_H

#include "pvkit/boot_layout.h"

/* The machine frame behind pseudo-physical frame pfn of the domain being built. */
typedef uint64_t boot_p2m_fn(uint64_t pfn);

/*
 * Writes the initial page tables of the boot region l describes into its
 * page-table frames (p2m gives each pfn's machine frame, all allocated) and
 * sets the frame-table state of every frame they map (see boot_tables.c).
 */
void boot_tables_build(const struct boot_layout *l, boot_p2m_fn *p2m);

#endif
