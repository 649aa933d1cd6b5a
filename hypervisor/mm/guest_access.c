/*
 * Guest memory access with checks and fault recovery (see pvkit/guest_access.h).
 * A PVH vCPU's addresses go through its own paging and nested tables
 * instead (mm/npt.c): its address space is not the one loaded.
 */
#include "pvkit/guest_access.h"
#include "pvkit/cpu.h"
#include "pvkit/domain.h"
#include "pvkit/npt.h"
#include "pvkit/layout.h"
#include "pvkit/usercopy.h"
#include "pvkit/xenabi.h"

struct exception_table_entry {
    uint64_t insn, fixup;
};
extern const struct exception_table_entry __ex_table_start[], __ex_table_end[];

/* The vCPU being served, if it is a PVH one (else NULL). */
static const struct vcpu *current_pvh(void)
{
    const struct vcpu *v = current_vcpu();
    return v && is_pvh(v->domain) ? v : NULL;
}

int copy_from_guest(void *dst, uint64_t src_va, size_t n)
{
    const struct vcpu *pvh = current_pvh();
    if (pvh)
        return pvh_copy_from_guest(pvh, dst, src_va, n);
    if (!guest_range_ok(src_va, n))
        return -XEN_EFAULT;
    return raw_copy(dst, (const void *)(uintptr_t)src_va, n) ? -XEN_EFAULT : 0;
}

int copy_to_guest(uint64_t dst_va, const void *src, size_t n)
{
    const struct vcpu *pvh = current_pvh();
    if (pvh)
        return pvh_copy_to_guest(pvh, dst_va, src, n);
    if (!guest_range_ok(dst_va, n))
        return -XEN_EFAULT;
    return raw_copy((void *)(uintptr_t)dst_va, src, n) ? -XEN_EFAULT : 0;
}

uint64_t search_exception_table(uint64_t rip)
{
    for (const struct exception_table_entry *e = __ex_table_start; e < __ex_table_end; e++)
        if (e->insn == rip)
            return e->fixup;
    return 0;
}
