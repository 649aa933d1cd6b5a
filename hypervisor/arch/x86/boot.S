/*
 * Boot trampoline: the multiboot1 and multiboot2 headers and the 32-bit entry
 * that takes the CPU to long mode and jumps to C at the hypervisor's link
 * address.
 *
 * Both loaders enter in 32-bit protected mode with paging off, EAX holding the
 * loader's magic and EBX the physical address of its information structure;
 * we pass both to start_hypervisor() unchanged. The boot page tables map the
 * first 4 GiB twice with 2 MiB pages: at 0 (so the instruction after enabling
 * paging still executes) and in the direct-map slot (where the image is
 * linked). C replaces them with the real tables as soon as it knows the memory
 * map. Symbols are linked high; 32-bit code uses their physical addresses.
 *
 * Application processors start in real mode at AP_TRAMPOLINE_PHYS, where the
 * boot CPU copies ap_trampoline (arch/x86/smp.c) with the CR3, EFER and stack
 * for the AP filled in; the trampoline takes the AP through protected mode to
 * long mode on the boot page tables and jumps to ap_start64, which calls
 * ap_start() in C.
 */
#include "pvkit/layout.h"

#define PHYS(sym) ((sym) - DIRECTMAP_BASE)

#define MB1_MAGIC       0x1BADB002
#define MB1_FLAGS       0x00000003      /* page-align modules, memory info */
#define MB2_MAGIC       0xE85250D6

#define MSR_EFER        0xC0000080
#define EFER_SCE        (1 << 0)
#define EFER_LME        (1 << 8)
#define EFER_NXE        (1 << 11)

        .section .text.boot, "ax"
        .code32

        .balign 8
multiboot1_header:
        .long MB1_MAGIC
        .long MB1_FLAGS
        .long -(MB1_MAGIC + MB1_FLAGS)

        .balign 8
multiboot2_header:
        .long MB2_MAGIC
        .long 0                         /* i386 protected mode */
        .long multiboot2_header_end - multiboot2_header
        .long -(MB2_MAGIC + (multiboot2_header_end - multiboot2_header))
        .balign 8
        .short 6, 0                     /* module alignment tag */
        .long 8
        .balign 8
        .short 0, 0                     /* end tag */
        .long 8
multiboot2_header_end:

        .globl start32
start32:
        cli
        cld
        mov     %eax, %edi              /* loader magic -> 1st C argument */
        mov     %ebx, %esi              /* loader info  -> 2nd C argument */

        /* Long mode is required; without it there is nothing we can do. */
        mov     $0x80000000, %eax
        cpuid
        cmp     $0x80000001, %eax
        jb      no_long_mode
        mov     $0x80000001, %eax
        cpuid
        bt      $29, %edx
        jnc     no_long_mode
        mov     %edx, %ebp              /* keep the NX bit (20) for EFER */

        /* boot_l2[i] maps 2 MiB page i, for the first 4 GiB. */
        mov     $PHYS(boot_l2), %ebx
        xor     %ecx, %ecx
1:      mov     %ecx, %eax
        shl     $21, %eax
        or      $0x83, %eax             /* present, writable, 2 MiB */
        mov     %eax, (%ebx,%ecx,8)
        mov     %ecx, %eax
        shr     $11, %eax               /* bits 32+ of the address */
        mov     %eax, 4(%ebx,%ecx,8)
        inc     %ecx
        cmp     $2048, %ecx
        jne     1b

        /* boot_l3[0..3] -> the four boot_l2 pages. */
        mov     $PHYS(boot_l3), %ebx
        mov     $PHYS(boot_l2) + 3, %eax
        xor     %ecx, %ecx
2:      mov     %eax, (%ebx,%ecx,8)
        add     $PAGE_SIZE, %eax
        inc     %ecx
        cmp     $4, %ecx
        jne     2b

        mov     $PHYS(boot_l4), %ebx
        movl    $PHYS(boot_l3) + 3, (%ebx)
        movl    $PHYS(boot_l3) + 3, DIRECTMAP_SLOT*8(%ebx)
        mov     %ebx, %cr3

        mov     %cr4, %eax
        or      $(1 << 5), %eax         /* PAE */
        mov     %eax, %cr4

        mov     $MSR_EFER, %ecx
        rdmsr
        or      $(EFER_LME | EFER_SCE), %eax
        bt      $20, %ebp
        jnc     3f
        or      $EFER_NXE, %eax
