/*
 * The hypercall page a PV kernel may ask for (XEN_ELFNOTE_HYPERCALL_PAGE):
 * one 32-byte stub per hypercall number that enters the hypervisor as
 * Linux's inline hypercalls do, SYSCALL with the number in EAX and RCX and
 * R11 preserved around it. The iret stub pushes RCX, R11 and RAX to
 * complete the iret frame and does not return. The gaps are INT3.
 * A PVH guest's page (written through the Xen MSR, arch/x86/svm.c) has
 * VMMCALL stubs instead, usable from 32- and 64-bit code alike.
 */
#include "pvkit/hypercall_page.h"
#include "pvkit/layout.h"
#include "pvkit/lib.h"
#include "pvkit/xenabi.h"

void hypercall_page_write(void *hypercall_page)
{
    uint8_t *page = hypercall_page;

    memset(page, 0xcc, PAGE_SIZE); /* int3 between stubs */
    for (unsigned int nr = 0; nr < PAGE_SIZE / 32; nr++) {
        uint8_t *p = page + nr * 32;
        *p++ = 0x51;                                    /* push %rcx */
        *p++ = 0x41; *p++ = 0x53;                       /* push %r11 */
        if (nr == __HYPERVISOR_iret)
            *p++ = 0x50;                                /* push %rax */
        *p++ = 0xb8;                                    /* mov $nr, %eax */
        memcpy(p, &nr, 4);
        p += 4;
        *p++ = 0x0f; *p++ = 0x05;                       /* syscall */
        if (nr == __HYPERVISOR_iret) {
            *p++ = 0x0f; *p++ = 0x0b;                   /* ud2 */
            continue;
        }
        *p++ = 0x41; *p++ = 0x5b;                       /* pop %r11 */
        *p++ = 0x59;                                    /* pop %rcx */
        *p++ = 0xc3;                                    /* ret */
    }
}

void hypercall_page_write_pvh(void *hypercall_page)
{
    uint8_t *page = hypercall_page;
    memset(page, 0xcc, PAGE_SIZE);
    for (unsigned int nr = 0; nr < PAGE_SIZE / 32; nr++) {
        uint8_t *p = page + nr * 32;
        *p++ = 0xb8;                                    /* mov $nr, %eax */
        memcpy(p, &nr, 4);
        p += 4;
        *p++ = 0x0f; *p++ = 0x01; *p++ = 0xd9;          /* vmmcall */
        *p = 0xc3;                                      /* ret */
    }
}
