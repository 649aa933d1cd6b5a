/*
 * pvkit's additions to the Xen PV ABI. Everything else a guest sees is
 * Xen's, from the libxen-dev headers.
 *
 * Long batches (mmu_update, mmuext_op, multicall, console_io writes,
 * memory_op reservation ops) are split: after a bounded amount of work the
 * hypervisor rewinds the guest to its SYSCALL with the arguments advanced,
 * so other vCPUs can run between the pieces. For mmu_update, mmuext_op and
 * multicall the remaining count then carries PVKIT_BATCH_PREEMPTED (bit 31),
 * and mmu_update's and mmuext_op's `done` count accumulates across the
 * pieces, as in Xen (whose internal MMU_UPDATE_PREEMPTED has the same value;
 * Xen's multicall carries no such bit). A guest never sets the bit itself:
 * pvkit takes a count with it for the rest of a batch already begun, so
 * pvkit_op's statistics count each batch once, by its first piece, and each
 * call once, when its last piece returns. memory_op carries the next start
 * extent in cmd bits 6 and up (Xen's MEMOP_EXTENT_SHIFT) and returns the
 * total extents done.
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

/*
 * PVKIT_DOMCTL_create_pv: a domctl command (struct xen_domctl, Xen 4.17's
 * interface version, privileged domain only) that creates a PV domain and
 * builds it from a kernel the caller holds in its own memory, with the
 * builder that builds the boot-time domains. Xen does the same with a dozen
 * domctls and a builder in dom0's libxc; one call keeps the page-table and
 * frame-type invariants inside the hypervisor, where they are checked anyway.
 *
 * IN  domain: the id wanted, or 0 for the next free id after the last one
 *     given (as Xen picks them); OUT domain: the new domain's id.
 * The kernel is an ELF64 x86-64 image with Xen notes (a bzImage is unpacked
 * by the toolstack first). Buffers are read while the call runs and may be
 * freed afterwards. The new domain is paused once (XEN_DOMCTL_unpausedomain
 * starts it); its store event channel is an unbound port whose remote is
 * domain 0, and its store page is also grant reference 1 of its grant table
 * (GNTTAB_RESERVED_XENSTORE), its console page reference 0
 * (GNTTAB_RESERVED_CONSOLE) -- what XS_INTRODUCE and a console daemon need.
 *
 * Errors, and nothing is left behind on any of them:
 *   -EINVAL  flags, vCPU count (0 or > PVKIT_MAX_VCPUS), memory not a whole
 *            number of pages, id reserved, kernel refused by the loader (the
 *            hypervisor's log says why), initrd or command line too large;
 *   -EEXIST  the id is in use;  -ENOSPC no domain slot or id free;
 *   -ENOMEM  not enough free memory;  -EFAULT a buffer could not be read;
 *   -EBUSY   another create is in progress;  -ESRCH the domain was
 *            destroyed while it was being built.
 *
 * The build runs in pieces so other vCPUs are not stalled: between them the
 * hypervisor sets PVKIT_CREATE_CONTINUED in `flags` (with `domain` the new
 * id) and re-issues the call, as Xen continues long hypercalls; the caller
 * never sets it, and finds flags 0 again when the call returns. Meanwhile
 * the domain is listed by getdomaininfo, may be destroyed (which abandons
 * the build), and refuses other domctls with -EBUSY.
 */
#define PVKIT_CREATE_CONTINUED      (1u << 31)
#define PVKIT_DOMCTL_create_pv      0x7001
#define PVKIT_MAX_VCPUS             8
#define PVKIT_CMDLINE_MAX           1024   /* bytes, with the NUL (MAX_GUEST_CMDLINE) */

struct pvkit_domctl_create_pv {
    /* IN */
    uint64_t kernel;        /* caller's virtual address of the image */
    uint64_t kernel_size;   /* bytes */
    uint64_t initrd;        /* 0: no initrd */
    uint64_t initrd_size;
    uint64_t cmdline;       /* NUL-terminated string; 0: empty */
    uint64_t mem_kb;        /* memory, KiB (a multiple of 4) */
    uint32_t max_vcpus;     /* 1..PVKIT_MAX_VCPUS; vCPU 0 starts, others wait */
    uint32_t flags;         /* 0 */
    /* OUT */
    uint64_t store_mfn;     /* also start_info.store_mfn */
    uint64_t console_mfn;
    uint32_t store_port;    /* in the new domain, unbound, remote domain 0 */
    uint32_t console_port;  /* in the new domain, served by the hypervisor */
};

