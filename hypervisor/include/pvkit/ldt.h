/*
 * The guest LDT (arch/x86/ldt.c): MMUEXT_SET_LDT, the per-CPU LDT window
 * filled on demand, and its switch with the vCPU. Hypervisor lock held.
 */
#ifndef PVKIT_LDT_H
#define PVKIT_LDT_H

#include "pvkit/domain.h"

/* MMUEXT_SET_LDT: v's LDT at guest address base, `entries` descriptors; 0 or -errno. */
int vcpu_set_ldt(struct vcpu *v, uint64_t base, uint64_t entries);
/*
 * A guest #PF at cr2: if it is the CPU's own descriptor load from a page of
 * this CPU's LDT window not mapped yet, maps it (or gives the guest a #PF at
 * its LDT page if that page is not a valid descriptor page) and returns true.
 */
bool ldt_fault(struct vcpu *v, struct cpu_regs *regs, uint64_t cr2);
/* ldt_prefault_selector's work for an LDT selector (TI set). */
bool ldt_prefault_ldt_selector(struct vcpu *v, uint16_t sel);
/*
 * Before the hypervisor loads selector sel of the current vCPU v: maps the
 * LDT page holding its descriptor, if it is an LDT selector within the limit.
 * False if that page cannot be mapped (the load will then fault as it would
 * on hardware with a bad LDT). Inline: GDT selectors, the rule, need nothing.
 */
static inline bool ldt_prefault_selector(struct vcpu *v, uint16_t sel)
{
    return !(sel & 4) || ldt_prefault_ldt_selector(v, sel);
}
/* On a switch from prev (may be NULL) to next: empties the window, loads next's LDT. */
void ldt_switch(struct vcpu *prev, struct vcpu *next);
/* Empties this CPU's LDT window (references dropped) and loads no LDT. */
void ldt_unload(struct domain *d);
/* Records CPU `cpu`'s LDT window page-table entries (l1) as the CPU comes up. */
void ldt_window_init(unsigned int cpu, uint64_t *l1);

#endif
