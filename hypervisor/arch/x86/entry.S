/*
 * Entry and exit: exception vectors, the SYSCALL entry, and the return to the
 * guest. This is the only place the CPU crosses between guest and hypervisor.
 *
 * Every entry builds a struct cpu_regs (pvkit/cpu.h) and calls C with a
 * pointer to it. Entries from a guest land in cpu_info.guest_regs (TSS.rsp0
 * points there); entries from the hypervisor itself (a fault in a guest-access
 * helper, an interrupt in the idle halt, or a bug) push the frame on the
 * current stack and, if C returns, resume where they were. Entries from a
 * guest leave through exit_from_guest_regs (their frame is guest_regs; other
 * callers enter by exit_to_guest, which finds it first: scheduling, events,
 * the lock dropped),
 * except a kick served without the lock (handle_exception returns true),
 * which resumes the guest as it was. The guest's GS base stays live in MSR_GS_BASE the
 * whole time; SWAPGS is used only for the few instructions in which the
 * SYSCALL entry finds its stack through the per-CPU pointer kept in the
 * shadow GS base.
 */
#include "pvkit/layout.h"

#define FLAT_RING3_CS64 0xe033
#define FLAT_RING3_SS64 0xe02b

.macro SAVE_GPRS
        push    %rdi
        push    %rsi
        push    %rdx
        push    %rcx
        push    %rax
        push    %r8
        push    %r9
        push    %r10
        push    %r11
        push    %rbx
        push    %rbp
        push    %r12
        push    %r13
        push    %r14
        push    %r15
.endm

.macro RESTORE_GPRS
        pop     %r15
        pop     %r14
        pop     %r13
        pop     %r12
        pop     %rbp
        pop     %rbx
        pop     %r11
        pop     %r10
        pop     %r9
        pop     %r8
        pop     %rax
        pop     %rcx
        pop     %rdx
        pop     %rsi
        pop     %rdi
.endm

/*
 * SYSCALL does not switch stacks: find this CPU's guest frame through the
 * per-CPU pointer in the shadow GS base and push the hardware-style frame
 * (SS, RSP, RFLAGS from R11, CS, RIP from RCX, error code 0 and `vector`).
 */
.macro SYSCALL_FRAME cs, vector
        swapgs
        mov     %rsp, %gs:CPUINFO_SCRATCH_RSP
        mov     %gs:CPUINFO_SYSCALL_STACK, %rsp
        push    $FLAT_RING3_SS64
        push    %gs:CPUINFO_SCRATCH_RSP
        swapgs
        push    %r11
        push    $\cs
        push    %rcx
        push    $0
        movl    $\vector, 4(%rsp)
.endm

        .text

/* Exception vector stubs: normalise the frame (error code slot, vector). */
.macro VECTOR vec, has_error_code
        .balign 16
vector_\vec:
        .if \has_error_code == 0
        push    $0
        .endif
        movl    $\vec, 4(%rsp)
        jmp     exception_common
.endm

VECTOR 0, 0

/*
 * #DB arrives on its own IST stack: a MOV SS or POP SS that hits a data
 * breakpoint delays the #DB past a following SYSCALL, into the first
 * instruction of syscall_entry, where RSP is still the guest's. From the
 * hypervisor it stays there (the handler touches no per-CPU data). From a
 * guest, the frame moves to where every guest entry lands (TSS.rsp0, kept in
 * the slot just above the IST stack's top by cpu.c), so it becomes the
 * vCPU's guest_regs like any other entry.
 */
        .balign 16
vector_1:
        push    $0
        movl    $1, 4(%rsp)
        testb   $3, 16(%rsp)                    /* CS of the interrupted code */
        jz      exception_common
        push    %rax
        mov     56(%rsp), %rax                  /* the slot: TSS.rsp0 */
        sub     $48, %rax                       /* where the 6-word frame goes */
        push    %rcx
        .irp off, 0, 8, 16, 24, 32, 40
        mov     16+\off(%rsp), %rcx
        mov     %rcx, \off(%rax)
        .endr
        pop     %rcx
        xchg    %rax, (%rsp)
        pop     %rsp
        jmp     exception_common

