/*
 * Switching the physical CPU from one vCPU to another: everything a PV guest
 * can leave in the CPU that is not in the register frame.
 *
 * Saved and restored: the register frame (cpu_info.guest_regs), page tables
 * (kernel or user L4 by mode), FS base and the active GS base, the data
 * segment selectors, the guest's GDT entries (shadowed into this CPU's GDT
 * from the guest's validated descriptor frames), FPU/SSE state (FXSAVE),
 * the virtual CR0.TS, TSC_AUX and the debug registers. Selector loads use
 * guest-supplied values, so they go through fault-safe helpers: a selector
 * that no longer loads becomes the null selector, as under Xen; an LDT
 * selector's descriptor page is mapped into the LDT window first.
 *
 * A PVH vCPU (arch/x86/svm.c) keeps its CPU state in its VMCB, which
 * VMRUN and VMSAVE maintain; switching it saves and restores only the
 * register frame, the FPU and DR0-DR3 (which VMRUN does not swap), and
 * the CPU runs the hypervisor's own page tables meanwhile.
 */
#include "pvkit/context.h"
#include "pvkit/ldt.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/smp.h"
#include "pvkit/usercopy.h"
#include "pvkit/vcpu.h"
#include "pvkit/x86.h"

/* The FPU reset image, made once on first use: hypervisor lock. */
static uint8_t reset_fpu[512] __attribute__((aligned(16)));
static bool reset_fpu_ready;

static void fxsave(uint8_t *area)
{
    __asm__ volatile("fxsave64 %0" : "=m"(*(uint8_t (*)[512])area));
}

static void fxrstor(const uint8_t *area)
{
    __asm__ volatile("fxrstor64 %0" : : "m"(*(const uint8_t (*)[512])area));
}

void fpu_init_state(struct vcpu *v)
{
    if (!reset_fpu_ready) {
        uint32_t mxcsr = 0x1f80;
        write_cr0(read_cr0() & ~CR0_TS);
        __asm__ volatile("fninit; ldmxcsr %0" : : "m"(mxcsr));
        fxsave(reset_fpu);
        reset_fpu_ready = true;
    }
    memcpy(v->fpu, reset_fpu, sizeof(v->fpu));
}

static uint16_t read_selector(unsigned int which)
{
    uint16_t sel = 0;
    switch (which) {
    case 0: __asm__ volatile("mov %%ds, %0" : "=r"(sel)); break;
    case 1: __asm__ volatile("mov %%es, %0" : "=r"(sel)); break;
    case 2: __asm__ volatile("mov %%fs, %0" : "=r"(sel)); break;
    default: __asm__ volatile("mov %%gs, %0" : "=r"(sel)); break;
    }
    return sel;
}

/*
 * Keeps a PVH vCPU's DR0-DR3 (debugreg[0..3]): the guest moves to and from
 * them without an exit and VMRUN does not swap them, so they are the CPU's
 * until another vCPU's are loaded (write_debugregs). A PVH vCPU's
 * debugreg[7] stays 0: its DR7 is the VMCB's.
 */
static void save_pvh_debugregs(struct vcpu *v)
{
    __asm__ volatile("mov %%dr0, %0" : "=r"(v->debugreg[0]));
    __asm__ volatile("mov %%dr1, %0" : "=r"(v->debugreg[1]));
    __asm__ volatile("mov %%dr2, %0" : "=r"(v->debugreg[2]));
    __asm__ volatile("mov %%dr3, %0" : "=r"(v->debugreg[3]));
}

void context_save(struct vcpu *v)
{
    v->regs = get_cpu_info()->guest_regs;
    if (is_pvh(v->domain)) {
        write_cr0(read_cr0() & ~CR0_TS);
        fxsave(v->fpu);
        save_pvh_debugregs(v);
        return;
    }
    v->fs_base = rdmsr(MSR_FS_BASE);
    if (v->in_kernel)
        v->gs_base_kernel = rdmsr(MSR_GS_BASE);
    else
        v->gs_base_user = rdmsr(MSR_GS_BASE);
    v->sel_ds = read_selector(0);
    v->sel_es = read_selector(1);
    v->sel_fs = read_selector(2);
    v->sel_gs = read_selector(3);
    write_cr0(read_cr0() & ~CR0_TS);
    fxsave(v->fpu);
}

