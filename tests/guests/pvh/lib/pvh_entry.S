/*
 * Entry of the PVH test kernels, and their exception stubs.
 *
 * The PVH ABI starts us at XEN_ELFNOTE_PHYS32_ENTRY (pvh_start32) in 32-bit
 * protected mode, paging off, flat segments from a GDT we cannot rely on,
 * EBX = the physical address of the hvm_start_info. We do what Linux does:
 * our own GDT, page tables mapping the first 1 GiB both at 0 (identity, to
 * keep running) and at 0xFFFFFFFF80000000 (where the kernel is linked,
 * sharing the PV test framework's guest.ld), CR4.PAE, EFER.LME, CR0.PG, a
 * far jump to 64-bit code, then pvh_start(start_info physical address) in
 * C on our own stack. Until paging is on, addresses are physical: symbol -
 * GUEST_VIRT_BASE. Before all that, xen_version and a console write with
 * the 32-bit hypercall convention (EBX, ECX, EDX), results kept for the C
 * code in pvh_version32 and pvh_console32.
 *
 * The CR4 write and the EFER write are intercepted by the hypervisor and
 * emulated, so reaching 64-bit mode already tests both.
 *
 * Exception stubs (vectors 0-31): each pushes its vector (and a zero error
 * code where the CPU pushes none) and jumps to exc_common, which records
 * vector and error code in pvh_trap_vector / pvh_trap_error and resumes at
 * pvh_trap_resume (set by a probe, pvh.h) after clearing it. An exception
 * with no resume address set is unexpected: the kernel loads an empty IDT
 * and faults again, a triple fault the hypervisor reports as the domain's
 * crash.
 */
#include <xen/elfnote.h>

#define VB 0xFFFFFFFF80000000
#define PHYS(sym) ((sym) - VB)

/* The PVH entry note, besides the PV notes of lib/notes.S. */
        .pushsection .note.Xen, "a", @note
        .balign 4
        .long 4
        .long 4
        .long XEN_ELFNOTE_PHYS32_ENTRY
        .asciz "Xen"
        .balign 4
        .long PHYS(pvh_start32)
        .popsection

        .section .text.entry, "ax", @progbits
        .code32
        .globl pvh_start32
pvh_start32:
        cld
        mov     %ebx, %esi
        /* Two hypercalls with the 32-bit convention, paging off (checked by pvh_hello). */
        mov     $17, %eax                       /* xen_version(XENVER_version) */
        xor     %ebx, %ebx
        xor     %ecx, %ecx
        vmmcall
        mov     %eax, PHYS(pvh_version32)
        mov     $18, %eax                       /* console_io(CONSOLEIO_write, len, msg) */
        xor     %ebx, %ebx
        mov     $pvh_msg32_end - pvh_msg32, %ecx
        mov     $PHYS(pvh_msg32), %edx
        vmmcall
        mov     %eax, PHYS(pvh_console32)
        lgdt    PHYS(pvh_gdt_desc)
        /* L4[0] and L4[511] -> L3; L3[0] and L3[510] -> L2; L2: 512 x 2 MiB. */
        mov     $PHYS(pvh_l3), %eax
        or      $3, %eax
        mov     %eax, PHYS(pvh_l4)
        mov     %eax, PHYS(pvh_l4) + 511 * 8
        mov     $PHYS(pvh_l2), %eax
        or      $3, %eax
        mov     %eax, PHYS(pvh_l3)
        mov     %eax, PHYS(pvh_l3) + 510 * 8
        xor     %ecx, %ecx
1:      mov     %ecx, %eax
        shl     $21, %eax
        or      $0x83, %eax                     /* present, writable, 2 MiB */
        mov     %eax, PHYS(pvh_l2)(, %ecx, 8)
        inc     %ecx
        cmp     $512, %ecx
        jb      1b
        mov     $PHYS(pvh_l4), %eax
        mov     %eax, %cr3
        mov     %cr4, %eax
        or      $0x20, %eax                     /* PAE */
        mov     %eax, %cr4
        mov     $0xC0000080, %ecx               /* EFER */
        rdmsr
        or      $0x100, %eax                    /* LME */
        wrmsr
        mov     %cr0, %eax
        or      $0x80000001, %eax               /* PG, PE */
        mov     %eax, %cr0
        ljmp    $0x08, $PHYS(pvh_start64_low)

        .code64
