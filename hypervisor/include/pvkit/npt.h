/*
 * The guest-physical memory of a PVH domain (mm/npt.c): its nested page
 * tables, which are its physical-to-machine map, and the access to its
 * memory by guest virtual address through the guest's own paging.
 *
 * Invariants: the nested tables are hypervisor frames (OWNER_HV), never
 * the domain's, so neither it nor a privileged domain can map them; every
 * leaf maps a frame the domain owns, 4 KiB at a time, user-accessible
 * (nested walks are user accesses) and writable; guest-physical addresses
 * with no leaf are outside the domain's memory and end in a nested page
 * fault, which crashes only that domain (arch/x86/svm.c).
 */
#ifndef PVKIT_NPT_H
#define PVKIT_NPT_H

#include "pvkit/domain.h"

/* Guest-physical frames a PVH domain may have: 4 GiB less the top 1 GiB hole (APIC, firmware). */
#define PVH_MAX_GFNS (3ull << 18)

/* Creates d's empty nested root. 0 or -XEN_ENOMEM. */
int npt_create(struct domain *d);
/* Maps guest frame gfn of d to machine frame mfn. 0, -XEN_ENOMEM or -XEN_EINVAL (gfn too large). */
int npt_map(struct domain *d, uint64_t gfn, uint64_t mfn);
/*
 * Removes guest frame gfn of d from its nested tables (nothing if it has no
 * frame; the tables stay, freed with the domain). The caller flushes the
 * CPUs that may cache the translation (flush_tlb_domain) before the frame
 * is used again.
 */
void npt_unmap(struct domain *d, uint64_t gfn);
/* The machine frame behind guest frame gfn of d, or -XEN_EFAULT if none. */
int64_t npt_lookup(const struct domain *d, uint64_t gfn);
/* Frees d's nested tables (not the frames they map, which d owns). */
void npt_destroy(struct domain *d);

/*
 * Copies between the hypervisor and the memory of PVH vCPU v at guest
 * linear address va, translated through the guest's paging mode as its
 * VMCB holds it (none, 32-bit, PAE or 4-level), then through the nested
 * tables. 0, or -XEN_EFAULT if some page is not mapped (or not writable,
 * for a write) in either; on failure the copy may be partly done.
 */
int pvh_copy_from_guest(const struct vcpu *v, void *dst, uint64_t va, size_t n);
int pvh_copy_to_guest(const struct vcpu *v, uint64_t va, const void *src, size_t n);

#endif
