/*
 * pvkit's additions to the Xen PV ABI. Everything else a guest sees is
 * Xen's, from the libxen-dev headers.
 *
 * Long batches (mmu_update, mmuext_op, multicall, console_io writes) are
 * split: after a bounded amount of work the hypervisor rewinds the guest to
 * its SYSCALL with the arguments advanced, so other vCPUs can run between
 * the pieces. For mmu_update and mmuext_op the remaining count then carries
 * PVKIT_BATCH_PREEMPTED (bit 31), and the `done` count accumulates across
 * the pieces, as in Xen (whose internal MMU_UPDATE_PREEMPTED has the same
 * value). A guest never sets the bit itself.
 */
#ifndef PVKIT_PUBLIC_PVKIT_H
#define PVKIT_PUBLIC_PVKIT_H

#define PVKIT_BATCH_PREEMPTED   (1u << 31)

#endif
