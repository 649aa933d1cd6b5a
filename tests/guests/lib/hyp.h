/*
 * Typed wrappers for the PV MMU and CPU hypercalls the milestone-2 test
 * kernels use (mmu_update, mmuext_op, update_va_mapping, multicall,
 * vm_assist, trap table, callbacks, stack switch, segment bases, GDT,
 * descriptors, FPU and debug registers, memory_op).
 *
 * Each wrapper only marshals its arguments into hypercall5 (hypercall.h),
 * so a test sees exactly the raw result the hypervisor returned: 0 or a
 * positive value on success, -errno (xen/errno.h) on failure. Structs and
 * constants come from the Xen public headers, never from copies.
 */
#ifndef GUEST_HYP_H
#define GUEST_HYP_H

#include "hypercall.h"
#include <xen/callback.h>
#include <xen/memory.h>
#include <xen/physdev.h>

/*
 * The count bit of a batch's later pieces: PVKIT_BATCH_PREEMPTED
 * (include/public/pvkit.h), Xen's MMU_UPDATE_PREEMPTED; the call then reads
 * what the earlier pieces did from `done` first.
 */
#define BATCH_PREEMPTED (1UL << 31)

/* HYPERVISOR_mmu_update(reqs, count, done, foreigndom). */
static inline long hyp_mmu_update(mmu_update_t *req, unsigned int count,
                                  unsigned int *done, unsigned int dom)
{
    return hypercall5(__HYPERVISOR_mmu_update, (unsigned long)req, count,
                      (unsigned long)done, dom, 0);
}

/* HYPERVISOR_mmuext_op(ops, count, done, foreigndom). */
static inline long hyp_mmuext_op(struct mmuext_op *op, unsigned int count,
                                 unsigned int *done, unsigned int dom)
{
    return hypercall5(__HYPERVISOR_mmuext_op, (unsigned long)op, count,
                      (unsigned long)done, dom, 0);
}

/* One mmuext_op with CMD and ARG1 (mfn or linear address), for brevity. */
static inline long hyp_mmuext1(unsigned int cmd, unsigned long arg1)
{
    struct mmuext_op op = { .cmd = cmd, .arg1.mfn = arg1 };

    return hyp_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

/* HYPERVISOR_update_va_mapping(va, new_pte, flags). */
static inline long hyp_update_va_mapping(unsigned long va, uint64_t pte,
                                         unsigned long flags)
{
    return hypercall3(__HYPERVISOR_update_va_mapping, va, pte, flags);
}

/* HYPERVISOR_multicall(entries, count). */
static inline long hyp_multicall(multicall_entry_t *calls, unsigned int count)
{
    return hypercall3(__HYPERVISOR_multicall, (unsigned long)calls, count, 0);
}

/* HYPERVISOR_vm_assist(cmd, type). */
static inline long hyp_vm_assist(unsigned int cmd, unsigned int type)
{
    return hypercall3(__HYPERVISOR_vm_assist, cmd, type, 0);
}

/* HYPERVISOR_set_trap_table(table) — NULL clears the virtual IDT. */
static inline long hyp_set_trap_table(const struct trap_info *table)
{
    return hypercall3(__HYPERVISOR_set_trap_table, (unsigned long)table, 0, 0);
}

/* HYPERVISOR_callback_op(cmd, arg). */
static inline long hyp_callback_op(int cmd, const void *arg)
{
    return hypercall3(__HYPERVISOR_callback_op, (unsigned long)cmd,
                      (unsigned long)arg, 0);
}

/* HYPERVISOR_stack_switch(ss, sp). */
static inline long hyp_stack_switch(unsigned long ss, unsigned long sp)
{
    return hypercall3(__HYPERVISOR_stack_switch, ss, sp, 0);
}

/* HYPERVISOR_set_segment_base(which, base). */
static inline long hyp_set_segment_base(int which, unsigned long base)
{
    return hypercall3(__HYPERVISOR_set_segment_base, (unsigned long)which, base, 0);
}

/* HYPERVISOR_set_gdt(frames, entries). */
static inline long hyp_set_gdt(const unsigned long *frames, unsigned int entries)
{
    return hypercall3(__HYPERVISOR_set_gdt, (unsigned long)frames, entries, 0);
}

/* HYPERVISOR_update_descriptor(machine address, descriptor). */
static inline long hyp_update_descriptor(uint64_t ma, uint64_t desc)
{
    return hypercall3(__HYPERVISOR_update_descriptor, ma, desc, 0);
}

/* HYPERVISOR_fpu_taskswitch(set). */
static inline long hyp_fpu_taskswitch(int set)
{
    return hypercall3(__HYPERVISOR_fpu_taskswitch, (unsigned long)set, 0, 0);
}

/* HYPERVISOR_set_debugreg(reg, value). */
static inline long hyp_set_debugreg(int reg, unsigned long value)
{
    return hypercall3(__HYPERVISOR_set_debugreg, (unsigned long)reg, value, 0);
}

/* HYPERVISOR_get_debugreg(reg) — the value, or -errno. */
static inline long hyp_get_debugreg(int reg)
{
    return hypercall3(__HYPERVISOR_get_debugreg, (unsigned long)reg, 0, 0);
}

/* HYPERVISOR_memory_op(cmd, arg). */
static inline long hyp_memory_op(unsigned int cmd, void *arg)
{
    return hypercall3(__HYPERVISOR_memory_op, cmd, (unsigned long)arg, 0);
}

/* memory_op CMD (XENMEM_increase/decrease_reservation, ...) on our own
 * domain for N order-0 extents in EXTENTS; the extents done or -errno. */
static inline long hyp_self_reservation(unsigned int cmd, xen_pfn_t *extents, unsigned long n)
{
    struct xen_memory_reservation r = { .nr_extents = n, .extent_order = 0, .domid = DOMID_SELF };

    set_xen_guest_handle(r.extent_start, extents);
    return hyp_memory_op(cmd, &r);
}

/* HYPERVISOR_physdev_op(cmd, arg). */
static inline long hyp_physdev_op(int cmd, void *arg)
{
    return hypercall3(__HYPERVISOR_physdev_op, (unsigned long)cmd, (unsigned long)arg, 0);
}

/* Fills multicall entry E with hypercall OP and up to three arguments. */
static inline void mc_set(multicall_entry_t *e, unsigned long op, unsigned long a0,
                          unsigned long a1, unsigned long a2)
{
    *e = (multicall_entry_t){ .op = op, .result = 0x5a5a5a5a,
                              .args = { a0, a1, a2, 0, 0, 0 } };
}

#endif
