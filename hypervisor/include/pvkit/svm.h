/*
 * AMD SVM with nested paging: what runs a PVH vCPU (arch/x86/svm.c), and
 * the VMCB layout it uses (AMD APM vol. 2, appendix B; only the fields
 * pvkit reads or writes are named, the rest is padding).
 *
 * Rules: SVM is used only when the boot CPU has SVM and nested paging
 * (svm_available); every CPU then runs with EFER.SVME set and its own host
 * save area. A VMCB belongs to one vCPU and is touched only by the CPU the
 * vCPU is loaded on (or under the lock while it is not loaded). Every
 * intercept a PVH guest can reach ends in svm_handle_exit: emulated,
 * refused the way hardware would (#GP/#UD injected), or the domain crashed;
 * never anything that reaches beyond the domain.
 */
#ifndef PVKIT_SVM_H
#define PVKIT_SVM_H

#include "pvkit/domain.h"

struct vmcb_seg {
    uint16_t sel;
    uint16_t attr;              /* descriptor bits 40-47 and 52-55, packed */
    uint32_t limit;
    uint64_t base;
};

struct vmcb {
    /* Control area, 0x000-0x3ff. */
    uint32_t cr_intercepts;     /* 0x000: bits 0-15 reads, 16-31 writes of CRn */
    uint32_t dr_intercepts;     /* 0x004 */
    uint32_t exc_intercepts;    /* 0x008: one bit per exception vector */
    uint32_t intercepts1;       /* 0x00c: INTERCEPT1_* (arch/x86/svm.c) */
    uint32_t intercepts2;       /* 0x010: INTERCEPT2_* (arch/x86/svm.c) */
    uint8_t pad0[0x040 - 0x014];
    uint64_t iopm_base_pa;      /* 0x040 */
    uint64_t msrpm_base_pa;     /* 0x048 */
    uint64_t tsc_offset;        /* 0x050 */
    uint32_t asid;              /* 0x058 */
    uint8_t tlb_control;        /* 0x05c */
    uint8_t pad1[3];
    uint64_t vintr;             /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING (bit 24) ... */
    uint64_t interrupt_shadow;  /* 0x068 */
    uint64_t exitcode;          /* 0x070 */
    uint64_t exitinfo1;         /* 0x078 */
    uint64_t exitinfo2;         /* 0x080 */
    uint64_t exitintinfo;       /* 0x088 */
    uint64_t np_enable;         /* 0x090: bit 0 nested paging */
    uint8_t pad2[0x0a8 - 0x098];
    uint64_t eventinj;          /* 0x0a8 */
    uint64_t n_cr3;             /* 0x0b0: nested page tables' root */
    uint64_t lbr_virt;          /* 0x0b8 */
    uint32_t clean_bits;        /* 0x0c0 */
    uint32_t pad3;
    uint64_t next_rip;          /* 0x0c8: only with NRIP save */
    uint8_t pad4[0x400 - 0x0d0];
    /* State save area, 0x400-. */
    struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400-0x49f */
    uint8_t pad5[0x4cb - 0x4a0];
    uint8_t cpl;                /* 0x4cb */
    uint32_t pad6;
    uint64_t efer;              /* 0x4d0 */
    uint8_t pad7[0x548 - 0x4d8];
    uint64_t cr4;               /* 0x548 */
    uint64_t cr3;               /* 0x550 */
    uint64_t cr0;               /* 0x558 */
    uint64_t dr7;               /* 0x560 */
    uint64_t dr6;               /* 0x568 */
    uint64_t rflags;            /* 0x570 */
    uint64_t rip;               /* 0x578 */
    uint8_t pad8[0x5d8 - 0x580];
    uint64_t rsp;               /* 0x5d8 */
    uint8_t pad9[0x5f8 - 0x5e0];
    uint64_t rax;               /* 0x5f8 */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base; /* 0x600-0x620 */
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;    /* 0x628-0x638 */
    uint64_t cr2;               /* 0x640 */
    uint8_t pad10[0x668 - 0x648];
    uint64_t g_pat;             /* 0x668 */
    uint8_t pad11[4096 - 0x670];
};

