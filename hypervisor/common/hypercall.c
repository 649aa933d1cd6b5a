/*
 * Hypercall dispatch and accounting.
 *
 * A hypercall is a SYSCALL from guest kernel mode with the number in RAX.
 * Every call is counted per domain and number (and its errors); numbers with
 * no handler return -ENOSYS and are counted as unknown. Argument registers
 * other than RAX are left as the guest passed them.
 */
#include "pvkit/hypercall.h"
#include "pvkit/traps.h"

static hypercall_fn *const hypercall_table[NR_HYPERCALLS] = {
    [__HYPERVISOR_xen_version] = do_xen_version,
    [__HYPERVISOR_console_io] = do_console_io,
    [__HYPERVISOR_sched_op] = do_sched_op,
};

void do_hypercall(struct vcpu *v, struct cpu_regs *regs)
{
    struct hypercall_stats *stats = &v->domain->hc_stats;
    uint64_t nr = regs->rax;
    const uint64_t args[5] = { regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8 };

    if (nr >= NR_HYPERCALLS || !hypercall_table[nr]) {
        stats->unknown++;
        regs->rax = (uint64_t)(long)-XEN_ENOSYS;
        return;
    }
    long rc = hypercall_table[nr](v, args);
    stats->calls[nr]++;
    if (rc < 0)
        stats->errors[nr]++;
    regs->rax = (uint64_t)rc;
}
