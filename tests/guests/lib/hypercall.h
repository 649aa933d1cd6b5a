/*
 * Hypercall wrappers for pvkit test kernels.
 *
 * A 64-bit PV kernel calls the hypervisor from guest-kernel mode with RAX =
 * hypercall number and arguments in RDI, RSI, RDX, R10, R8; the result comes
 * back in RAX (negative = -errno from xen/errno.h). The hypervisor may
 * clobber RCX and R11 (SYSCALL itself does) and the argument registers.
 *
 * Two mechanisms, chosen at build time:
 *  - default: an inline SYSCALL, exactly as Linux 6.1 does (-DGUEST_PVH,
 *    the PVH test kernels: VMMCALL, in 64-bit mode with the same registers);
 *  - -DGUEST_HYPERCALL_PAGE: `call hypercall_page + nr * 32` into the page
 *    the hypervisor filled because our notes asked for one. Numbers that do
 *    not fit in the page (nr >= 128) still use SYSCALL, since there is no
 *    stub to call for them.
 */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include "xenabi.h"

#define GUEST_HYPERCALL_STUB_SIZE 32
#define GUEST_HYPERCALL_STUBS     (4096 / GUEST_HYPERCALL_STUB_SIZE)

#ifdef GUEST_HYPERCALL_PAGE
extern char hypercall_page[4096];
#endif

/* Issues hypercall NR with five arguments by SYSCALL (VMMCALL for PVH); returns RAX. */
static inline long hypercall_syscall(unsigned long nr, unsigned long a1,
                                     unsigned long a2, unsigned long a3,
                                     unsigned long a4, unsigned long a5)
{
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = a5;
    long ret;

#ifdef GUEST_PVH
#define GUEST_HYPERCALL_INSN "vmmcall"
#else
#define GUEST_HYPERCALL_INSN "syscall"
#endif
    __asm__ volatile(GUEST_HYPERCALL_INSN
                     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                     : "0"(nr)
                     : "rcx", "r11", "memory");
    return ret;
}

#ifdef GUEST_HYPERCALL_PAGE
/* Issues hypercall NR (< 128) through its stub in hypercall_page. */
static inline long hypercall_stub(unsigned long nr, unsigned long a1,
                                  unsigned long a2, unsigned long a3,
                                  unsigned long a4, unsigned long a5)
{
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = a5;
    unsigned long stub = (unsigned long)hypercall_page + nr * GUEST_HYPERCALL_STUB_SIZE;
    long ret;

    __asm__ volatile("call *%[stub]"
                     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8),
                       [stub] "+r"(stub)
                     :
                     : "rcx", "r11", "memory");
    return ret;
}
#endif

/* Issues hypercall NR with the build's mechanism; returns the result. */
static inline long hypercall5(unsigned long nr, unsigned long a1, unsigned long a2,
                              unsigned long a3, unsigned long a4, unsigned long a5)
{
#ifdef GUEST_HYPERCALL_PAGE
    if (nr < GUEST_HYPERCALL_STUBS)
        return hypercall_stub(nr, a1, a2, a3, a4, a5);
#endif
    return hypercall_syscall(nr, a1, a2, a3, a4, a5);
}

/* Three-argument shorthand; the unused registers are passed as zero. */
static inline long hypercall3(unsigned long nr, unsigned long a1, unsigned long a2,
                              unsigned long a3)
{
    return hypercall5(nr, a1, a2, a3, 0, 0);
}

/* HYPERVISOR_console_io(cmd, count, buf). */
static inline long hyp_console_io(int cmd, unsigned long count, const void *buf)
{
    return hypercall3(__HYPERVISOR_console_io, (unsigned long)cmd, count,
                      (unsigned long)buf);
}

/* HYPERVISOR_xen_version(cmd, arg). */
static inline long hyp_xen_version(int cmd, void *arg)
{
    return hypercall3(__HYPERVISOR_xen_version, (unsigned long)cmd,
                      (unsigned long)arg, 0);
}

/* HYPERVISOR_grant_table_op(cmd, op, count). */
static inline long hyp_grant_table_op(unsigned int cmd, void *op, unsigned int count)
{
    return hypercall3(__HYPERVISOR_grant_table_op, cmd, (unsigned long)op, count);
}

/* HYPERVISOR_sched_op(cmd, arg). */
static inline long hyp_sched_op(int cmd, void *arg)
{
    return hypercall3(__HYPERVISOR_sched_op, (unsigned long)cmd,
                      (unsigned long)arg, 0);
}

#endif
