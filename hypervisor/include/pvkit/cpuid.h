/*
 * The CPUID a PV guest sees (docs/linux-pv-interface.md §4.1): the host's
 * values with the features a ring-3 PV kernel cannot use removed, plus the Xen
 * hypervisor leaves at 0x40000000.
 */
#ifndef PVKIT_CPUID_H
#define PVKIT_CPUID_H

#include <stdint.h>

#define CPUID_XEN_BASE      0x40000000u
#define CPUID_XEN_VERSION   ((4u << 16) | 17u)   /* the Xen ABI level we speak */

enum { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

/*
 * Computes the guest's view of leaf/subleaf from host[] (the native result of
 * the same leaf) into out[]. phys_addr_bits is the host's physical address
 * width (for the Xen leaf 5 grant-table hint).
 */
/* The TSC frequency reported in the Xen time leaf (0x40000003, subleaf 2). */
void cpuid_set_tsc_khz(uint32_t khz);

void cpuid_guest_view(uint32_t leaf, uint32_t subleaf, const uint32_t host[4],
                      unsigned int phys_addr_bits, uint32_t out[4]);

#endif
