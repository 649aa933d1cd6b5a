/*
 * pvkit's additions to the Xen PV ABI. Everything else a guest sees is
 * Xen's, from the libxen-dev headers.
 *
 * Long batches (mmu_update, mmuext_op, multicall, console_io writes,
 * memory_op reservation ops) are split: after a bounded amount of work the
 * hypervisor rewinds the guest to its SYSCALL with the arguments advanced,
 * so other vCPUs can run between the pieces. For mmu_update and mmuext_op
 * the remaining count then carries PVKIT_BATCH_PREEMPTED (bit 31), and the
 * `done` count accumulates across the pieces, as in Xen (whose internal
 * MMU_UPDATE_PREEMPTED has the same value). A guest never sets the bit
 * itself. memory_op carries the next start extent in cmd bits 6 and up
 * (Xen's MEMOP_EXTENT_SHIFT) and returns the total extents done.
 *
 * Inside a multicall, a call that must continue has its advanced arguments
 * written back into its entry (op unchanged, result = the hypercall number)
 * and the multicall is re-issued from that entry, as on Xen; a guest reading
 * the entry after the multicall returned may therefore find the arguments of
 * the last piece (e.g. args[1] = rest | PVKIT_BATCH_PREEMPTED) and the final
 * result.
 */
#ifndef PVKIT_PUBLIC_PVKIT_H
#define PVKIT_PUBLIC_PVKIT_H

#define PVKIT_BATCH_PREEMPTED   (1u << 31)

#endif
