/*
 * AMD SVM: detection, per-CPU enabling, the VMCB of a PVH vCPU, and the
 * VMRUN/#VMEXIT cycle with its intercepts (see pvkit/svm.h for the rules).
 *
 * The cycle, one trip per exit:
 *   exit_to_guest (entry.S) -> prepare_exit_to_guest (schedules, drops the
 *   lock) -> svm_vcpu_run: RAX/RIP/RSP/RFLAGS into the VMCB -> svm_enter
 *   (svm_entry.S: VMSAVE host, VMLOAD guest, CLGI, STI, VMRUN ... #VMEXIT,
 *   VMSAVE guest, VMLOAD host, STGI: a pending host interrupt is taken
 *   here, CLI) -> back into cpu_info.guest_regs -> lock -> the timer work
 *   the interrupt left -> svm_handle_exit -> exit_to_guest again.
 *
 * Choices: one ASID for every guest and a full guest-TLB flush on every
 * VMRUN (TLB_CONTROL), so no ASID bookkeeping across CPUs is needed; every
 * I/O port and MSR access is intercepted (shared bitmaps), except the MSRs
 * VMLOAD/VMSAVE swap (segment bases, SYSCALL/SYSENTER), which are the
 * guest's own;
 * without NRIP save the length of an intercepted instruction is decoded
 * from the guest's bytes (arch/x86/emulate.c) and checked against the
 * instruction the exit names. What a guest cannot have is refused as
 * hardware refuses it: #GP for MSRs and CR4 bits it may not set and for
 * RDPMC (no counters: they would show other domains' events), #UD for SVM
 * instructions (INVLPGA too: the guest's EFER.SVME, which VMRUN requires,
 * would let it reach other ASIDs) and hidden features; a triple fault or a nested page
 * fault (memory it does not have) crashes that domain only.
 */
#include "pvkit/svm.h"
#include "pvkit/acpi.h"
#include "pvkit/cpuid.h"
#include "pvkit/emulate.h"
#include "pvkit/hypercall.h"
#include "pvkit/hypercall_page.h"
#include "pvkit/mm.h"
#include "pvkit/npt.h"
#include "pvkit/sched.h"
#include "pvkit/smp.h"
#include "pvkit/vlapic.h"
#include "pvkit/x86.h"

#define MSR_VM_CR           0xC0010114
#define MSR_VM_HSAVE_PA     0xC0010117
#define MSR_AMD64_NB_CFG    0xC001001F
#define MSR_K8_ENABLE_C1E   0xC0010055
#define VM_CR_SVMDIS        (1u << 4)
#define EFER_LME            (1ull << 8)
#define EFER_LMA            (1ull << 10)
#define EFER_SVME           (1ull << 12)
#define CR0_PE              (1ull << 0)
#define CR0_ET              (1ull << 4)
#define CR0_NW              (1ull << 29)
#define CR0_CD              (1ull << 30)
#define CR0_PG              (1ull << 31)

/* Intercept bits (APM vol. 2, VMCB control area, offsets 0x0c and 0x10). */
#define INTERCEPT1_INTR      (1u << 0)
#define INTERCEPT1_NMI       (1u << 1)
#define INTERCEPT1_SMI       (1u << 2)
#define INTERCEPT1_VINTR     (1u << 4)
#define INTERCEPT1_INIT      (1u << 3)
#define INTERCEPT1_RDPMC     (1u << 15)
#define INTERCEPT1_CPUID     (1u << 18)
#define INTERCEPT1_RSM       (1u << 19)
#define INTERCEPT1_INVD      (1u << 22)
#define INTERCEPT1_HLT       (1u << 24)
#define INTERCEPT1_INVLPGA   (1u << 26)
#define INTERCEPT1_IOIO      (1u << 27)
#define INTERCEPT1_MSR       (1u << 28)
#define INTERCEPT1_SHUTDOWN  (1u << 31)
#define INTERCEPT2_VMRUN     (1u << 0)
#define INTERCEPT2_VMMCALL   (1u << 1)
#define INTERCEPT2_VMLOAD    (1u << 2)
#define INTERCEPT2_VMSAVE    (1u << 3)
#define INTERCEPT2_STGI      (1u << 4)
#define INTERCEPT2_CLGI      (1u << 5)
#define INTERCEPT2_SKINIT    (1u << 6)
#define INTERCEPT2_RDTSCP    (1u << 7)
#define INTERCEPT2_WBINVD    (1u << 9)
#define INTERCEPT2_MONITOR   (1u << 10)
#define INTERCEPT2_MWAIT     (1u << 11)
#define INTERCEPT2_MWAIT_C   (1u << 12)
#define INTERCEPT2_XSETBV    (1u << 13)
#define INTERCEPT2_RDPRU     (1u << 14)
#define INTERCEPT_CR0_WRITE  (1u << (16 + 0))
#define INTERCEPT_CR4_WRITE  (1u << (16 + 4))

