/*
 * One VMRUN of a PVH vCPU (called from arch/x86/svm.c, svm_vcpu_run):
 *
 *   void svm_enter(struct cpu_regs *regs, uint64_t vmcb_pa, uint64_t host_vmcb_pa)
 *
 * With GIF clear (so no interrupt or NMI arrives while the CPU holds the
 * guest's TR, segments and syscall MSRs): VMSAVE the host's hidden state
 * into its per-CPU page, VMLOAD the guest's, load the guest's general
 * registers from regs (RAX, RSP, RIP and RFLAGS are in the VMCB), STI and
 * VMRUN. VMRUN saved IF set, so while the guest runs a physical interrupt
 * is an exit (the INTR intercept). After #VMEXIT (host RSP and RAX back,
 * GIF clear): the guest's registers go back into regs, its hidden state
 * into its VMCB (VMSAVE), the host's is reloaded, and STGI lets an
 * interrupt that caused or met the exit be taken now, through the IDT as
 * an interrupt of the hypervisor (handle_exception notes the timer's);
 * then CLI: the hypervisor runs with interrupts off.
 */

/* struct cpu_regs offsets (pvkit/cpu.h) */
#define R15 0
#define R14 8
#define R13 16
#define R12 24
#define RBP 32
#define RBX 40
#define R11 48
#define R10 56
#define R9  64
#define R8  72
#define RCX 88
#define RDX 96
#define RSI 104
#define RDI 112

        .text
        .globl svm_enter
svm_enter:
        push    %rbp
        push    %rbx
        push    %r12
        push    %r13
        push    %r14
        push    %r15
        push    %rdi                    /* 16(%rsp): regs */
        push    %rdx                    /*  8(%rsp): host VMCB */
        push    %rsi                    /*  0(%rsp): guest VMCB */
        clgi
        mov     %rdx, %rax
        vmsave
        mov     (%rsp), %rax
        vmload
        mov     R15(%rdi), %r15
        mov     R14(%rdi), %r14
        mov     R13(%rdi), %r13
        mov     R12(%rdi), %r12
        mov     RBP(%rdi), %rbp
        mov     RBX(%rdi), %rbx
        mov     R11(%rdi), %r11
        mov     R10(%rdi), %r10
        mov     R9(%rdi), %r9
        mov     R8(%rdi), %r8
        mov     RCX(%rdi), %rcx
        mov     RDX(%rdi), %rdx
        mov     RSI(%rdi), %rsi
        mov     RDI(%rdi), %rdi
        sti
        vmrun
        /* #VMEXIT: RAX is the guest VMCB again, RSP ours, GIF clear, IF set. */
        vmsave
        push    %rdi
        mov     24(%rsp), %rdi          /* regs */
        mov     %r15, R15(%rdi)
        mov     %r14, R14(%rdi)
        mov     %r13, R13(%rdi)
        mov     %r12, R12(%rdi)
        mov     %rbp, RBP(%rdi)
        mov     %rbx, RBX(%rdi)
        mov     %r11, R11(%rdi)
        mov     %r10, R10(%rdi)
        mov     %r9, R9(%rdi)
        mov     %r8, R8(%rdi)
        mov     %rcx, RCX(%rdi)
        mov     %rdx, RDX(%rdi)
        mov     %rsi, RSI(%rdi)
        popq    RDI(%rdi)
        mov     8(%rsp), %rax
        vmload
        stgi
        cli
        add     $24, %rsp
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbx
        pop     %rbp
        ret
