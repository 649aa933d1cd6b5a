/*
 * The one instruction sequence that touches guest memory on the guest's
 * behalf. A fault inside it is recovered through the exception table
 * (__ex_table, searched by handle_exception): execution resumes at the fixup,
 * which reports how many bytes were left uncopied.
 *
 * uint64_t raw_copy(void *dst, const void *src, uint64_t n)
 *   returns 0 on success, else the number of bytes not copied.
 * int load_gs_selector(uint16_t sel)
 *   loads %gs (a guest-supplied selector); returns 0, or -1 if the load
 *   faulted, in which case the null selector is loaded instead.
 */
        .text
        .globl raw_copy
raw_copy:
        mov     %rdx, %rcx
1:      rep movsb
        xor     %eax, %eax
        ret
2:      mov     %rcx, %rax
        ret

        .section __ex_table, "a"
        .balign 8
        .quad   1b, 2b

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
