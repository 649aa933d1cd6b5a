/*
 * Trap entry stubs and the iret path for the PV CPU test kernels.
 *
 * The hypervisor delivers an exception (or a system call from guest user
 * mode) by building the Xen bounce frame on the guest kernel stack:
 *     RCX, R11, [error code], RIP, CS, RFLAGS, RSP, SS   (RCX at RSP).
 * Each stub restores RCX and R11 from that frame, pushes a zero error code
 * when the vector has none (so every frame has the same shape), pushes its
 * vector number and joins trap_common, which saves the remaining registers
 * as a struct trap_frame (traps.h) and calls trap_dispatch(frame) in C on a
 * 16-byte-aligned stack. On return it reloads every register from the frame
 * (the C code may have changed any of them) and leaves through the iret
 * hypercall (23) with the iret_context layout of xen/arch-x86/xen-x86_64.h
 * (rax, r11, rcx, flags, rip, cs, rflags, rsp, ss from the stack pointer
 * up) and flags = 0, as a PV kernel does.
 *
 * trap_ctx_save / trap_ctx_restore are a minimal setjmp/longjmp: the user
 * mode tests use them to get back from a handler running on the
 * stack_switch stack to the code that entered user mode.
 */
#define __ASSEMBLY__ 1
#include <xen/xen.h>

/* A stub for vector VEC whose frame has no error code. */
#define STUB_NOERR(name, vec) \
    .globl name; name: pop %rcx; pop %r11; pushq $0; pushq $vec; jmp trap_common

/* A stub for vector VEC whose frame carries an error code. */
#define STUB_ERR(name, vec) \
    .globl name; name: pop %rcx; pop %r11; pushq $vec; jmp trap_common

    .text
STUB_NOERR(trap_stub_0, 0)
STUB_NOERR(trap_stub_1, 1)
STUB_NOERR(trap_stub_2, 2)
STUB_NOERR(trap_stub_3, 3)
STUB_NOERR(trap_stub_4, 4)
STUB_NOERR(trap_stub_5, 5)
STUB_NOERR(trap_stub_6, 6)
STUB_NOERR(trap_stub_7, 7)
STUB_ERR(trap_stub_8, 8)
STUB_NOERR(trap_stub_9, 9)
STUB_ERR(trap_stub_10, 10)
STUB_ERR(trap_stub_11, 11)
STUB_ERR(trap_stub_12, 12)
STUB_ERR(trap_stub_13, 13)
STUB_ERR(trap_stub_14, 14)
STUB_NOERR(trap_stub_15, 15)
STUB_NOERR(trap_stub_16, 16)
STUB_ERR(trap_stub_17, 17)
STUB_NOERR(trap_stub_18, 18)
STUB_NOERR(trap_stub_19, 19)
STUB_NOERR(trap_stub_128, 128)
/* The syscall callback: a frame without error code; pseudo-vector 256. */
STUB_NOERR(trap_stub_syscall, 256)

trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    cld
    call trap_dispatch
    mov %rbx, %rsp
    .globl trap_return
trap_return:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp               /* vector and error code */
    /* fall through: RIP, CS, RFLAGS, RSP, SS are on the stack */

/* Pushes the rest of an iret_context over RIP..SS at RSP and issues iret. */
    .globl trap_iret
trap_iret:
    pushq $0                    /* flags: not VGCF_in_syscall */
    push %rcx
    push %r11
    push %rax
    mov $__HYPERVISOR_iret, %eax
    syscall
    ud2                         /* iret never returns */

/* trap_ctx_save(ctx): saves callee-saved registers, RSP and the return RIP; returns 0. */
    .globl trap_ctx_save
trap_ctx_save:
    mov %rbx, 0(%rdi)
    mov %rbp, 8(%rdi)
    mov %r12, 16(%rdi)
    mov %r13, 24(%rdi)
    mov %r14, 32(%rdi)
    mov %r15, 40(%rdi)
    lea 8(%rsp), %rax
    mov %rax, 48(%rdi)
    mov (%rsp), %rax
    mov %rax, 56(%rdi)
    xor %eax, %eax
    ret

/* trap_ctx_restore(ctx, val): resumes after trap_ctx_save, which returns VAL. */
    .globl trap_ctx_restore
trap_ctx_restore:
    mov 0(%rdi), %rbx
    mov 8(%rdi), %rbp
    mov 16(%rdi), %r12
    mov 24(%rdi), %r13
    mov 32(%rdi), %r14
    mov 40(%rdi), %r15
    mov 48(%rdi), %rsp
    mov %rsi, %rax
    jmp *56(%rdi)

/*
 * trap_enter_user(rip, rsp, rdi): iret to guest user mode at RIP with
 * stack RSP, CS = FLAT_USER_CS | 3, SS = FLAT_USER_SS | 3, RFLAGS with IF
 * clear (events stay masked: the tests register no event callback), RDI = the given value (iret keeps the other registers as they are).
 */
    .globl trap_enter_user
trap_enter_user:
    mov %rdi, %rax
    mov %rdx, %rdi
    pushq $(FLAT_USER_SS | 3)
    push %rsi
    pushq $0x2
    pushq $(FLAT_USER_CS | 3)
    push %rax
    xor %eax, %eax
    xor %ecx, %ecx
    xor %r11d, %r11d
    jmp trap_iret