static void load_gdt_of(const struct vcpu *prev, const struct vcpu *next)
{
    unsigned int per_page = PAGE_SIZE / 8;

    if (prev)
        for (unsigned int i = next->gdt_entries; i < prev->gdt_entries; i++)
            gdt_set_guest_entry(i, 0);
    for (unsigned int i = 0; i < next->gdt_entries; i++) {
        const uint64_t *frame = frame_page(next->gdt_frames[i / per_page]);
        gdt_set_guest_entry(i, frame[i % per_page]);
    }
}

static void write_debugregs(const struct vcpu *v)
{
    __asm__ volatile("mov %0, %%dr0" : : "r"(v->debugreg[0]));
    __asm__ volatile("mov %0, %%dr1" : : "r"(v->debugreg[1]));
    __asm__ volatile("mov %0, %%dr2" : : "r"(v->debugreg[2]));
    __asm__ volatile("mov %0, %%dr3" : : "r"(v->debugreg[3]));
    __asm__ volatile("mov %0, %%dr7" : : "r"(v->debugreg[7] ? v->debugreg[7] : 0x400));
}

/*
 * The PVH part of context_restore: no guest GDT or LDT left, the
 * hypervisor's tables, next's FPU and DR0-DR3 (DR7 0x400 on the host side:
 * the guest's DR6/DR7 are in its VMCB).
 */
static void restore_pvh(struct vcpu *prev, struct vcpu *next)
{
    write_cr3(virt_to_phys(idle_l4));
    load_gdt_of(prev, next);
    ldt_switch(prev, next);
    write_cr0(read_cr0() & ~CR0_TS);
    fxrstor(next->fpu);
    write_debugregs(next);
    update_vcpu_time(next);
}

void context_restore(struct vcpu *prev, struct vcpu *next)
{
    struct cpu_info *ci = get_cpu_info();
    struct percpu *pc = this_cpu();

    ci->current = next;
    next->loaded = true;
    next->cpu = pc->id;
    ci->guest_regs = next->regs;
    pc->loaded_domain = next->domain;
    if (is_pvh(next->domain)) {
        restore_pvh(prev, next);
        return;
    }
    write_cr3((next->in_kernel ? next->kernel_l4_mfn : next->user_l4_mfn) << PAGE_SHIFT);
    load_gdt_of(prev, next);
    ldt_switch(prev, next);
    ldt_prefault_selector(next, next->sel_ds);
    ldt_prefault_selector(next, next->sel_es);
    ldt_prefault_selector(next, next->sel_fs);
    ldt_prefault_selector(next, next->sel_gs);
    load_data_selectors(next->sel_ds, next->sel_es, next->sel_fs);
    load_gs_selector(next->sel_gs);
    wrmsr(MSR_FS_BASE, next->fs_base);
    wrmsr(MSR_GS_BASE, next->in_kernel ? next->gs_base_kernel : next->gs_base_user);
    wrmsr(MSR_TSC_AUX, next->tsc_aux);
    write_cr0(read_cr0() & ~CR0_TS);
    fxrstor(next->fpu);
    if (next->fpu_ts)
        write_cr0(read_cr0() | CR0_TS);
    write_debugregs(next);
    update_vcpu_time(next);
}

void context_unload(struct vcpu *v)
{
    struct cpu_info *ci = get_cpu_info();

    ldt_unload(v->domain);
    __asm__ volatile("mov %0, %%dr7" : : "r"(0x400ul));
    write_cr3(virt_to_phys(idle_l4));
    ci->current = NULL;
    v->loaded = false;
    this_cpu()->loaded_domain = NULL;
}