/* Exit codes. */
#define EXIT_CR0_WRITE      0x010
#define EXIT_CR4_WRITE      0x014
#define EXIT_INTR           0x060
#define EXIT_NMI            0x061
#define EXIT_SMI            0x062
#define EXIT_INIT           0x063
#define EXIT_VINTR          0x064
#define EXIT_RDPMC          0x06f
#define EXIT_CPUID          0x072
#define EXIT_RSM            0x073
#define EXIT_INVD           0x076
#define EXIT_HLT            0x078
#define EXIT_INVLPGA        0x07a
#define EXIT_IOIO           0x07b
#define EXIT_MSR            0x07c
#define EXIT_SHUTDOWN       0x07f
#define EXIT_VMRUN          0x080
#define EXIT_VMMCALL        0x081
#define EXIT_VMLOAD         0x082
#define EXIT_VMSAVE         0x083
#define EXIT_STGI           0x084
#define EXIT_CLGI           0x085
#define EXIT_SKINIT         0x086
#define EXIT_RDTSCP         0x087
#define EXIT_WBINVD         0x089
#define EXIT_MONITOR        0x08a
#define EXIT_MWAIT          0x08b
#define EXIT_MWAIT_C        0x08c
#define EXIT_XSETBV         0x08d
#define EXIT_RDPRU          0x08e
#define EXIT_NPF            0x400
#define EXIT_INVALID        ((uint64_t)-1)

#define EVENTINJ_VALID      (1ull << 31)
#define EVENTINJ_EXCEPTION  (3ull << 8)
#define EVENTINJ_ERRCODE    (1ull << 11)
#define VINTR_MASKING       (1ull << 24)
#define VINTR_IRQ           (1ull << 8)
#define VINTR_PRIO_TOP      (0xfull << 16)
#define VINTR_IGN_TPR       (1ull << 20)
#define INTERRUPT_SHADOW    1ull
#define TLB_FLUSH_ALL       1
#define GUEST_ASID          1
#define GUEST_PAT_DEFAULT   0x0007040600070406ull
/* The CR4 bits a PVH guest may set: what CPUID shows it, nothing of VMX, SMX, PKE, CET... */
#define CR4_PSE             (1ull << 4)
#define PVH_CR4_ALLOWED     ((1ull << 1) /* PVI */ | (1ull << 2) /* TSD */ | (1ull << 3) /* DE */ | \
                             CR4_PSE | CR4_PAE | (1ull << 6) /* MCE */ | CR4_PGE |            \
                             (1ull << 8) /* PCE */ | CR4_OSFXSR | CR4_OSXMMEXCPT)
/* Leaf 1 EDX bits the PV policy hides but a PVH guest has (its own paging): PSE, PGE; its APIC. */
#define PVH_L1_EDX_SHOWN    ((1u << 3) | (1u << 13))
#define CPUID_L1_EDX_APIC   (1u << 9)
#define CPUID_L1_ECX_X2APIC (1u << 21)
/* Xen's leaf 4 (HVM): EBX holds the vCPU id. */
#define XEN_HVM_VCPU_ID_PRESENT (1u << 3)
/* The EFER bits a PVH guest may write (LMA is the CPU's, SVME is ours and hidden). */
#define PVH_EFER_WRITABLE   (EFER_SCE | EFER_LME | EFER_NXE)

/* What the boot CPU offers: set by svm_detect before the APs start, read-only afterwards. */
static struct svm_caps caps;

/*
 * Per-CPU host state: VM_HSAVE_PA's page, and the page VMSAVE keeps the
 * host's FS/GS/TR/LDTR/syscall MSRs in across a VMRUN. Only their CPU
 * touches them.
 */
