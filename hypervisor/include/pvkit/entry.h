/*
 * The C side of the guest entry/exit cycle (arch/x86/entry.c), called only
 * from arch/x86/entry.S. Each runs on the CPU's stack with interrupts off;
 * see entry.c for the cycle and where the hypervisor lock is taken and
 * dropped.
 */
#ifndef PVKIT_ENTRY_H
#define PVKIT_ENTRY_H

#include "pvkit/cpu.h"

/*
 * Handles an exception or interrupt whose frame is regs (from a guest: the
 * lock is taken here). Returns true when the guest it came from is to be
 * resumed as it was, without the exit path: a kick served without the
 * hypervisor lock. Otherwise an entry from a guest leaves through
 * exit_to_guest, one from the hypervisor resumes where it was.
 */
bool handle_exception(struct cpu_regs *regs);
/*
 * Handles SYSCALL from a guest (regs is cpu_info.guest_regs): a hypercall
 * from guest kernel mode, the guest's own system call from user mode. Takes
 * the lock; the caller then leaves through exit_to_guest.
 */
void handle_syscall(struct cpu_regs *regs);
/*
 * The IRETQ back to the guest faulted on guest-supplied state: takes the
 * lock and crashes the domain; the caller leaves through exit_to_guest again.
 */
void bad_guest_iret(void);
/*
 * Called on every exit to the guest, with the hypervisor lock held: schedules,
 * delivers a due event, sanitises the frame and drops the lock. Returns how
 * to leave (layout.h): EXIT_BY_SYSRET if SYSRET can be used, EXIT_BY_IRET,
 * or EXIT_BY_VMRUN for a PVH vCPU.
 */
int prepare_exit_to_guest(struct cpu_regs *regs);

#endif
