/*
 * The vCPU context switch (arch/x86/context.c): saving a vCPU's CPU state
 * off this CPU and loading another's. A loaded vCPU's state is live on its
 * CPU only (pvkit/smp.h). Hypervisor lock held.
 */
#ifndef PVKIT_CONTEXT_H
#define PVKIT_CONTEXT_H

#include "pvkit/domain.h"

/* Saves the running vCPU's CPU state into its struct vcpu. */
void context_save(struct vcpu *v);
/* Loads next's CPU state on this CPU (prev, may be NULL, was saved before). */
void context_restore(struct vcpu *prev, struct vcpu *next);
/*
 * Takes v, loaded on this CPU, off it for good (its domain is being
 * destroyed): LDT window emptied, the hypervisor's page tables loaded, no
 * current vCPU.
 */
void context_unload(struct vcpu *v);
/* Fills a vCPU's FPU area with the reset state. */
void fpu_init_state(struct vcpu *v);

#endif
