/*
 * The one instruction sequence that touches guest memory on the guest's
 * behalf. A fault inside it is recovered through the exception table
 * (__ex_table, searched by handle_exception): execution resumes at the fixup,
 * which reports the failure. The C declarations and contracts of the
 * helpers are in pvkit/usercopy.h.
 */
        .text
        .globl raw_copy
raw_copy:
        mov     %rdx, %rcx
        shr     $3, %rcx
        and     $7, %edx
1:      rep movsq                   /* whole quadwords first (much cheaper than bytes) */
        mov     %edx, %ecx
2:      rep movsb
        xor     %eax, %eax
        ret
11:     lea     (%rdx,%rcx,8), %rax /* fault among the quadwords: those left + tail */
        ret
12:     mov     %rcx, %rax          /* fault in the tail */
        ret

        .section __ex_table, "a"
        .balign 8
        .quad   1b, 11b
        .quad   2b, 12b

        .text
        .globl load_gs_selector
load_gs_selector:
3:      mov     %edi, %gs
        xor     %eax, %eax
        ret
4:      xor     %eax, %eax
        mov     %eax, %gs
        mov     $-1, %eax
        ret

        .section __ex_table, "a"
        .balign 8
        .quad   3b, 4b

        .text
        .globl load_data_selectors
load_data_selectors:
        xor     %eax, %eax
5:      mov     %edi, %ds
6:      mov     %esi, %es
7:      mov     %edx, %fs
        ret
8:      xor     %ecx, %ecx          /* a selector faulted: null for that one */
        mov     %ecx, %ds
        mov     $-1, %eax
        jmp     6b
9:      xor     %ecx, %ecx
        mov     %ecx, %es
        mov     $-1, %eax
        jmp     7b
10:     xor     %ecx, %ecx
        mov     %ecx, %fs
        mov     $-1, %eax
        ret

        .section __ex_table, "a"
        .balign 8
        .quad   5b, 8b
        .quad   6b, 9b
        .quad   7b, 10b
