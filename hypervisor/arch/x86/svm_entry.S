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

/* struct cpu_regs offsets (pvkit/cpu.h), as assembler symbols for GPRS */
        .set OFF_r15, 0
        .set OFF_r14, 8
        .set OFF_r13, 16
        .set OFF_r12, 24
        .set OFF_rbp, 32
        .set OFF_rbx, 40
        .set OFF_r11, 48
        .set OFF_r10, 56
        .set OFF_r9, 64
        .set OFF_r8, 72
        .set OFF_rcx, 88
        .set OFF_rdx, 96
        .set OFF_rsi, 104
        .set OFF_rdi, 112

/* Moves the GPRs but RAX, RSP and RDI between the registers and regs at RDI. */
.macro GPRS dir
        .irp r, r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rcx, rdx, rsi
        .ifc \dir, load
        mov     OFF_\r(%rdi), %\r
        .else
        mov     %\r, OFF_\r(%rdi)
        .endif
        .endr
.endm

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
        GPRS    load
        mov     OFF_rdi(%rdi), %rdi
        sti
        vmrun
        /* #VMEXIT: RAX is the guest VMCB again, RSP ours, GIF clear, IF set. */
        vmsave
        push    %rdi
        mov     24(%rsp), %rdi          /* regs */
        GPRS    store
        popq    OFF_rdi(%rdi)
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
