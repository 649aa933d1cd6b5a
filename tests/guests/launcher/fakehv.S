/*
 * fakehv: a stand-in "hypervisor" for testing pvkit-run's exit protocol
 * without pvkit. A 32-bit multiboot1 image that QEMU's -kernel boots
 * directly; it prints one line on COM1 and then, depending on how it was
 * built:
 *   -DFAKEHV_EXIT=<byte>  writes <byte> to the isa-debug-exit port 0xf4,
 *                         exactly as pvkit does when the last domain ends;
 *   -DFAKEHV_TRIPLE       loads an empty IDT and raises int3, a triple
 *                         fault (QEMU -no-reboot then exits 0);
 *   -DFAKEHV_HANG         halts forever (for the launcher's timeout).
 */
#define MB1_MAGIC 0x1BADB002

    .section .text
    .globl _start
    .balign 4
multiboot_header:
    .long MB1_MAGIC
    .long 0
    .long -MB1_MAGIC

_start:
    movw $0x3f8, %dx
    leal banner, %esi
1:  lodsb
    testb %al, %al
    jz 2f
    outb %al, %dx
    jmp 1b
2:
#if defined(FAKEHV_EXIT)
    movw $0xf4, %dx
    movb $FAKEHV_EXIT, %al
    outb %al, %dx
#elif defined(FAKEHV_TRIPLE)
    lidt empty_idt
    int3
#endif
3:  hlt
    jmp 3b

    .section .rodata
banner:
    .asciz "fakehv: running\n"
empty_idt:
    .word 0
    .long 0
