/*
 * The PV CPU hypercalls: trap table, callbacks, kernel stack, iret, segment
 * bases, GDT and descriptors, lazy FPU switch, debug registers.
 *
 * Everything the guest hands us is checked before it reaches hardware:
 * handler and breakpoint addresses must be guest addresses, selectors get
 * RPL 3, descriptors get DPL 3 and may only be code or data segments, and the
 * frames of a GDT must be the guest's own and free of writable mappings.
 */
#include "pvkit/pv_cpu.h"
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/traps.h"
#include "pvkit/usercopy.h"
#include "pvkit/x86.h"

#define ENTRIES_PER_GDT_PAGE (PAGE_SIZE / 8)

/*
 * set_trap_table: a NULL list clears the table; otherwise each listed entry
 * (up to one ending in address 0) replaces the handler for its vector and
 * the others stay as they are. The whole list is checked before any entry
 * is applied.
 */
long do_set_trap_table(struct vcpu *v, const uint64_t args[5])
{
    struct trap_info list[256];
    uint64_t va = args[0];
    unsigned int n = 0;

    if (!va) {
        memset(v->trap_table, 0, sizeof(v->trap_table));
        return 0;
    }
    for (; n < ARRAY_SIZE(list); n++) {
        if (copy_from_guest(&list[n], va + n * sizeof(list[0]), sizeof(list[0])))
            return -XEN_EFAULT;
        if (list[n].address == 0)
            break;
        if (!guest_range_ok(list[n].address, 1))
            return -XEN_EINVAL;
    }
    for (unsigned int i = 0; i < n; i++) {
        list[i].cs |= 3;
        v->trap_table[list[i].vector] = list[i];
    }
    return 0;
}

static struct guest_callback *callback_slot(struct vcpu *v, unsigned int type)
{
    switch (type) {
    case CALLBACKTYPE_event: return &v->event_cb;
    case CALLBACKTYPE_failsafe: return &v->failsafe_cb;
    case CALLBACKTYPE_syscall: return &v->syscall_cb;
    case CALLBACKTYPE_syscall32: return &v->syscall32_cb;
    case CALLBACKTYPE_sysenter: return &v->sysenter_cb;
    case CALLBACKTYPE_nmi: return &v->nmi_cb;
    default: return NULL;
    }
}

static long register_callback(struct vcpu *v, unsigned int type, uint64_t address,
                              bool mask_events)
{
    struct guest_callback *cb = callback_slot(v, type);
    if (!cb)
        return -XEN_ENOSYS;
    if (address && !guest_range_ok(address, 1))
        return -XEN_EINVAL;
    cb->address = address;
    cb->mask_events = mask_events;
    return 0;
}

long do_set_callbacks(struct vcpu *v, const uint64_t args[5])
{
    if ((args[0] && !guest_range_ok(args[0], 1)) || (args[1] && !guest_range_ok(args[1], 1)) ||
        (args[2] && !guest_range_ok(args[2], 1)))
        return -XEN_EINVAL;
    register_callback(v, CALLBACKTYPE_event, args[0], false);
    register_callback(v, CALLBACKTYPE_failsafe, args[1], false);
    register_callback(v, CALLBACKTYPE_syscall, args[2], false);
    return 0;
}

/* A sub-op switch like physdev_op's (copy the argument in, check it): each case its own op. */
long do_callback_op(struct vcpu *v, const uint64_t args[5])
{
    switch (args[0]) {
    case CALLBACKOP_register: {
        struct callback_register reg;
        if (copy_from_guest(&reg, args[1], sizeof(reg)))
            return -XEN_EFAULT;
        if (reg.flags & ~CALLBACKF_mask_events)
            return -XEN_EINVAL;
        return register_callback(v, reg.type, reg.address, reg.flags & CALLBACKF_mask_events);
    }
    case CALLBACKOP_unregister: {
        struct callback_unregister unreg;
        if (copy_from_guest(&unreg, args[1], sizeof(unreg)))
            return -XEN_EFAULT;
        /* As Xen: only the NMI callback can be removed; unknown types are -ENOSYS. */
        if (!callback_slot(v, unreg.type))
            return -XEN_ENOSYS;
        if (unreg.type != CALLBACKTYPE_nmi)
            return -XEN_EINVAL;
        return register_callback(v, unreg.type, 0, false);
    }
    default:
        return -XEN_ENOSYS;
    }
}

long do_stack_switch(struct vcpu *v, const uint64_t args[5])
{
    if (!guest_range_ok(args[1], 1))
        return -XEN_EINVAL;
    v->kernel_ss = (args[0] & 0xffff) | 3;
    v->kernel_sp = args[1];
    return 0;
}