static uint8_t host_save_area[MAX_CPUS][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t host_vmcb[MAX_CPUS][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
/*
 * Every port and every MSR intercepted but the guest's own state that
 * VMLOAD/VMSAVE swap (svm_enter): segment bases, the SYSCALL and SYSENTER
 * MSRs. Filled once by svm_detect, read-only afterwards.
 */
static uint8_t msr_bitmap[2 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t io_bitmap[3 * PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* svm_entry.S: one VMRUN of the VMCB at vmcb_pa with the GPRs in regs (see the file comment). */
void svm_enter(struct cpu_regs *regs, uint64_t vmcb_pa, uint64_t host_vmcb_pa);

/* The MSRs VMLOAD and VMSAVE swap with the host's: the guest may read and write them itself. */
static const uint32_t guest_own_msrs[] = {
    0x174, 0x175, 0x176,                    /* SYSENTER_CS, _ESP, _EIP */
    MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
    MSR_FS_BASE, MSR_GS_BASE, MSR_SHADOW_GS_BASE,
};

/*
 * Stops intercepting msr: its two bits (read, write) in the MSR permission
 * map, whose three 2 KiB parts cover MSRs 0-0x1fff, 0xc0000000-0xc0001fff
 * and 0xc0010000-0xc0011fff.
 */
static void msr_pass_through(uint32_t msr)
{
    uint32_t base = msr & 0xffffe000u, part = base == 0 ? 0 : base == 0xc0000000u ? 1 : 2;
    uint32_t bit = (msr - base) * 2;
    msr_bitmap[part * 2048 + bit / 8] &= (uint8_t)~(3u << (bit % 8));
}

void svm_detect(void)
{
    uint32_t r[4];

    cpuid_count(0x80000000, 0, r);
    if (r[CPUID_EAX] >= 0x8000000A) {
        cpuid_count(0x80000001, 0, r);
        caps.svm = (r[CPUID_ECX] & (1u << 2)) && !(rdmsr(MSR_VM_CR) & VM_CR_SVMDIS);
    }
    if (caps.svm) {
        cpuid_count(0x8000000A, 0, r);
        caps.nr_asids = r[CPUID_EBX];
        caps.npt = r[CPUID_EDX] & (1u << 0);
        caps.nrip_save = r[CPUID_EDX] & (1u << 3);
        memset(msr_bitmap, 0xff, sizeof(msr_bitmap));
        memset(io_bitmap, 0xff, sizeof(io_bitmap));
        for (unsigned int i = 0; i < ARRAY_SIZE(guest_own_msrs); i++)
            msr_pass_through(guest_own_msrs[i]);
    }
    if (!caps.svm)
        printk(LOG_INFO, "(pvkit) SVM: not available: PVH domains cannot run\n");
    else
        printk(LOG_INFO, "(pvkit) SVM: available, nested paging %s, NRIP save %s, %u ASIDs%s\n",
               caps.npt ? "yes" : "no", caps.nrip_save ? "yes" : "no (lengths decoded)",
               caps.nr_asids, caps.npt ? "" : ": PVH domains cannot run");
}

const struct svm_caps *svm_caps(void)
{
    return &caps;
}

bool svm_available(void)
{
    return caps.svm && caps.npt;
}

void svm_cpu_init(unsigned int cpu)
{
    if (!svm_available())
        return;
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    wrmsr(MSR_VM_HSAVE_PA, virt_to_phys(host_save_area[cpu]));
}

/* --- the VMCB of a PVH vCPU ---------------------------------------------- */

static void set_seg(struct vmcb_seg *s, uint16_t sel, uint16_t attr, uint32_t limit)
{
    *s = (struct vmcb_seg){ .sel = sel, .attr = attr, .limit = limit, .base = 0 };
}

/* DS, ES, SS, FS and GS alike, base 0. */
static void set_data_segs(struct vmcb *vmcb, uint16_t sel, uint16_t attr, uint32_t limit)
{
    struct vmcb_seg *const segs[] = { &vmcb->ds, &vmcb->es, &vmcb->ss, &vmcb->fs, &vmcb->gs };
    for (unsigned int i = 0; i < ARRAY_SIZE(segs); i++)
        set_seg(segs[i], sel, attr, limit);
}

/*
 * What every start state shares: CPL 0, paging off, CR4 0, IF clear, no
 * event being injected, no interrupt shadow, the MSRs VMLOAD gives the
 * guest (SYSCALL, SYSENTER, KERNEL_GS_BASE) zero; CR0 and RIP as given.
 */
static void vmcb_reset_common(struct vmcb *vmcb, uint64_t cr0, uint64_t rip)
{
    vmcb->cpl = 0;
    vmcb->efer = EFER_SVME;       /* VMRUN requires it; the guest reads EFER without it */
    vmcb->cr0 = cr0;
    vmcb->cr2 = vmcb->cr3 = vmcb->cr4 = 0;
    vmcb->dr7 = 0x400;
    vmcb->dr6 = 0xffff0ff0;
    vmcb->rip = rip;
    vmcb->rflags = 2;
    vmcb->g_pat = GUEST_PAT_DEFAULT;
    vmcb->star = vmcb->lstar = vmcb->cstar = vmcb->sfmask = vmcb->kernel_gs_base = 0;
    vmcb->sysenter_cs = vmcb->sysenter_esp = vmcb->sysenter_eip = 0;
    vmcb->eventinj = 0;
    vmcb->interrupt_shadow = 0;
}

/* The PVH ABI's start state: flat 32-bit protected mode, paging off, CR4 0, IF clear. */
static void vmcb_init_guest_state(struct vmcb *vmcb, uint32_t entry)
{
    const uint16_t code32 = 0xc9b, data32 = 0xc93, tss32_busy = 0x8b, ldt = 0x82;
    set_seg(&vmcb->cs, 0x08, code32, 0xffffffff);
    set_data_segs(vmcb, 0x10, data32, 0xffffffff);
    set_seg(&vmcb->tr, 0x18, tss32_busy, 0x67);
    set_seg(&vmcb->ldtr, 0, ldt, 0);
    set_seg(&vmcb->gdtr, 0, 0, 0);
    set_seg(&vmcb->idtr, 0, 0, 0);
    vmcb_reset_common(vmcb, CR0_PE | CR0_ET, entry);
}

/*
 * The state a Startup IPI gives (after INIT): real mode, CS = vector *
 * 256 (base vector * 4 KiB), IP 0, the other segments at 0 with 64 KiB
 * limits, the IDT at 0 (the real-mode vector table), CR0 = ET.
 */
static void vmcb_init_real_mode(struct vmcb *vmcb, uint8_t vector)
{
    const uint16_t code16 = 0x9b, data16 = 0x93, tss_busy = 0x8b, ldt = 0x82;
    set_seg(&vmcb->cs, (uint16_t)(vector << 8), code16, 0xffff);
    vmcb->cs.base = (uint64_t)vector << 12;
    set_data_segs(vmcb, 0, data16, 0xffff);
    set_seg(&vmcb->tr, 0, tss_busy, 0xffff);
    set_seg(&vmcb->ldtr, 0, ldt, 0xffff);
    set_seg(&vmcb->gdtr, 0, 0, 0xffff);
    set_seg(&vmcb->idtr, 0, 0, 0xffff);
    vmcb_reset_common(vmcb, CR0_ET, 0);
}

static void vmcb_init_control(struct vmcb *vmcb, const struct domain *d)
{
    vmcb->cr_intercepts = INTERCEPT_CR0_WRITE | INTERCEPT_CR4_WRITE;
    vmcb->intercepts1 = INTERCEPT1_INTR | INTERCEPT1_NMI | INTERCEPT1_SMI | INTERCEPT1_INIT |
                        INTERCEPT1_RDPMC | INTERCEPT1_CPUID | INTERCEPT1_RSM | INTERCEPT1_INVD |
                        INTERCEPT1_HLT | INTERCEPT1_INVLPGA | INTERCEPT1_IOIO | INTERCEPT1_MSR |
                        INTERCEPT1_SHUTDOWN;
    vmcb->intercepts2 = INTERCEPT2_VMRUN | INTERCEPT2_VMMCALL | INTERCEPT2_VMLOAD |
                        INTERCEPT2_VMSAVE | INTERCEPT2_STGI | INTERCEPT2_CLGI |
                        INTERCEPT2_SKINIT | INTERCEPT2_RDTSCP | INTERCEPT2_WBINVD |
                        INTERCEPT2_MONITOR | INTERCEPT2_MWAIT | INTERCEPT2_MWAIT_C |
                        INTERCEPT2_XSETBV | INTERCEPT2_RDPRU;
    vmcb->iopm_base_pa = virt_to_phys(io_bitmap);
    vmcb->msrpm_base_pa = virt_to_phys(msr_bitmap);
    vmcb->asid = GUEST_ASID;
    vmcb->tlb_control = TLB_FLUSH_ALL;
    vmcb->vintr = VINTR_MASKING;
    vmcb->np_enable = 1;
    vmcb->n_cr3 = d->npt_root << PAGE_SHIFT;
}

int svm_vcpu_create(struct vcpu *v, uint32_t entry, uint32_t ebx)
{
    int64_t mfn = alloc_zeroed_frame(OWNER_HV);
    if (mfn < 0)
        return -XEN_ENOMEM;
    v->vmcb = mfn_to_virt((uint64_t)mfn);
    v->vmcb_pa = (uint64_t)mfn << PAGE_SHIFT;
    vmcb_init_control(v->vmcb, v->domain);
    vmcb_init_guest_state(v->vmcb, entry);
    memset(&v->regs, 0, sizeof(v->regs));
    v->regs.rip = entry;
    v->regs.rflags = 2;
    v->regs.rbx = ebx;
    return 0;
}

void svm_vcpu_init_signal(struct vcpu *v)
{
    if (v->state != VCPU_DOWN) {
        vcpu_set_state(v, VCPU_DOWN);
        vcpu_force_reschedule(v);
    }
    v->sipi_wait = true;
    v->sipi_start = false;
    v->initialised = false;     /* VCPUOP_up cannot resume the discarded context (as Xen) */
    vlapic_reset(v);
}

void svm_vcpu_startup_ipi(struct vcpu *v, uint8_t vector)
{
    if (!v->sipi_wait)
        return;
    v->sipi_wait = false;
    v->sipi_start = true;
    v->sipi_vector = vector;
    v->initialised = true;
    vcpu_make_runnable(v);
}

void svm_vcpu_destroy(struct vcpu *v)
{
    if (v->vmcb)
        frame_free(&frame_table, v->vmcb_pa >> PAGE_SHIFT);
    v->vmcb = NULL;
    v->vmcb_pa = 0;
}

/* --- exits --------------------------------------------------------------- */

static void inject(struct vcpu *v, unsigned int vector, bool has_error, uint32_t error)
{
    v->vmcb->eventinj = vector | EVENTINJ_EXCEPTION | EVENTINJ_VALID |
                        (has_error ? EVENTINJ_ERRCODE | ((uint64_t)error << 32) : 0);
    v->domain->emu_stats.exceptions_bounced++;
}

static void inject_gp(struct vcpu *v)
{
    inject(v, 13, true, 0);
}

static void inject_ud(struct vcpu *v)
{
    inject(v, 6, false, 0);
}

/* The guest runs 64-bit code: long mode active and CS.L. */
static bool guest_64bit(const struct vmcb *vmcb)
{
    return (vmcb->efer & EFER_LMA) && (vmcb->cs.attr & (1u << 9));
}

/*
 * The guest goes on at next, past an instruction done for it: as the CPU
 * does when an instruction retires, an STI or MOV SS interrupt shadow ends.
 */
static void advance_rip(struct vcpu *v, struct cpu_regs *regs, uint64_t next)
{
    regs->rip = next;
    v->vmcb->interrupt_shadow &= ~INTERRUPT_SHADOW;
}

/*
 * The address after the intercepted instruction at RIP, which must be
 * `opcode` after any prefixes (NRIP save gives it; else the bytes are
 * decoded), or 0 if the bytes there are not that instruction.
 */
static uint64_t next_rip(const struct vcpu *v, const struct cpu_regs *regs,
                         const uint8_t *opcode, unsigned int n)
{
    if (caps.nrip_save)
        return v->vmcb->next_rip;
    unsigned int len = insn_length_at(v->vmcb->cs.base + regs->rip, opcode, n);
    if (!len)
        return 0;
    uint64_t next = regs->rip + len;
    return guest_64bit(v->vmcb) ? next : next & 0xffffffffull;
}

/*
 * Moves the guest past the intercepted instruction (next_rip). False,
 * with the domain crashed, if the bytes at RIP are not it.
 */
static bool skip_insn(struct vcpu *v, struct cpu_regs *regs, const uint8_t *opcode,
                      unsigned int n)
{
    uint64_t next = next_rip(v, regs, opcode, n);
    if (!next) {
        domain_crash(v->domain, "PVH: intercepted instruction unreadable or changed", regs);
        return false;
    }
    advance_rip(v, regs, next);
    return true;
}

/*
 * VMMCALL: a hypercall, number in EAX; arguments in RDI, RSI, RDX, R10, R8
 * from 64-bit code, else in EBX, ECX, EDX, ESI, EDI (Xen's HVM convention).
 * From guest user mode (CPL > 0) it fails with -EPERM, as on Xen.
 */
static void exit_vmmcall(struct vcpu *v, struct cpu_regs *regs)
{
    static const uint8_t vmmcall[3] = { 0x0f, 0x01, 0xd9 };
    bool wide = guest_64bit(v->vmcb), again = false;
    uint64_t mask = wide ? ~0ull : 0xffffffffull;
    uint64_t *const slots64[5] = { &regs->rdi, &regs->rsi, &regs->rdx, &regs->r10, &regs->r8 };
    uint64_t *const slots32[5] = { &regs->rbx, &regs->rcx, &regs->rdx, &regs->rsi, &regs->rdi };
    uint64_t *const *slots = wide ? slots64 : slots32;
    uint64_t args[5];
    long rc;

    for (unsigned int i = 0; i < 5; i++)
        args[i] = *slots[i] & mask;
    if (v->vmcb->cpl)
        rc = -XEN_EPERM;
    else
        rc = do_hypercall_pvh(v, regs->rax & mask, args, &again);
    if (again) {                  /* re-issued: stay on the VMMCALL */
        for (unsigned int i = 0; i < 5; i++)
            *slots[i] = args[i];
        return;
    }
    regs->rax = (uint64_t)rc & mask;
    skip_insn(v, regs, vmmcall, sizeof(vmmcall));
}

/*
 * CPUID: the PV policy (arch/x86/cpuid.c), plus what a guest with its own
 * paging has that a PV guest does not: PSE and PGE (Linux sets both in
 * CR4 at its 64-bit entry, without asking); its x2APIC (arch/x86/vlapic.c),
 * with the vCPU id as APIC id in leaf 1 and Xen's leaf 4; the host's
 * x2APIC topology (leaves 0xb, 0x1f) is not shown: all zero.
 */
static void exit_cpuid(struct vcpu *v, struct cpu_regs *regs)
{
    static const uint8_t cpuid[2] = { 0x0f, 0xa2 };
    uint32_t leaf = (uint32_t)regs->rax, host[4];
    emulate_cpuid(regs);
    if (leaf == 1) {
        cpuid_count(1, 0, host);
        regs->rdx |= (host[CPUID_EDX] & PVH_L1_EDX_SHOWN) | CPUID_L1_EDX_APIC;
        regs->rcx |= CPUID_L1_ECX_X2APIC;
        regs->rbx = (regs->rbx & 0x00ffffffu) | ((uint64_t)v->id << 24);
    } else if (leaf == 0xb || leaf == 0x1f) {
        regs->rax = regs->rbx = regs->rcx = regs->rdx = 0;
    } else if (leaf == CPUID_XEN_BASE + 4) {
        regs->rax = XEN_HVM_VCPU_ID_PRESENT;
        regs->rbx = v->id;
    }
    v->domain->emu_stats.done[EMUL_CPUID]++;
    skip_insn(v, regs, cpuid, sizeof(cpuid));
}

/* Writes the PVH hypercall page at guest-physical address gpa (the Xen MSR). */
static bool write_hypercall_page(struct vcpu *v, uint64_t value)
{
    if (value & (PAGE_SIZE - 1))  /* only page 0 of a one-page area */
        return false;
    int64_t mfn = npt_lookup(v->domain, value >> PAGE_SHIFT);
    if (mfn < 0)
        return false;
    hypercall_page_write_pvh(mfn_to_virt((uint64_t)mfn));
    return true;
}

static bool pvh_wrmsr(struct vcpu *v, uint32_t msr, uint64_t value)
{
    struct vmcb *vmcb = v->vmcb;
    switch (msr) {
    case MSR_EFER:
        if ((value & ~PVH_EFER_WRITABLE) & ~EFER_LMA)
            return false;
        if (((value ^ vmcb->efer) & EFER_LME) && (vmcb->cr0 & CR0_PG))
            return false;         /* LME changes only with paging off */
        vmcb->efer = (value & PVH_EFER_WRITABLE) | (vmcb->efer & EFER_LMA) | EFER_SVME;
        return true;
    case MSR_PAT:
        for (unsigned int i = 0; i < 8; i++) {
            uint8_t t = (uint8_t)(value >> (8 * i));
            if (t == 2 || t == 3 || t > 7)
                return false;
        }
        vmcb->g_pat = value;
        return true;
    case CPUID_XEN_BASE:
        return write_hypercall_page(v, value);
    case MSR_AMD64_NB_CFG:
        return true;              /* ignored, as Xen (Linux's AMD PCI code sets a bit) */
    default:
        return false;
    }
}

static bool pvh_rdmsr(struct vcpu *v, uint32_t msr, uint64_t *value)
{
    switch (msr) {
    case MSR_EFER:
        *value = v->vmcb->efer & ~EFER_SVME;
        return true;
    case MSR_PAT:
        *value = v->vmcb->g_pat;
        return true;
    case MSR_AMD64_NB_CFG:
    case MSR_K8_ENABLE_C1E:
        *value = 0;               /* as Xen: AMD northbridge registers a guest has no use for */
        return true;
    default:
        return false;
    }
}

/*
 * RDMSR/WRMSR (EXITINFO1 0/1): the few MSRs above and the x2APIC's
 * (arch/x86/vlapic.c); any other one is #GP, as an absent MSR.
 */
static void exit_msr(struct vcpu *v, struct cpu_regs *regs)
{
    static const uint8_t rd[2] = { 0x0f, 0x32 }, wr[2] = { 0x0f, 0x30 };
    bool write = v->vmcb->exitinfo1 & 1, ok;
    uint32_t msr = (uint32_t)regs->rcx;
    uint64_t value = (regs->rdx << 32) | (uint32_t)regs->rax;

    if (vlapic_msr(msr))
        ok = write ? vlapic_wrmsr(v, msr, value) : vlapic_rdmsr(v, msr, &value);
    else
        ok = write ? pvh_wrmsr(v, msr, value) : pvh_rdmsr(v, msr, &value);
    if (!ok) {
        inject_gp(v);
        return;
    }
    if (!write) {
        regs->rax = (uint32_t)value;
        regs->rdx = value >> 32;
    }
    v->domain->emu_stats.done[write ? EMUL_WRMSR : EMUL_RDMSR]++;
    skip_insn(v, regs, write ? wr : rd, 2);
}

/*
 * IN/OUT (EXITINFO1: bit 0 IN, bit 2 string, bits 4-6 size, bits 16-31 the
 * port; EXITINFO2 the next RIP): no device is there, so IN reads all ones
 * and OUT is dropped, as on an empty bus, but for the one register the
 * domain's ACPI tables name: S5 written to the sleep control register
 * powers the domain off (common/acpi_build.c). String I/O is not emulated: #GP.
 */
static void exit_ioio(struct vcpu *v, struct cpu_regs *regs)
{
    uint64_t info = v->vmcb->exitinfo1;
    if (info & (1u << 2)) {
        inject_gp(v);
        return;
    }
    unsigned int size = info & (1u << 4) ? 1 : info & (1u << 5) ? 2 : 4;
    if (info & 1) {
        uint64_t ones = size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
        regs->rax = size == 4 ? ones : (regs->rax & ~ones) | ones;
    } else if (acpi_pvh_poweroff((uint16_t)(info >> 16), size, (uint32_t)regs->rax)) {
        domain_shutdown(v->domain, SHUTDOWN_poweroff);
    }
    v->domain->emu_stats.done[EMUL_PORT_IO]++;
    advance_rip(v, regs, v->vmcb->exitinfo2);
}

/*
 * Decodes the MOV to CR`cr` at RIP: its length, the value (32 bits outside
 * 64-bit code) in *value; 0, with the domain crashed, if it is not one.
 */
static unsigned int decode_mov_to_cr(struct vcpu *v, struct cpu_regs *regs, unsigned int cr,
                                     uint64_t *value)
{
    unsigned int got;
    unsigned int len = insn_decode_mov_to_cr(regs, v->vmcb->cs.base + regs->rip, &got, value);
    if (!len || got != cr) {
        domain_crash(v->domain, "PVH: CR write intercepted but not a MOV to that CR (LMSW?)", regs);
        return 0;
    }
    if (!guest_64bit(v->vmcb))
        *value &= 0xffffffffull;
    return len;
}

/*
 * A CR0 write (MOV to CR0, CLTS, LMSW): checked as the CPU checks it (a
 * CPU that lets a guest reach an invalid CR0, as QEMU's TCG does, would
 * make the next VMRUN fail), then done, long mode activated or left as
 * EFER.LME says. LMSW is not emulated: the domain is crashed.
 */
static void exit_cr0_write(struct vcpu *v, struct cpu_regs *regs)
{
    static const uint8_t clts[2] = { 0x0f, 0x06 };
    struct vmcb *vmcb = v->vmcb;
    unsigned int len;
    uint64_t value;

    /* The bytes decide (next_rip with NRIP save would be non-zero for any CR0 write). */
    if (insn_length_at(vmcb->cs.base + regs->rip, clts, 2)) {
        vmcb->cr0 &= ~CR0_TS;
        skip_insn(v, regs, clts, 2);
        return;
    }
    if (!(len = decode_mov_to_cr(v, regs, 0, &value)))
        return;
    bool pg = value & CR0_PG, was_pg = vmcb->cr0 & CR0_PG;
    if ((value >> 32) || (pg && !(value & CR0_PE)) || ((value & CR0_NW) && !(value & CR0_CD)) ||
        (pg && !was_pg && (vmcb->efer & EFER_LME) && !(vmcb->cr4 & CR4_PAE)) ||
        (!pg && guest_64bit(vmcb))) {
        inject_gp(v);
        return;
    }
    if (pg && !was_pg && (vmcb->efer & EFER_LME))
        vmcb->efer |= EFER_LMA;
    if (!pg)
        vmcb->efer &= ~EFER_LMA;
    vmcb->cr0 = value | CR0_ET;
    v->domain->emu_stats.done[EMUL_CR_WRITE]++;
    advance_rip(v, regs, regs->rip + len);
}

/* MOV to CR4: only the bits PVH_CR4_ALLOWED. */
static void exit_cr4_write(struct vcpu *v, struct cpu_regs *regs)
{
    struct vmcb *vmcb = v->vmcb;
    unsigned int len;
    uint64_t value;

    if (!(len = decode_mov_to_cr(v, regs, 4, &value)))
        return;
    if ((value & ~PVH_CR4_ALLOWED) || ((vmcb->efer & EFER_LMA) && !(value & CR4_PAE))) {
        inject_gp(v);
        return;
    }
    vmcb->cr4 = value;
    v->domain->emu_stats.done[EMUL_CR_WRITE]++;
    advance_rip(v, regs, regs->rip + len);
}

/*
 * HLT: the vCPU waits, as SCHEDOP_block does, until an upcall is pending
 * or its local APIC has an interrupt for it (vcpu_event_pending), whatever
 * its RFLAGS.IF (unlike hardware, whose HLT with IF clear waits for an NMI).
 * Without a callback vector (HVM_PARAM_CALLBACK_IRQ) the pending flag is
 * all an event does: one already set ends the halt at once and is consumed.
 */
static void exit_hlt(struct vcpu *v, struct cpu_regs *regs)
{
    static const uint8_t hlt[1] = { 0xf4 };
    if (!skip_insn(v, regs, hlt, 1))
        return;
    if (!v->domain->callback_vector &&
        __atomic_exchange_n(&v->vcpu_info->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST))
        return;
    vcpu_block(v);
}

static void exit_crash(struct vcpu *v, struct cpu_regs *regs, const char *what)
{
    char why[96];
    snprintf(why, sizeof(why), "PVH: %s (exit %lx, info %lx/%lx)", what,
             (unsigned long)v->vmcb->exitcode, (unsigned long)v->vmcb->exitinfo1,
             (unsigned long)v->vmcb->exitinfo2);
    domain_crash(v->domain, why, regs);
}

/*
 * WBINVD or INVD: nothing for a guest to do (no cache of its own; INVD
 * would drop other domains' writes). Either exit accepts either
 * instruction: QEMU 7.2's TCG reports INVD as a WBINVD exit.
 */
static void exit_cache_flush(struct vcpu *v, struct cpu_regs *regs)
{
    static const uint8_t wbinvd[2] = { 0x0f, 0x09 }, invd[2] = { 0x0f, 0x08 };
    if (next_rip(v, regs, wbinvd, 2))
        skip_insn(v, regs, wbinvd, 2);
    else
        skip_insn(v, regs, invd, 2);
    v->domain->emu_stats.done[EMUL_WBINVD]++;
}

static void svm_handle_exit(struct vcpu *v, struct cpu_regs *regs)
{
    struct vmcb *vmcb = v->vmcb;

    switch (vmcb->exitcode) {
    case EXIT_INTR: case EXIT_NMI: case EXIT_SMI: case EXIT_INIT:
        break;                    /* the host took it after STGI */
    case EXIT_VINTR:
        break;                    /* the guest can take an interrupt: svm_prepare_entry injects it */
    case EXIT_VMMCALL: exit_vmmcall(v, regs); break;
    case EXIT_CPUID: exit_cpuid(v, regs); break;
    case EXIT_MSR: exit_msr(v, regs); break;
    case EXIT_IOIO: exit_ioio(v, regs); break;
    case EXIT_CR0_WRITE: exit_cr0_write(v, regs); break;
    case EXIT_CR4_WRITE: exit_cr4_write(v, regs); break;
    case EXIT_HLT: exit_hlt(v, regs); break;
    case EXIT_WBINVD: case EXIT_INVD: exit_cache_flush(v, regs); break;
    case EXIT_VMRUN: case EXIT_VMLOAD: case EXIT_VMSAVE: case EXIT_STGI: case EXIT_CLGI:
    case EXIT_SKINIT: case EXIT_RDTSCP: case EXIT_MONITOR: case EXIT_MWAIT: case EXIT_MWAIT_C:
    case EXIT_XSETBV: case EXIT_RDPRU: case EXIT_RSM: case EXIT_INVLPGA:
        inject_ud(v);             /* CPUID shows none of them */
        break;
    case EXIT_RDPMC:
        inject_gp(v);             /* no performance counters (CPUID leaf 0xa is empty) */
        break;
    case EXIT_SHUTDOWN: exit_crash(v, regs, "triple fault"); break;
    case EXIT_NPF: exit_crash(v, regs, "access outside its memory"); break;
    case EXIT_INVALID: exit_crash(v, regs, "VMRUN refused the guest state"); break;
    default: exit_crash(v, regs, "unexpected exit"); break;
    }
}

/*
 * The vector v should take next: the callback vector while its upcall is
 * pending (as Xen, ahead of the local APIC), else the APIC's highest
 * deliverable one (*from_apic). -1: none.
 */
static int pending_vector(const struct vcpu *v, bool *from_apic)
{
    const struct vcpu_info *vi = v->vcpu_info;
    *from_apic = false;
    if (v->domain->callback_vector && vi &&
        __atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_RELAXED))
        return v->domain->callback_vector;
    *from_apic = true;
    return vlapic_deliverable(v);
}

void svm_prepare_entry(struct vcpu *v, struct cpu_regs *regs)
{
    struct vmcb *vmcb = v->vmcb;
    bool from_apic;

    if (v->sipi_start) {          /* a Startup IPI: this CPU owns the VMCB now */
        v->sipi_start = false;
        vmcb_init_real_mode(vmcb, v->sipi_vector);
        *regs = (struct cpu_regs){ .rflags = 2 };
    }
    int vector = pending_vector(v, &from_apic);

    vmcb->vintr &= ~(VINTR_IRQ | VINTR_PRIO_TOP | VINTR_IGN_TPR);
    vmcb->intercepts1 &= ~INTERCEPT1_VINTR;
    if (vector < 0)
        return;
    if (!(vmcb->eventinj & EVENTINJ_VALID) && (regs->rflags & RFLAGS_IF) &&
        !(vmcb->interrupt_shadow & INTERRUPT_SHADOW)) {
        vmcb->eventinj = (uint64_t)vector | EVENTINJ_VALID; /* type 0: an external interrupt */
        if (from_apic)
            vlapic_ack(v, (unsigned int)vector);
        return;
    }
    /* Not now: a virtual interrupt request makes the CPU exit (VINTR) once the guest can take one. */
    vmcb->vintr |= VINTR_IRQ | VINTR_PRIO_TOP | VINTR_IGN_TPR;
    vmcb->intercepts1 |= INTERCEPT1_VINTR;
}

void svm_vcpu_run(void)
{
    struct cpu_info *ci = get_cpu_info();
    struct vcpu *v = ci->current;
    struct cpu_regs *regs = &ci->guest_regs;
    struct vmcb *vmcb = v->vmcb;

    vmcb->rax = regs->rax;
    vmcb->rip = regs->rip;
    vmcb->rsp = regs->rsp;
    vmcb->rflags = regs->rflags;
    svm_enter(regs, v->vmcb_pa, virt_to_phys(host_vmcb[ci->cpu_id]));
    regs->rax = vmcb->rax;
    regs->rip = vmcb->rip;
    regs->rsp = vmcb->rsp;
    regs->rflags = vmcb->rflags;
    hv_lock();
    serve_flush_request();
    serve_pending_timer(false);  /* it came while the guest ran */
    /* An event the exit interrupted is delivered again, whatever becomes of the exit. */
    vmcb->eventinj = (vmcb->exitintinfo & EVENTINJ_VALID) ? vmcb->exitintinfo : 0;
    /*
     * An INIT from another vCPU may have taken v down while it ran or while
     * this CPU waited for the lock (and a Startup IPI may have followed):
     * the exit belongs to the context the INIT discarded (a HLT handled now
     * would make v blocked, and a wake-up would resume that context without
     * a Startup IPI, or delay the one that came), so it is dropped.
     */
    if (domain_state(v->domain) == DOMAIN_RUNNING && vcpu_state(v) == VCPU_RUNNABLE &&
        !v->sipi_start)
        svm_handle_exit(v, regs);
}