3:      wrmsr

        mov     %cr0, %eax
        or      $0x80010001, %eax       /* PG | WP | PE */
        mov     %eax, %cr0

        lgdt    PHYS(boot_gdtr)
        ljmp    $0x08, $PHYS(start64_low)

no_long_mode:
        mov     $0x3f8, %dx
        mov     $PHYS(no_lm_msg), %esi
4:      lodsb
        test    %al, %al
        jz      5f
        out     %al, %dx
        jmp     4b
5:      hlt
        jmp     5b

        .code64
start64_low:
        movabs  $start64, %rax
        jmp     *%rax

/* Flat data segments of the boot GDT, null FS/GS (64-bit entry of every CPU). */
.macro LOAD_BOOT_SEGMENTS
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        xor     %eax, %eax
        mov     %eax, %fs
        mov     %eax, %gs
.endm

        .text
start64:
        LOAD_BOOT_SEGMENTS
        lea     cpu0_stack + STACK_SIZE - CPU_INFO_RESERVED(%rip), %rsp
        xor     %ebp, %ebp
        call    start_hypervisor
6:      hlt
        jmp     6b

/* An application processor, in long mode on the boot page tables and its stack. */
ap_start64:
        LOAD_BOOT_SEGMENTS
        xor     %ebp, %ebp
        call    ap_start
7:      hlt
        jmp     7b

/*
 * The AP trampoline, position-dependent: it runs from its copy at
 * AP_TRAMPOLINE_PHYS, so addresses inside it are computed with TRAMP().
 */
#define TRAMP(sym) ((sym) - ap_trampoline + AP_TRAMPOLINE_PHYS)

        .code16
        .balign 16
        .globl ap_trampoline, ap_trampoline_end, ap_trampoline_cr3
        .globl ap_trampoline_efer, ap_trampoline_stack
ap_trampoline:
        cli
        cld
        xor     %ax, %ax
        mov     %ax, %ds
        lgdtl   TRAMP(ap_gdtr)
        mov     %cr0, %eax
        or      $1, %eax                /* PE */
        mov     %eax, %cr0
        ljmpl   $0x08, $TRAMP(ap_protected)

        .code32
ap_protected:
        mov     $0x10, %eax
        mov     %eax, %ds
        mov     %eax, %es
        mov     %eax, %ss
        mov     %cr4, %eax
        or      $(1 << 5), %eax         /* PAE */
        mov     %eax, %cr4
        mov     TRAMP(ap_trampoline_cr3), %eax
        mov     %eax, %cr3
        mov     $MSR_EFER, %ecx
        mov     TRAMP(ap_trampoline_efer), %eax
        xor     %edx, %edx
        wrmsr
        mov     %cr0, %eax
        or      $0x80010001, %eax       /* PG | WP | PE */
        mov     %eax, %cr0
        ljmp    $0x18, $TRAMP(ap_long)

        .code64
ap_long:
        mov     TRAMP(ap_trampoline_stack), %rsp
        movabs  $ap_start64, %rax
        jmp     *%rax

        .balign 8
ap_gdt:
        .quad   0
        .quad   0x00cf9a000000ffff      /* 0x08: 32-bit code */
        .quad   0x00cf92000000ffff      /* 0x10: data */
        .quad   0x00af9a000000ffff      /* 0x18: 64-bit code */
ap_gdtr:
        .short  ap_gdtr - ap_gdt - 1
        .long   TRAMP(ap_gdt)
        .balign 8
ap_trampoline_stack:                    /* filled in by the boot CPU */
        .quad   0
ap_trampoline_cr3:
        .long   0
ap_trampoline_efer:
        .long   0
ap_trampoline_end:

        .section .rodata
no_lm_msg:
        .asciz  "pvkit: this CPU has no long mode\r\n"

        .balign 8
boot_gdt:
        .quad   0
        .quad   0x00af9a000000ffff      /* 0x08: 64-bit code */
        .quad   0x00cf92000000ffff      /* 0x10: data */
boot_gdt_end:
boot_gdtr:
        .short  boot_gdt_end - boot_gdt - 1
        .long   PHYS(boot_gdt)

        .section .bss.page_aligned, "aw", @nobits
        .balign PAGE_SIZE
        .globl boot_l4
boot_l4:
        .skip   PAGE_SIZE
boot_l3:
        .skip   PAGE_SIZE
boot_l2:
        .skip   4 * PAGE_SIZE

        .section .bss.stack, "aw", @nobits
        .balign STACK_SIZE
        .globl cpu0_stack
cpu0_stack:
        .skip   STACK_SIZE
