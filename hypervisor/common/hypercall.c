/*
 * Hypercall dispatch and accounting, for direct calls and multicalls.
 *
 * A hypercall is a SYSCALL from guest kernel mode with the number in RAX (the
 * whole register). Every call is counted per domain and number, with its
 * errors, once as the guest issued it: a call done in pieces is counted when
 * its last piece returns. Numbers with no handler return -ENOSYS (counted as
 * errors of that number, or as unknown beyond the table).
 * A multicall runs a batch of calls in order, storing each result in its
 * entry; an entry that fails does not stop the batch (Xen's semantics), but a
 * domain that shut itself down inside the batch stops it.
 *
 * Long work is done in pieces: each direct call gets a budget of
 * BATCH_PER_CALL work units (hypercall_claim), and a handler with more to do
 * asks to be re-issued with advanced arguments (hypercall_continue). For a
 * direct call the guest is rewound to its SYSCALL. For a call inside a
 * multicall the advanced arguments are written back into the entry (its
 * result then holds the call's number, as on Xen) and the multicall itself is
 * re-issued starting at that entry, so other vCPUs get the lock in between.
 */
#include "pvkit/hypercall.h"
#include "pvkit/guest_access.h"
#include "pvkit/pagetype.h"
#include "pvkit/smp.h"
#include "public/pvkit.h"

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
    [__HYPERVISOR_grant_table_op] = do_grant_table_op,
    [__HYPERVISOR_platform_op] = do_platform_op,
    [__HYPERVISOR_domctl] = do_domctl,
    [__HYPERVISOR_sysctl] = do_sysctl,
    [__HYPERVISOR_pvkit_op] = do_pvkit_op,
};

/*
 * What a PVH domain may call (VMMCALL, arch/x86/svm.c): the handlers whose
 * semantics are the same for it as for a PV domain, and memory_op's PVH
 * variant, grant_table_op's (the ops naming none of its frames), vcpu_op
 * (register_vcpu_info takes a guest frame, initialise is refused) and hvm_op (common/hvm_op.c). Anything PV-specific (page tables, segments, callbacks, trap
 * tables, iret) is -ENOSYS.
 */
static hypercall_fn *const pvh_hypercall_table[NR_HYPERCALLS] = {
    [__HYPERVISOR_xen_version] = do_xen_version,
    [__HYPERVISOR_console_io] = do_console_io,
    [__HYPERVISOR_sched_op] = do_sched_op,
    [__HYPERVISOR_set_timer_op] = do_set_timer_op,
    [__HYPERVISOR_event_channel_op] = do_event_channel_op,
    [__HYPERVISOR_memory_op] = do_memory_op_pvh,
    [__HYPERVISOR_grant_table_op] = do_grant_table_op_pvh,
    [__HYPERVISOR_vcpu_op] = do_vcpu_op,
    [__HYPERVISOR_hvm_op] = do_hvm_op,
};

hypercall_fn *hypercall_handler(uint64_t nr)
{
    return nr < NR_HYPERCALLS ? hypercall_table[nr] : NULL;
}

/*
 * The running hypercall piece's state: budget, tables_left, in_hypercall and
 * mc. One set for all CPUs, because a piece runs from start to end under the
 * hypervisor lock, so only one CPU runs one at a time.
 */
/* Work units left in the running call's piece. */
static uint64_t budget;
/* Page tables the running piece may still validate or release (mm/pagetype.c). */
#define TABLES_PER_PIECE 64
static unsigned int tables_left;
static bool in_hypercall;
/* The call being counted asked to be re-issued (hypercall_continue). */
static bool continued;
/* A PVH call runs: a continuation rewrites these arguments, not the PV registers. */
static uint64_t *pvh_args;

/* The multicall entry being run, if any, and its handler's continuation. */
static struct {
    bool active;            /* a handler runs inside a multicall */
    bool preempted;         /* it asked to be re-issued ... */
    uint64_t args[5];       /* ... with these arguments */
} mc;

uint64_t hypercall_claim(uint64_t want, uint64_t cost)
{
    uint64_t n = MIN(want, MAX(budget / cost, 1ull));
    budget -= MIN(n * cost, budget);
    return n;
}

bool table_work_preempt(void)
{
    if (!in_hypercall)
        return false;
    if (!tables_left)
        return true;
    tables_left--;
    return false;
}

long hypercall_continue(uint64_t nr, const uint64_t args[5])
{
    struct cpu_regs *regs = &get_cpu_info()->guest_regs;

    continued = true;
    if (mc.active) {
        memcpy(mc.args, args, sizeof(mc.args));
        mc.preempted = true;
        return (long)nr;
    }
    if (pvh_args) {
        memcpy(pvh_args, args, 5 * sizeof(*args));
        return (long)nr;
    }
    regs->rip -= 2; /* the SYSCALL instruction */
    regs->rdi = args[0];
    regs->rsi = args[1];
    regs->rdx = args[2];
    regs->r10 = args[3];
    regs->r8 = args[4];
    return (long)nr;
}

long control_op_copy_in(struct vcpu *v, uint64_t va, void *op, size_t size, size_t version_at,
                        uint32_t want)
{
    uint32_t version;

    if (!v->domain->privileged)
        return -XEN_EPERM;
    if (copy_from_guest(op, va, size))
        return -XEN_EFAULT;
    memcpy(&version, (const char *)op + version_at, sizeof(version));
    return version == want ? 0 : -XEN_EACCES;
}

/*
 * Errors are -1..-4095 (-errno), as in Xen; other negative results are values
 * (get_debugreg of a kernel address, for one).
 */
static bool is_error_result(long rc)
{
    return rc < 0 && rc >= -4095;
}

/* Runs handler fn (NULL: none) of call nr and counts it. */
static inline long call_counted(struct vcpu *v, uint64_t nr, const uint64_t args[5], hypercall_fn *fn)
{
    struct hypercall_stats *stats = &v->domain->hc_stats;

    if (!fn && nr < NR_HYPERCALLS) {
        stats->calls[nr]++; /* a number Xen has, that pvkit does not implement */
        stats->errors[nr]++;
        return -XEN_ENOSYS;
    }
    if (!fn) {
        stats->unknown++;
        return -XEN_ENOSYS;
    }
    continued = false;
    long rc = fn(v, args);
    if (continued)
        return rc; /* counted when its last piece returns */
    stats->calls[nr]++;
    /* iret's result is the guest's own restored RAX, never an error */
    if (nr != __HYPERVISOR_iret && is_error_result(rc))
        stats->errors[nr]++;
    return rc;
}

void do_hypercall(struct vcpu *v, struct cpu_regs *regs)
{
    const uint64_t args[5] = { regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8 };
    budget = BATCH_PER_CALL;
    tables_left = TABLES_PER_PIECE;
    in_hypercall = true;
    get_cpu_info()->last_hypercall = regs->rax;
    regs->rax = (uint64_t)call_counted(v, regs->rax, args, hypercall_handler(regs->rax));
    in_hypercall = false;
}

long do_hypercall_pvh(struct vcpu *v, uint64_t nr, uint64_t args[5], bool *again)
{
    hypercall_fn *fn = nr < NR_HYPERCALLS ? pvh_hypercall_table[nr] : NULL;
    budget = BATCH_PER_CALL;
    tables_left = TABLES_PER_PIECE;
    in_hypercall = true;
    get_cpu_info()->last_hypercall = nr;
    pvh_args = args;
    long rc = call_counted(v, nr, args, fn);
    *again = continued;
    pvh_args = NULL;
    in_hypercall = false;
    return rc;
}

/*
 * Runs one multicall entry and stores its result in it; if the call asked to
 * be continued, stores the whole entry (op, result = op, advanced arguments)
 * and sets *preempted. 0, or -EFAULT if the entry cannot be read or written.
 */
static long multicall_one(struct vcpu *v, uint64_t entry_va, bool *preempted)
{
    struct multicall_entry call;

    if (copy_from_guest(&call, entry_va, sizeof(call)))
        return -XEN_EFAULT;
    mc.preempted = false;
    /* iret needs the live frame and a multicall cannot nest. */
    if (call.op == __HYPERVISOR_iret || call.op == __HYPERVISOR_multicall) {
        call.result = (uint64_t)-XEN_EINVAL;
    } else {
        mc.active = true;
        call.result = (uint64_t)call_counted(v, call.op, call.args, hypercall_handler(call.op));
        mc.active = false;
    }
    *preempted = mc.preempted;
    if (*preempted) {
        memcpy(call.args, mc.args, sizeof(mc.args));
        return copy_to_guest(entry_va, &call, sizeof(call)) ? -XEN_EFAULT : 0;
    }
    return copy_to_guest(entry_va + __builtin_offsetof(struct multicall_entry, result),
                         &call.result, sizeof(call.result)) ? -XEN_EFAULT : 0;
}

/*
 * Runs the entries in order. A piece ends when the budget is spent (never
 * before its first entry, so every piece progresses) or when an entry asks
 * to be continued; the multicall is then re-issued from the entry it stopped
 * at, its count carrying PVKIT_BATCH_PREEMPTED so that the batch is counted
 * in its histogram bucket once, by its first piece. 0, or -EFAULT for an
 * unreadable or unwritable entry (the batch stops).
 */
long do_multicall(struct vcpu *v, const uint64_t args[5])
{
    uint64_t list = args[0], nr = (uint32_t)args[1] & ~PVKIT_BATCH_PREEMPTED;
    bool preempted = false;
    long rc = 0;

    if (nr && !((uint32_t)args[1] & PVKIT_BATCH_PREEMPTED))
        v->domain->mm_stats.multicall_batches[batch_bucket(nr)]++;
    for (uint64_t i = 0; i < nr && v->domain->state == DOMAIN_RUNNING; i++) {
        uint64_t entry = list + i * sizeof(struct multicall_entry);
        if (i && !budget) {
            const uint64_t rest[5] = { entry, (nr - i) | PVKIT_BATCH_PREEMPTED };
            return hypercall_continue(__HYPERVISOR_multicall, rest);
        }
        hypercall_claim(1, 1);
        if ((rc = multicall_one(v, entry, &preempted)))
            break;
        if (preempted) {
            const uint64_t rest[5] = { entry, (nr - i) | PVKIT_BATCH_PREEMPTED };
            return hypercall_continue(__HYPERVISOR_multicall, rest);
        }
    }
    return rc;
}