/*
 * PVKIT_DOMCTL_get_stats: copies a domain's always-on statistics (the ones
 * the serial key 's' prints) to the caller. IN buffer, size (bytes the
 * caller has room for); OUT size (bytes written, at most
 * sizeof(struct pvkit_domain_stats); a smaller buffer gets a prefix).
 * Errors: -ESRCH no such domain, -EFAULT bad buffer.
 */
#define PVKIT_DOMCTL_get_stats      0x7002
#define PVKIT_STATS_HYPERCALLS      64
#define PVKIT_STATS_BUCKETS         13  /* batch sizes 1, 2-3, 4-7, ..., >= 4096 */

struct pvkit_domctl_get_stats {
    uint64_t buffer;        /* caller's address of a struct pvkit_domain_stats */
    uint32_t size;
    uint32_t pad;
};

struct pvkit_domain_stats {
    uint64_t hypercalls[PVKIT_STATS_HYPERCALLS];        /* calls, by number */
    uint64_t hypercall_errors[PVKIT_STATS_HYPERCALLS];  /* returns -1..-4095 */
    uint64_t hypercalls_unknown;
    /* cpuid, rdmsr, wrmsr, cr-read, cr-write, port-io, wbinvd, pt-write */
    uint64_t emulated[8];
    uint64_t exceptions_bounced, exceptions_fatal;
    uint64_t validations;   /* frames validated as page tables or descriptor pages */
    uint64_t pte_updates;
    /* entries refused, by rule: not-owned, hv-frame, reserved-bits, superpage,
     * writable-pt, wrong-type, hv-slot, bad-descriptor */
    uint64_t rejects[8];
    uint64_t mmu_update_batches[PVKIT_STATS_BUCKETS];   /* log2 histogram */
    uint64_t mmuext_batches[PVKIT_STATS_BUCKETS];
    uint64_t multicall_batches[PVKIT_STATS_BUCKETS];
    uint64_t events_sent, events_delivered, timer_fires;
};

/*
 * pvkit_op (hypercall __HYPERVISOR_pvkit_op, pvkit's own number; Xen has
 * none there and answers -ENOSYS, so a guest can tell pvkit from Xen): what
 * any domain, privileged or not, may ask pvkit about itself.
 *
 *   long pvkit_op(uint64_t cmd, uint64_t buffer, uint64_t size)
 *
 * PVKIT_OP_get_own_stats: copies the calling domain's statistics (struct
 * pvkit_domain_stats, the same snapshot PVKIT_DOMCTL_get_stats gives the
 * privileged domain, counted up to but not including this call) to
 * `buffer`, at most `size` bytes: a smaller buffer gets a prefix, so a
 * guest built against an older, shorter structure keeps working. There is
 * no domain argument: a domain reads only its own statistics. Returns the
 * number of bytes written.
 * Errors (nothing is written on -EINVAL; on -EFAULT the buffer may be
 * partly written):
 *   -EINVAL  unknown cmd (any value but PVKIT_OP_get_own_stats), size 0;
 *   -EFAULT  buffer not writable by the guest (unmapped, read-only, a
 *            hypervisor or non-canonical address).
 */
#define __HYPERVISOR_pvkit_op       57
#define PVKIT_OP_get_own_stats      1

/*
 * PVKIT_DOMCTL_console_takeover: a console daemon in the calling privileged
 * domain takes over a domU's console ring, which the hypervisor has served
 * until then (draining `out` to its serial console, feeding `in` from it).
 * The hypervisor stops touching the ring and drops its hold on the page;
 * the ring's event channel becomes an unbound port of the domU whose remote
 * is the caller, for it to bind (EVTCHNOP_bind_interdomain); the page is
 * grant reference 0 of the domU (GNTTAB_RESERVED_CONSOLE) for the caller to
 * map. OUT: the ring's frame and the domU's port. Asked again (a daemon
 * that restarted), it answers the same and changes nothing: who binds the
 * port first serves the console. -ENOENT for a domain without a ring (the
 * initial domain), -EINVAL for a dying one.
 */
#define PVKIT_DOMCTL_console_takeover 0x7003

struct pvkit_domctl_console_takeover {
    uint64_t ring_mfn;      /* OUT */
    uint32_t port;          /* OUT: in the domU */
    uint32_t pad;
};

#endif
