/*
 * The guest's hypercall page (arch/x86/hypercall_page.c), written by the
 * domain builder.
 */
#ifndef PVKIT_HYPERCALL_PAGE_H
#define PVKIT_HYPERCALL_PAGE_H

/* Fills one 4 KiB page (the builder's mapping of it) with the hypercall stubs. */
void hypercall_page_write(void *hypercall_page);

/* The same for a PVH guest: mov $nr, %eax; vmmcall; ret. */
void hypercall_page_write_pvh(void *hypercall_page);
#endif