/*
 * iret: return from a bounce (or into user mode). The frame is on the guest
 * stack at RSP: rax, r11, rcx, flags, rip, cs, rflags, rsp, ss. RAX comes
 * from the frame, every other register but RCX/R11 stays as it is.
 */
long do_iret(struct vcpu *v, const uint64_t args[5])
{
    struct cpu_regs *regs = &get_cpu_info()->guest_regs;
    struct iret_context ctx;

    (void)args;
    /* PV only: iret is not in a PVH domain's hypercall table. */
    if (pv_copy_from_guest(&ctx, regs->rsp, sizeof(ctx)) || !is_canonical(ctx.rip) ||
        !is_canonical(ctx.rsp)) {
        domain_crash(v->domain, "iret with an unreadable or invalid frame", regs);
        return -XEN_EFAULT;
    }
    if ((ctx.cs & 3) == 3 && v->in_kernel) {
        if (!v->user_l4_mfn) {
            domain_crash(v->domain, "iret to user mode with no user page table", regs);
            return -XEN_EINVAL;
        }
        toggle_guest_mode(v);
    }
    regs->rip = ctx.rip;
    regs->cs = ctx.cs | 3;
    regs->rsp = ctx.rsp;
    regs->ss = ctx.ss | 3;
    regs->rflags = ctx.rflags;
    if (!(ctx.flags & VGCF_in_syscall)) {
        regs->rcx = ctx.rcx;
        regs->r11 = ctx.r11;
    }
    if (v->vcpu_info)
        v->vcpu_info->evtchn_upcall_mask = !(ctx.rflags & RFLAGS_IF);
    return (long)ctx.rax;
}

long do_set_segment_base(struct vcpu *v, const uint64_t args[5])
{
    uint64_t which = args[0], base = args[1];

    switch (which) {
    case SEGBASE_FS:
    case SEGBASE_GS_USER:
    case SEGBASE_GS_KERNEL:
        if (!is_canonical(base))
            return -XEN_EINVAL;
        if (which == SEGBASE_FS)
            wrmsr(MSR_FS_BASE, base);
        else if (which == SEGBASE_GS_KERNEL)
            wrmsr(MSR_GS_BASE, base);
        else
            v->gs_base_user = base;
        return 0;
    case SEGBASE_GS_USER_SEL: {
        /* Load the selector for user mode; the kernel's base stays live. */
        uint64_t kernel_base = rdmsr(MSR_GS_BASE);
        int rc = load_gs_selector((uint16_t)(base | 3));
        v->gs_base_user = rdmsr(MSR_GS_BASE);
        wrmsr(MSR_GS_BASE, kernel_base);
        return rc ? -XEN_EINVAL : 0;
    }
    default:
        return -XEN_EINVAL;
    }
}

/* Copies validated (already DPL-fixed) descriptors into this CPU's GDT. */
static void load_gdt_frame(uint64_t mfn, unsigned int first, unsigned int count)
{
    const uint64_t *descs = frame_page(mfn);
    for (unsigned int i = 0; i < count; i++)
        gdt_set_guest_entry(first + i, descs[i]);
}

int vcpu_set_gdt(struct vcpu *v, const uint64_t *frames, uint64_t entries)
{
    unsigned int nr, i;

    if (entries > FIRST_RESERVED_GDT_ENTRY)
        return -XEN_EINVAL;
    nr = (unsigned int)((entries + ENTRIES_PER_GDT_PAGE - 1) / ENTRIES_PER_GDT_PAGE);
    for (i = 0; i < nr; i++)
        if (get_page_and_type(v->domain, frames[i], FRAME_TYPE_SEG_DESC))
            break;
    if (i < nr) {
        while (i-- > 0)
            put_page_and_type(v->domain, frames[i]);
        return -XEN_EINVAL;
    }
    for (i = 0; i < (v->gdt_entries + ENTRIES_PER_GDT_PAGE - 1) / ENTRIES_PER_GDT_PAGE; i++)
        put_page_and_type(v->domain, v->gdt_frames[i]);
    bool live = v == current_vcpu();
    for (i = (unsigned int)entries; live && i < v->gdt_entries; i++)
        gdt_set_guest_entry(i, 0);
    for (i = 0; i < FIRST_RESERVED_GDT_PAGE; i++) {
        v->gdt_frames[i] = i < nr ? frames[i] : 0; /* no slot past the GDT names a frame */
        if (live && i < nr)
            load_gdt_frame(frames[i], i * ENTRIES_PER_GDT_PAGE,
                           (unsigned int)MIN(entries - i * ENTRIES_PER_GDT_PAGE,
                                             (uint64_t)ENTRIES_PER_GDT_PAGE));
    }
    v->gdt_entries = (unsigned int)entries;
    return 0;
}

