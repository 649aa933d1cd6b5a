/*
 * The event callback and the first instruction of a secondary vCPU, for the
 * issue-4 test kernels (evt.h).
 *
 * evt_callback_entry: the hypervisor enters it with the Xen bounce frame
 * RCX, R11, RIP, CS, RFLAGS, RSP, SS on the current kernel stack (RCX at
 * RSP) and events masked. It restores RCX and R11 from the frame, saves the
 * caller-saved registers (and RBX, used to realign the stack), calls
 * evt_dispatch(saved registers) in C (which records the frame's RIP..SS), restores them and leaves through trap_iret
 * (trapentry.S), which issues the iret hypercall with RIP..SS from the frame
 * so that RFLAGS.IF (set: events were enabled when we were entered)
 * re-enables delivery.
 *
 * evt_ap_entry: a secondary vCPU starts here with RSP = the top of its
 * stack and RDI = its id (from the vcpu_guest_context); it calls
 * evt_ap_main(id), which never returns (ud2 if it did).
 */
    .text
    .globl evt_callback_entry
/* The register saves repeat trapentry.S's on purpose: two entry paths, each its own frame layout. */
evt_callback_entry:
    pop %rcx
    pop %r11
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    mov %rsp, %rbx
    mov %rsp, %rdi              /* saved registers, then RIP..SS */
    and $-16, %rsp
    cld
    call evt_dispatch
    mov %rbx, %rsp
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    jmp trap_iret

    .globl evt_ap_entry
evt_ap_entry:
    cld
    and $-16, %rsp
    call evt_ap_main
    ud2