VECTOR 2, 0
VECTOR 3, 0
VECTOR 4, 0
VECTOR 5, 0
VECTOR 6, 0
VECTOR 7, 0
VECTOR 8, 1
VECTOR 9, 0
VECTOR 10, 1
VECTOR 11, 1
VECTOR 12, 1
VECTOR 13, 1
VECTOR 14, 1
VECTOR 15, 0
VECTOR 16, 0
VECTOR 17, 1
VECTOR 18, 0
VECTOR 19, 0
VECTOR 20, 0
VECTOR 21, 1
VECTOR 22, 0
VECTOR 23, 0
VECTOR 24, 0
VECTOR 25, 0
VECTOR 26, 0
VECTOR 27, 0
VECTOR 28, 0
VECTOR 29, 1
VECTOR 30, 1
VECTOR 31, 0
/* Vectors 32-255: interrupts and software INTs, each recording its number. */
        .set    vec, 32
        .rept   224
        .balign 16
        push    $0
        movl    $vec, 4(%rsp)
        jmp     exception_common
        .set    vec, vec + 1
        .endr

        .section .rodata
        .balign 8
        .globl exception_vectors
exception_vectors:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad   vector_\n
        .endr
        .globl interrupt_stubs
interrupt_stubs:
        .quad   vector_31 + 16          /* the first of the 224 stubs above */
        .text

exception_common:
        cld
        SAVE_GPRS
        mov     %rsp, %rdi
        call    handle_exception
        test    %al, %al                        /* resume as it was (lock not taken)? */
        jnz     2f
        testb   $3, CPU_REGS_SIZE - 32(%rsp)   /* frame CS: back to a guest? */
        jnz     exit_from_guest_regs            /* the frame is cpu_info.guest_regs */
2:      RESTORE_GPRS
        add     $8, %rsp                        /* error code, vector */
        iretq

/*
 * SYSCALL from the guest (kernel mode: a hypercall; user mode: a system
 * call for the guest kernel). RCX holds the guest RIP, R11 its RFLAGS.
 */
        .globl syscall_entry
syscall_entry:
        SYSCALL_FRAME FLAT_RING3_CS64, VECTOR_SYSCALL
        SAVE_GPRS                               /* no CLD: SFMASK clears DF (cpu.c) */
        mov     %rsp, %rdi
        call    handle_syscall
        /* fall through: RSP is &cpu_info.guest_regs, where the frame was built */

/*
 * exit_to_guest from an entry whose frame (RSP) is cpu_info.guest_regs: the
 * SYSCALL entry and exceptions from a guest (TSS.rsp0 is the frame's end).
 */
exit_from_guest_regs:
        cli
        mov     %rsp, %rdi
        call    prepare_exit_to_guest
        cmp     $EXIT_BY_VMRUN, %al
        je      3f
        test    %al, %al
        jz      1f
        /* Fast return from a hypercall: RCX and R11 already hold RIP and RFLAGS. */
        RESTORE_GPRS
        mov     32(%rsp), %rsp                  /* the guest's RSP (IST covers NMI) */
        sysretq
1:      RESTORE_GPRS
        add     $8, %rsp
guest_iret:
        iretq
/* A PVH vCPU: one VMRUN and its exit, handled with the lock taken (arch/x86/svm.c). */
3:      call    svm_vcpu_run
        jmp     exit_to_guest

/* Leaves to the guest whose registers are in cpu_info.guest_regs, from any stack depth. */
        .globl exit_to_guest
exit_to_guest:
        cli
        mov     %rsp, %rdi
        and     $~(STACK_SIZE - 1), %rdi
        add     $(STACK_SIZE - CPU_INFO_RESERVED + CPUINFO_GUEST_REGS), %rdi /* &guest_regs */
        mov     %rdi, %rsp
        jmp     exit_from_guest_regs

/* IRET faulted on guest-supplied state: crash that guest, then leave again. */
guest_iret_fixup:
        and     $~15, %rsp
        call    bad_guest_iret
        jmp     exit_to_guest

        .section __ex_table, "a"
        .balign 8
        .quad   guest_iret, guest_iret_fixup
        .text

/* SYSCALL from 32-bit compatibility mode: not supported, treated as #UD. */
        .globl syscall32_entry
syscall32_entry:
        SYSCALL_FRAME 0xe023, 6
        jmp     exception_common
