/*
 * Hypercall dispatch and accounting, for direct calls and multicalls.
 *
 * A hypercall is a SYSCALL from guest kernel mode with the number in RAX (the
 * whole register). Every call is counted per domain and number, with its
 * errors; numbers with no handler return -ENOSYS and are counted as unknown.
 * A multicall runs a batch of calls in order, storing each result in its
 * entry; an entry that fails does not stop the batch (Xen's semantics), but a
 * domain that shut itself down inside the batch stops it.
 */
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "pvkit/traps.h"

static hypercall_fn *const hypercall_table[NR_HYPERCALLS] = {
    [__HYPERVISOR_set_trap_table] = do_set_trap_table,
    [__HYPERVISOR_mmu_update] = do_mmu_update,
    [__HYPERVISOR_set_gdt] = do_set_gdt,
    [__HYPERVISOR_stack_switch] = do_stack_switch,
    [__HYPERVISOR_set_callbacks] = do_set_callbacks,
    [__HYPERVISOR_fpu_taskswitch] = do_fpu_taskswitch,
    [__HYPERVISOR_set_debugreg] = do_set_debugreg,
    [__HYPERVISOR_get_debugreg] = do_get_debugreg,
    [__HYPERVISOR_update_descriptor] = do_update_descriptor,
    [__HYPERVISOR_multicall] = do_multicall,
    [__HYPERVISOR_update_va_mapping] = do_update_va_mapping,
    [__HYPERVISOR_xen_version] = do_xen_version,
    [__HYPERVISOR_console_io] = do_console_io,
    [__HYPERVISOR_vm_assist] = do_vm_assist,
    [__HYPERVISOR_iret] = do_iret,
    [__HYPERVISOR_set_segment_base] = do_set_segment_base,
    [__HYPERVISOR_mmuext_op] = do_mmuext_op,
    [__HYPERVISOR_sched_op] = do_sched_op,
    [__HYPERVISOR_callback_op] = do_callback_op,
    [__HYPERVISOR_vcpu_op] = do_vcpu_op,
    [__HYPERVISOR_event_channel_op] = do_event_channel_op,
    [__HYPERVISOR_set_timer_op] = do_set_timer_op,
    [__HYPERVISOR_memory_op] = do_memory_op,
    [__HYPERVISOR_physdev_op] = do_physdev_op,
};

hypercall_fn *hypercall_handler(uint64_t nr)
{
    return nr < NR_HYPERCALLS ? hypercall_table[nr] : NULL;
}

static bool in_multicall;
static long multicall_one(struct vcpu *v, uint64_t entry_va);

bool hypercall_preemptible(void)
{
    return !in_multicall;
}

long hypercall_continue(uint64_t nr, const uint64_t args[5])
{
    struct cpu_regs *regs = &get_cpu_info()->guest_regs;
    regs->rip -= 2; /* the SYSCALL instruction */
    regs->rdi = args[0];
    regs->rsi = args[1];
    regs->rdx = args[2];
    regs->r10 = args[3];
    regs->r8 = args[4];
    return (long)nr;
}

static long call_counted(struct vcpu *v, uint64_t nr, const uint64_t args[5])
{
    struct hypercall_stats *stats = &v->domain->hc_stats;
    hypercall_fn *fn = hypercall_handler(nr);

    if (!fn) {
        stats->unknown++;
        return -XEN_ENOSYS;
    }
    long rc = fn(v, args);
    stats->calls[nr]++;
    if (rc < 0)
        stats->errors[nr]++;
    return rc;
}

void do_hypercall(struct vcpu *v, struct cpu_regs *regs)
{
    const uint64_t args[5] = { regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8 };
    regs->rax = (uint64_t)call_counted(v, regs->rax, args);
}

long do_multicall(struct vcpu *v, const uint64_t args[5])
{
    uint64_t list = args[0], nr = (uint32_t)args[1];
    long rc = 0;

    if (nr)
        v->domain->mm_stats.multicall_batches[batch_bucket(nr)]++;
    in_multicall = true;
    for (uint64_t i = 0; i < nr && v->domain->state == DOMAIN_RUNNING; i++) {
        if (i == BATCH_PER_CALL) {
            const uint64_t rest[5] = { list + i * sizeof(struct multicall_entry), nr - i };
            in_multicall = false;
            return hypercall_continue(__HYPERVISOR_multicall, rest);
        }
        if ((rc = multicall_one(v, list + i * sizeof(struct multicall_entry))))
            break;
    }
    in_multicall = false;
    return rc;
}

/* Runs one multicall entry and stores its result in it. 0 or -EFAULT. */
static long multicall_one(struct vcpu *v, uint64_t entry_va)
{
    struct multicall_entry call;
    long rc;

    if (copy_from_guest(&call, entry_va, sizeof(call)))
        return -XEN_EFAULT;
    /* iret needs the live frame and a multicall cannot nest. */
    if (call.op == __HYPERVISOR_iret || call.op == __HYPERVISOR_multicall)
        rc = -XEN_EINVAL;
    else
        rc = call_counted(v, call.op, call.args);
    if (copy_to_guest(entry_va + __builtin_offsetof(struct multicall_entry, result),
                      &rc, sizeof(rc)))
        return -XEN_EFAULT;
    return 0;
}