/* The PV entry (lib/notes.S names _start): a PVH-only kernel booted as PV stops here. */
        .globl _start
_start:
        ud2

pvh_start64_low:
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        movabs  $pvh_start64, %rax
        jmp     *%rax
pvh_start64:
        movabs  $pvh_stack_top, %rsp
        mov     %esi, %edi
        call    pvh_start
        ud2

/* Exception stubs. */
.macro EXC vec, has_error
        .balign 16
exc_\vec:
        .if \has_error == 0
        push    $0
        .endif
        push    $\vec
        jmp     exc_common
.endm
        EXC 0,0; EXC 1,0; EXC 2,0; EXC 3,0; EXC 4,0; EXC 5,0; EXC 6,0; EXC 7,0
        EXC 8,1; EXC 9,0; EXC 10,1; EXC 11,1; EXC 12,1; EXC 13,1; EXC 14,1; EXC 15,0
        EXC 16,0; EXC 17,1; EXC 18,0; EXC 19,0; EXC 20,0; EXC 21,1; EXC 22,0; EXC 23,0
        EXC 24,0; EXC 25,0; EXC 26,0; EXC 27,0; EXC 28,0; EXC 29,1; EXC 30,1; EXC 31,0

exc_common:
        push    %rax
        mov     8(%rsp), %rax
        mov     %rax, pvh_trap_vector(%rip)
        mov     16(%rsp), %rax
        mov     %rax, pvh_trap_error(%rip)
        mov     pvh_trap_resume(%rip), %rax
        test    %rax, %rax
        jz      2f
        mov     %rax, 24(%rsp)                  /* the frame's RIP */
        movq    $0, pvh_trap_resume(%rip)
        pop     %rax
        add     $16, %rsp
        iretq
2:      lidt    pvh_null_idt(%rip)
        ud2

/*
 * Interrupt stubs, vectors 32-255, 16 bytes apart from pvh_irq_stubs: each
 * counts its vector in pvh_irq_count[] and notes it in pvh_irq_last; the
 * one for pvh_upcall_vector first clears the byte pvh_upcall_flag points at
 * (evtchn_upcall_pending: the callback vector comes again while it is set).
 * No EOI: the tests write it themselves.
 */
        .balign 16
        .globl pvh_irq_stubs
pvh_irq_stubs:
        .set    irq_vec, 32
        .rept   224
        .balign 16
        pushq   $irq_vec
        jmp     irq_common
        .set    irq_vec, irq_vec + 1
        .endr

irq_common:
        push    %rax
        push    %rcx
        mov     16(%rsp), %rax                  /* the vector */
        mov     pvh_upcall_flag(%rip), %rcx
        test    %rcx, %rcx
        jz      1f
        cmp     pvh_upcall_vector(%rip), %rax
        jne     1f
        movb    $0, (%rcx)
1:      lea     pvh_irq_count(%rip), %rcx
        incq    (%rcx,%rax,8)
        mov     %rax, pvh_irq_last(%rip)
        pop     %rcx
        pop     %rax
        add     $8, %rsp
        iretq

        .section .rodata
pvh_msg32:
        .ascii  "pvh: hello from 32-bit protected mode\n"
pvh_msg32_end:
        .balign 8
        .globl pvh_exc_stubs
pvh_exc_stubs:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .quad   exc_\n
        .endr
pvh_null_idt:
        .word   0
        .quad   0
        .balign 8
/* A flat GDT, alike by shape to the hypervisor's in boot.S: another program's. */
pvh_gdt:
        .quad   0
        .quad   0x00af9a000000ffff              /* 0x08: 64-bit code */
        .quad   0x00cf92000000ffff              /* 0x10: data */
pvh_gdt_end:
pvh_gdt_desc:
        .word   pvh_gdt_end - pvh_gdt - 1
        .long   PHYS(pvh_gdt)

        .data
        .globl pvh_version32, pvh_console32
pvh_version32:  .long -1
pvh_console32:  .long -1

        .section .bss.pvh, "aw", @nobits
        .balign 4096
pvh_l4: .skip 4096
pvh_l3: .skip 4096
pvh_l2: .skip 4096
        .balign 16
pvh_stack:
        .skip 16384
pvh_stack_top:
