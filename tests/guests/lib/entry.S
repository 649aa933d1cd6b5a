/*
 * Entry point of every pvkit test kernel.
 *
 * The domain builder starts us at _start (XEN_ELFNOTE_ENTRY) in guest-kernel
 * mode with RSI = virtual address of start_info and some boot stack; we do
 * not trust that stack's size, so we switch to our own 16 KiB stack in .bss
 * and call guest_start(start_info) in C, which never returns. If it ever
 * did, ud2 makes the fault visible (with no trap table the domain dies).
 *
 * Built with -DGUEST_HYPERCALL_PAGE, this file also reserves the page-aligned
 * hypercall_page that XEN_ELFNOTE_HYPERCALL_PAGE names; the hypervisor fills
 * it with 32-byte stubs before the first instruction runs.
 */
    .section .text.entry, "ax", @progbits
    .globl _start
_start:
    cld
    leaq guest_stack_top(%rip), %rsp
    movq %rsi, %rdi
    call guest_start
    ud2

#ifdef GUEST_HYPERCALL_PAGE
    .section .text.hypercall_page, "ax", @progbits
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc
#endif

    .section .bss.stack, "aw", @nobits
    .balign 16
guest_stack:
    .skip 16384
guest_stack_top:
