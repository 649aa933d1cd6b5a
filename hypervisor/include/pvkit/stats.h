/*
 * Always-on statistics, per domain: what research users of a hypervisor
 * need without a debug build (docs/architecture.md §7). Counters only grow; they are
 * printed by the serial debug key 's', at domain shutdown, read by the
 * toolstack (PVKIT_DOMCTL_get_stats) and by the domain itself (pvkit_op).
 */
#ifndef PVKIT_STATS_H
#define PVKIT_STATS_H

#include <stdint.h>

#define NR_HYPERCALLS       64
#define BATCH_BUCKETS       13  /* batch sizes 1, 2-3, 4-7, ..., >= 4096 */

struct hypercall_stats {
    uint64_t calls[NR_HYPERCALLS];
    uint64_t errors[NR_HYPERCALLS];
    uint64_t unknown;           /* hypercall numbers we do not implement */
};

enum emulation_kind {
    EMUL_CPUID, EMUL_RDMSR, EMUL_WRMSR, EMUL_CR_READ, EMUL_CR_WRITE, EMUL_PORT_IO,
    EMUL_WBINVD, EMUL_PT_WRITE, EMUL_COUNT
};

struct emulation_stats {
    uint64_t done[EMUL_COUNT];
    uint64_t exceptions_bounced;
    uint64_t exceptions_fatal;
};

/* Keep in step with enum pt_reject in pagetype.h. */
#define PT_REJECT_KINDS 8

struct mm_stats {
    uint64_t validations;                   /* frames validated as tables/descriptors */
    uint64_t rejects[PT_REJECT_KINDS];      /* refused entries, by rule */
    uint64_t mmu_update_batches[BATCH_BUCKETS];
    uint64_t mmuext_batches[BATCH_BUCKETS];
    uint64_t multicall_batches[BATCH_BUCKETS];
    uint64_t pte_updates;                   /* entries written through any path */
};

/* The histogram bucket of a batch of n operations (n >= 1). */
static inline unsigned int batch_bucket(uint64_t n)
{
    unsigned int b = 0;
    while (n > 1 && b < BATCH_BUCKETS - 1) {
        n >>= 1;
        b++;
    }
    return b;
}

#endif
