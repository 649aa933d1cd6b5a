/*
 * PV CPU state a guest sets through hypercalls (arch/x86/pv_cpu.c): the
 * parts other files use, the GDT and the debug registers; the hypercalls
 * themselves are in pvkit/hypercall.h. Hypervisor lock held.
 */
#ifndef PVKIT_PV_CPU_H
#define PVKIT_PV_CPU_H

#include "pvkit/domain.h"

/*
 * Installs a GDT (validated descriptor frames) for a vCPU, releasing the old
 * one's; slots past the new GDT are cleared. 0, or -errno with nothing changed.
 */
int vcpu_set_gdt(struct vcpu *v, const uint64_t *frames, uint64_t entries);

/*
 * Debug register reg (0-7; 4 and 5 alias 6 and 7) of v into *value, as
 * get_debugreg reads it but with the error apart from the value (a DR value
 * may look like -errno). 0 or -XEN_ENODEV.
 */
int vcpu_read_debugreg(const struct vcpu *v, uint64_t reg, uint64_t *value);

#endif
