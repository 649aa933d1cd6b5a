/*
 * Xen ELF notes of every pvkit test kernel.
 *
 * A Xen-ABI PV kernel describes itself to the domain builder with notes named
 * "Xen" (types from xen/elfnote.h) in a PT_NOTE segment. These notes say:
 * the image is linked at VIRT_BASE 0xFFFFFFFF80000000 with PADDR_OFFSET 0
 * (so pfn = (va - VIRT_BASE) >> 12), the entry is _start, the ABI is
 * "xen-3.0" with the "generic" loader, and the kernel supports being the
 * initial domain (XENFEAT_dom0 in SUPPORTED_FEATURES, which real Xen demands
 * of a dom0 kernel). Built with -DGUEST_HYPERCALL_PAGE it also asks for a
 * hypercall page at the page-aligned symbol hypercall_page.
 *
 * Invariant: every note is 4-byte aligned, name "Xen\0", desc padded to 4.
 */
#include <xen/elfnote.h>
#include <xen/features.h>

/* Emits one "Xen" note of TYPE whose descriptor is DIRECTIVE. */
#define XEN_NOTE(type, directive)          \
    .pushsection .note.Xen, "a", @note;    \
    .balign 4;                             \
    .long 4;                               \
    .long 9f - 8f;                         \
    .long type;                            \
    .asciz "Xen";                          \
    .balign 4;                             \
8:  directive;                             \
9:  .balign 4;                             \
    .popsection

XEN_NOTE(XEN_ELFNOTE_GUEST_OS,      .asciz "pvkit-test")
XEN_NOTE(XEN_ELFNOTE_GUEST_VERSION, .asciz "1")
XEN_NOTE(XEN_ELFNOTE_XEN_VERSION,   .asciz "xen-3.0")
XEN_NOTE(XEN_ELFNOTE_LOADER,        .asciz "generic")
XEN_NOTE(XEN_ELFNOTE_ENTRY,         .quad _start)
XEN_NOTE(XEN_ELFNOTE_VIRT_BASE,     .quad 0xFFFFFFFF80000000)
XEN_NOTE(XEN_ELFNOTE_PADDR_OFFSET,  .quad 0)
XEN_NOTE(XEN_ELFNOTE_FEATURES,      .asciz "writable_page_tables|pae_pgdir_above_4gb")
XEN_NOTE(XEN_ELFNOTE_SUPPORTED_FEATURES, .long (1 << XENFEAT_dom0))
#ifdef GUEST_HYPERCALL_PAGE
XEN_NOTE(XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page)
#endif