_Static_assert(__builtin_offsetof(struct vmcb, exitcode) == 0x070, "VMCB control layout");
_Static_assert(__builtin_offsetof(struct vmcb, n_cr3) == 0x0b0, "VMCB control layout");
_Static_assert(__builtin_offsetof(struct vmcb, es) == 0x400, "VMCB save layout");
_Static_assert(__builtin_offsetof(struct vmcb, tr) == 0x490, "VMCB save layout");
_Static_assert(__builtin_offsetof(struct vmcb, efer) == 0x4d0, "VMCB save layout");
_Static_assert(__builtin_offsetof(struct vmcb, rip) == 0x578, "VMCB save layout");
_Static_assert(__builtin_offsetof(struct vmcb, rax) == 0x5f8, "VMCB save layout");
_Static_assert(__builtin_offsetof(struct vmcb, cr2) == 0x640, "VMCB save layout");
_Static_assert(__builtin_offsetof(struct vmcb, g_pat) == 0x668, "VMCB save layout");
_Static_assert(sizeof(struct vmcb) == 4096, "a VMCB is one page");

/* What the boot CPU offers (svm_detect); read-only once the APs start. */
struct svm_caps {
    bool svm;                   /* CPUID 0x80000001 ECX.SVM, not disabled in VM_CR */
    bool npt;                   /* 0x8000000A EDX bit 0 */
    bool nrip_save;             /* 0x8000000A EDX bit 3 */
    uint32_t nr_asids;          /* 0x8000000A EBX */
};

/* Reads the boot CPU's SVM features and reports them on the console. */
void svm_detect(void);
/* The features svm_detect found. */
const struct svm_caps *svm_caps(void);
/* SVM and nested paging are both there: PVH domains can run. */
bool svm_available(void);
/* Turns SVM on for this CPU (EFER.SVME, its host save area); nothing without SVM. */
void svm_cpu_init(unsigned int cpu);

/*
 * Gives vCPU v of a PVH domain a VMCB (a hypervisor frame) that starts it
 * the way the PVH ABI says: 32-bit protected mode, flat segments, paging
 * off, at `entry` with EBX = `ebx`, nested paging through d->npt_root.
 * 0 or -XEN_ENOMEM.
 */
int svm_vcpu_create(struct vcpu *v, uint32_t entry, uint32_t ebx);
/*
 * An INIT from the local APIC (arch/x86/vlapic.c, hypervisor lock): v
 * stops if it ran (as VCPUOP_down) and waits for a Startup IPI; its local
 * APIC is reset. Its other state stays until the Startup IPI.
 */
void svm_vcpu_init_signal(struct vcpu *v);
/*
 * A Startup IPI with `vector` (hypervisor lock): a vCPU waiting for one
 * (after an INIT, or above vCPU 0 since the build) becomes runnable and
 * starts in real mode at CS:IP = vector * 256:0 (svm_prepare_entry loads
 * that state on its own CPU); any other vCPU ignores it, as a CPU does.
 */
void svm_vcpu_startup_ipi(struct vcpu *v, uint8_t vector);
/* Releases v's VMCB (domain_free). */
void svm_vcpu_destroy(struct vcpu *v);

/*
 * Before v runs (prepare_exit_to_guest, lock held; regs its RIP/RFLAGS...):
 * first, after a Startup IPI, loads the real-mode start state into its
 * VMCB and regs (svm_vcpu_startup_ipi); then
 * injects the interrupt it should take (the callback vector while an upcall
 * is pending, else its local APIC's) if the guest can take one now (IF set,
 * no interrupt shadow, no exception being injected), else asks the CPU for
 * an exit (VINTR) as soon as it can.
 */
void svm_prepare_entry(struct vcpu *v, struct cpu_regs *regs);

/*
 * The exit path for a PVH vCPU (entry.S, after prepare_exit_to_guest
 * dropped the lock): runs the vCPU in cpu_info.guest_regs with VMRUN until
 * it exits, takes the lock and handles the exit. Returns with the lock
 * held; the caller goes round the exit path again.
 */
void svm_vcpu_run(void);

#endif
