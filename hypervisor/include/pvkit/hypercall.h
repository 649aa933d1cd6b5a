/*
 * Hypercall handlers. Each takes the calling vCPU and the five argument
 * registers (RDI, RSI, RDX, R10, R8) and returns the value for RAX: >= 0 on
 * success, a negative XEN_E* errno on failure. Handlers are decode-then-
 * invoke: every argument is read and checked before anything changes, or
 * (for batches) they report exactly how much completed.
 */
#ifndef PVKIT_HYPERCALL_H
#define PVKIT_HYPERCALL_H

#include "pvkit/domain.h"

/*
 * Runs the hypercall in regs (number in RAX, arguments in RDI, RSI, RDX,
 * R10, R8) for v, guest kernel mode, lock held: looks the handler up, gives
 * it the call's budgets, counts it and stores the result in RAX.
 */
void do_hypercall(struct vcpu *v, struct cpu_regs *regs);

/*
 * The same for a PVH vCPU's VMMCALL (arch/x86/svm.c), from the table of
 * calls a PVH domain may make: call nr with args, counted, returns the
 * result. If the handler asked to be re-issued (hypercall_continue), sets
 * *again and leaves the advanced arguments in args: the caller keeps the
 * guest on its VMMCALL with them in its argument registers.
 */
long do_hypercall_pvh(struct vcpu *v, uint64_t nr, uint64_t args[5], bool *again);

/*
 * Charges one page table's validation or release to the running hypercall
 * piece (mm/pagetype.c; unit tests provide their own); true if its budget
 * is spent (the caller stops with -XEN_ERESTART). Never true outside a
 * hypercall.
 */
bool table_work_preempt(void);

typedef long hypercall_fn(struct vcpu *v, const uint64_t args[5]);

/*
 * Work units the hypervisor does for a guest before it lets other vCPUs in.
 * A unit is about one mmu_update element (2.6 us under QEMU TCG, so a piece
 * is about 3 ms there); costlier elements cost several units.
 */
#define BATCH_PER_CALL 1024

/*
 * Arranges for the running hypercall to be issued again with new arguments:
 * a direct call by rewinding the guest to its SYSCALL, a call inside a
 * multicall by writing them back into its entry and re-issuing the multicall
 * from that entry. Returns the value the handler must return (the hypercall
 * number: RAX for the re-issue, or the entry's result).
 */
long hypercall_continue(uint64_t nr, const uint64_t args[5]);
/*
 * Takes budget for up to `want` elements of `cost` units each and returns
 * how many elements the handler may do in this piece: at least 1 when
 * want > 0, so each piece progresses. The handler continues
 * (hypercall_continue) for the rest.
 */
uint64_t hypercall_claim(uint64_t want, uint64_t cost);

/*
 * The opening the control hypercalls share (domctl, sysctl, platform_op):
 * -XEN_EPERM unless v's domain is privileged (checked first, so that an
 * unprivileged caller learns nothing about its argument), -XEN_EFAULT if the
 * size bytes at guest address va cannot be copied into op, -XEN_EACCES if
 * the copied structure's interface_version (the uint32_t at byte version_at
 * of op) is not want; 0 with op filled in.
 */
long control_op_copy_in(struct vcpu *v, uint64_t va, void *op, size_t size, size_t version_at,
                        uint32_t want);
/* control_op_copy_in into the structure op (an lvalue with an interface_version field). */
#define CONTROL_OP_COPY_IN(v, va, op, want)                                            \
    control_op_copy_in(v, va, &(op), sizeof(op),                                       \
                       offsetof(__typeof__(op), interface_version), want)

/* The handler for a hypercall number, or NULL if it is not implemented. */
hypercall_fn *hypercall_handler(uint64_t nr);

hypercall_fn do_console_io;
hypercall_fn do_grant_table_op;
hypercall_fn do_platform_op;
hypercall_fn do_domctl;
hypercall_fn do_sysctl;
hypercall_fn do_sched_op;
hypercall_fn do_xen_version;
hypercall_fn do_mmu_update;
hypercall_fn do_mmuext_op;
hypercall_fn do_update_va_mapping;
hypercall_fn do_vm_assist;
hypercall_fn do_multicall;
hypercall_fn do_set_trap_table;
hypercall_fn do_set_callbacks;
hypercall_fn do_callback_op;
hypercall_fn do_stack_switch;
hypercall_fn do_iret;
hypercall_fn do_set_segment_base;
hypercall_fn do_set_gdt;
hypercall_fn do_update_descriptor;
hypercall_fn do_fpu_taskswitch;
hypercall_fn do_set_debugreg;
hypercall_fn do_get_debugreg;
hypercall_fn do_vcpu_op;
hypercall_fn do_event_channel_op;
hypercall_fn do_set_timer_op;
hypercall_fn do_memory_op;
/* memory_op of a PVH domain: reservations by guest frame, add_to_physmap (common/memory_op.c). */
hypercall_fn do_memory_op_pvh;
/* grant_table_op of a PVH domain: the ops that name none of its frames (common/grant_table.c). */
hypercall_fn do_grant_table_op_pvh;
hypercall_fn do_hvm_op;
hypercall_fn do_physdev_op;
hypercall_fn do_pvkit_op;

struct pvkit_domain_stats;
/*
 * Copies d's statistics (hc_stats, emu_stats, mm_stats, event_stats) into
 * *st in public/pvkit.h's layout: what pvkit_op and PVKIT_DOMCTL_get_stats
 * hand out. Lock held.
 */
void domain_stats_snapshot(const struct domain *d, struct pvkit_domain_stats *st);

#endif
