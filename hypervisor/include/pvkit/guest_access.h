/*
 * Reading and writing guest memory by guest virtual address, through the
 * page tables of the vCPU being served (its CR3 is live while the hypervisor
 * runs on its behalf). Every access is range-checked first -- the address
 * range must be canonical and must not touch the hypervisor's L4 slots -- and
 * then performed with fault recovery, so a bad pointer yields -XEN_EFAULT and
 * never a hypervisor fault. Read-only guest mappings stay read-only (CR0.WP).
 * For a PVH vCPU the address is translated by software instead (mm/npt.c),
 * through its own paging and its nested tables, with the same results.
 */
#ifndef PVKIT_GUEST_ACCESS_H
#define PVKIT_GUEST_ACCESS_H

#include "pvkit/lib.h"
#include "pvkit/cpu.h"
#include "pvkit/domain.h"
#include "pvkit/npt.h"
#include "pvkit/usercopy.h"
#include "pvkit/xenabi.h"

/* The guest virtual address a XEN_GUEST_HANDLE holds. */
#define GUEST_HANDLE_VA(h) ((uint64_t)(uintptr_t)(h).p)

#ifdef PVKIT_HOSTED_GUEST_ACCESS
/*
 * A host build of hypervisor files (tests/unit/hv/fuzz_machine.c) gives
 * these its own guest memory: a window of argument bytes, no page tables.
 */
bool guest_range_ok(uint64_t va, uint64_t n);
int copy_from_guest(void *dst, uint64_t src_va, size_t n);
int copy_to_guest(uint64_t dst_va, const void *src, size_t n);
#else
/*
 * True if [va, va+n) is entirely guest-addressable (not necessarily mapped):
 * no wrap, and either all in the lower half or all above the hypervisor's
 * slots (canonical). Inline: every guest access checks it.
 */
static inline bool guest_range_ok(uint64_t va, uint64_t n)
{
    uint64_t end = va + n;
    if (end < va)
        return false;
    if (end <= 0x0000800000000000ull)
        return true;
    return va >= HYPERVISOR_VIRT_END;
}
/* The vCPU being served, if it is a PVH one (else NULL). */
static inline const struct vcpu *current_pvh(void)
{
    const struct vcpu *v = current_vcpu();
    return v && is_pvh(v->domain) ? v : NULL;
}

/*
 * copy_from_guest / copy_to_guest for a vCPU being served that is known to
 * be a PV one (the iret hypercall, exception and event bounces): through
 * its live page tables, without asking whether it is PVH.
 */
static inline int pv_copy_from_guest(void *dst, uint64_t src_va, size_t n)
{
    if (!guest_range_ok(src_va, n))
        return -XEN_EFAULT;
    return raw_copy(dst, (const void *)(uintptr_t)src_va, n) ? -XEN_EFAULT : 0;
}

static inline int pv_copy_to_guest(uint64_t dst_va, const void *src, size_t n)
{
    if (!guest_range_ok(dst_va, n))
        return -XEN_EFAULT;
    return raw_copy((void *)(uintptr_t)dst_va, src, n) ? -XEN_EFAULT : 0;
}

/*
 * Returns 0 or -XEN_EFAULT; on failure *dst may be partly written. Inline:
 * every hypercall argument is read through it.
 */
static inline int copy_from_guest(void *dst, uint64_t src_va, size_t n)
{
    const struct vcpu *pvh = current_pvh();
    if (pvh)
        return pvh_copy_from_guest(pvh, dst, src_va, n);
    return pv_copy_from_guest(dst, src_va, n);
}

/* Returns 0 or -XEN_EFAULT; on failure guest memory may be partly written. */
static inline int copy_to_guest(uint64_t dst_va, const void *src, size_t n)
{
    const struct vcpu *pvh = current_pvh();
    if (pvh)
        return pvh_copy_to_guest(pvh, dst_va, src, n);
    return pv_copy_to_guest(dst_va, src, n);
}
#endif /* PVKIT_HOSTED_GUEST_ACCESS */

/* Returns the fixup address for a faulting hypervisor rip, or 0 if none. */
uint64_t search_exception_table(uint64_t rip);

#endif