long do_set_gdt(struct vcpu *v, const uint64_t args[5])
{
    uint64_t list = args[0], entries = args[1], frames[FIRST_RESERVED_GDT_PAGE];
    unsigned int nr;

    if (entries > FIRST_RESERVED_GDT_ENTRY)
        return -XEN_EINVAL;
    nr = (unsigned int)((entries + ENTRIES_PER_GDT_PAGE - 1) / ENTRIES_PER_GDT_PAGE);
    if (nr && copy_from_guest(frames, list, nr * sizeof(uint64_t)))
        return -XEN_EFAULT;
    return vcpu_set_gdt(v, frames, entries);
}

long do_update_descriptor(struct vcpu *v, const uint64_t args[5])
{
    uint64_t ma = args[0], desc = args[1], fixed;
    uint64_t mfn = ma >> PAGE_SHIFT;
    unsigned int index = (unsigned int)((ma & (PAGE_SIZE - 1)) / 8);

    if (ma & 7)
        return -XEN_EINVAL;
    if (check_descriptor(v->domain, desc, &fixed))
        return -XEN_EINVAL;
    /* As Xen: the frame must be a descriptor page, or else writable. */
    enum frame_type type = FRAME_TYPE_SEG_DESC;
    if (get_page_and_type(v->domain, mfn, type)) {
        type = FRAME_TYPE_WRITABLE;
        if (get_page_and_type(v->domain, mfn, type))
            return -XEN_EINVAL;
    }
    ((uint64_t *)frame_page(mfn))[index] = fixed;
    for (unsigned int i = 0; i * ENTRIES_PER_GDT_PAGE < v->gdt_entries; i++) {
        unsigned int entry = i * ENTRIES_PER_GDT_PAGE + index;
        if (v->gdt_frames[i] == mfn && entry < v->gdt_entries)
            gdt_set_guest_entry(entry, fixed);
    }
    put_page_and_type(v->domain, mfn);
    return 0;
}

long do_fpu_taskswitch(struct vcpu *v, const uint64_t args[5])
{
    v->fpu_ts = args[0] != 0;
    write_cr0(v->fpu_ts ? read_cr0() | CR0_TS : read_cr0() & ~CR0_TS);
    return 0;
}

#define DR7_GD          (1ull << 13)
#define DR7_RESERVED    (0xFFFFFFFF0000D000ull) /* bits 12, 14-15 and 32-63 */
#define DR7_IO_BREAK(dr7, n) ((((dr7) >> (16 + 4 * (n))) & 3) == 2)

static void write_hw_debugreg(unsigned int reg, uint64_t value)
{
    switch (reg) {
    case 0: __asm__ volatile("mov %0, %%dr0" : : "r"(value)); break;
    case 1: __asm__ volatile("mov %0, %%dr1" : : "r"(value)); break;
    case 2: __asm__ volatile("mov %0, %%dr2" : : "r"(value)); break;
    case 3: __asm__ volatile("mov %0, %%dr3" : : "r"(value)); break;
    case 6: __asm__ volatile("mov %0, %%dr6" : : "r"(value)); break;
    case 7: __asm__ volatile("mov %0, %%dr7" : : "r"(value)); break;
    }
}

/* DR4 and DR5 are DR6 and DR7 (CR4.DE is clear); DR8 and up do not exist. */
static long debugreg_index(uint64_t reg)
{
    if (reg > 7)
        return -XEN_ENODEV;
    return reg == 4 || reg == 5 ? (long)reg + 2 : (long)reg;
}

long do_set_debugreg(struct vcpu *v, const uint64_t args[5])
{
    long index = debugreg_index(args[0]);
    uint64_t value = args[1];

    if (index < 0)
        return index;
    uint64_t reg = (uint64_t)index;

    switch (reg) {
    case 0: case 1: case 2: case 3:
        if (!guest_range_ok(value, 8))
            return -XEN_EPERM;
        break;
    case 6:
        value = (value & 0xffffefffull) | 0xffff0ff0ull; /* reserved bits read as 1 */
        break;
    case 7:
        if (value & (DR7_GD | DR7_RESERVED))
            return -XEN_EPERM;
        for (unsigned int n = 0; n < 4; n++)
            if (DR7_IO_BREAK(value, n))
                return -XEN_EPERM;
        value |= 1ull << 10;
        break;
    default:
        return -XEN_EINVAL;
    }
    v->debugreg[reg] = value;
    write_hw_debugreg((unsigned int)reg, value);
    return 0;
}

int vcpu_read_debugreg(const struct vcpu *v, uint64_t reg, uint64_t *value)
{
    long index = debugreg_index(reg);
    if (index < 0)
        return (int)index;
    *value = v->debugreg[index];
    return 0;
}

long do_get_debugreg(struct vcpu *v, const uint64_t args[5])
{
    uint64_t value;
    int rc = vcpu_read_debugreg(v, args[0], &value);
    return rc ? rc : (long)value;
}
