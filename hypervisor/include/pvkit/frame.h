/*
 * The frame table: one entry per machine frame, recording who owns it and,
 * for guest frames, its page type and counts. It is the basis of PV memory
 * safety: a guest may only map frames it owns, and a frame typed as a page
 * table is never mapped writable (enforced by mm/pagetype.c).
 *
 * Invariants:
 *  - a frame on the free list has owner OWNER_FREE, type FRAME_TYPE_NONE and
 *    zero counts; every free frame is on the list exactly once;
 *  - frames that are not RAM are OWNER_NONE; frames reserved at boot (the
 *    first MiB, the hypervisor image, boot modules, the frame table and M2P)
 *    are OWNER_RESERVED; frames the hypervisor allocates for itself are
 *    OWNER_HV; none of them is ever on the list;
 *  - device frames the hypervisor drives or that could reach every CPU are
 *    on the I/O access list, whether or not they lie inside the table: the
 *    local APIC and MSI window no domain may map; the I/O APICs and the HPET
 *    the privileged domain may map read-only only (as Xen's dom0).
 *  - frame_alloc() returns a zeroed-count frame now owned by its caller;
 *  - owned[id] is the number of frames whose owner is domain id: ownership
 *    only changes in this file, which keeps the count, so a domain's frames
 *    can be counted (and a scan for them stopped early) without a scan.
 */
#ifndef PVKIT_FRAME_H
#define PVKIT_FRAME_H

#include "pvkit/lib.h"

#define OWNER_NONE  0xFFFFFFFFu /* not RAM, or reserved at boot */
#define OWNER_FREE  0xFFFFFFFEu
#define OWNER_HV    0xFFFFFFFDu /* hypervisor-private, allocated at run time */
#define OWNER_RESERVED 0xFFFFFFFCu /* reserved at boot: image, modules, tables; never freed */
#define FRAME_NO_NEXT 0xFFFFFFFFu
#define FRAME_COUNTED_OWNERS 0x7FF0u /* domain ids below Xen's DOMID_FIRST_RESERVED */

enum frame_type {
    FRAME_TYPE_NONE,
    FRAME_TYPE_L1,
    FRAME_TYPE_L2,
    FRAME_TYPE_L3,
    FRAME_TYPE_L4,
    FRAME_TYPE_SEG_DESC,
    FRAME_TYPE_WRITABLE,
};

#define FRAME_PINNED       (1u << 0)
#define FRAME_VALIDATED    (1u << 1)
#define FRAME_WAS_TABLE    (1u << 2) /* was a table or descriptor page at stale_epoch */
#define FRAME_WAS_WRITABLE (1u << 3) /* was mapped writable at stale_epoch */
#define FRAME_PARTIAL      (1u << 4) /* validation stopped after `progress` entries */
#define FRAME_RELEASING    (1u << 5) /* type count 0, entries' references not yet released */
#define FRAME_ON_RELEASE_LIST (1u << 6) /* linked on its domain's release list */
#define FRAME_WAS_FOREIGN  (1u << 7) /* mapped by another domain (grant, privileged) since a global flush */

struct frame {
    uint32_t owner;       /* domain id, or one of OWNER_* */
    uint8_t type;         /* enum frame_type */
    uint8_t flags;        /* FRAME_* above */
    uint16_t progress;    /* FRAME_PARTIAL: entries validated so far */
    uint32_t type_count;  /* references that depend on the current type */
    uint32_t ref_count;   /* all references (mappings, pins, CR3, ...) */
    uint32_t next_free;   /* free-list link while OWNER_FREE; release-list link while listed */
    uint32_t stale_epoch; /* owner's TLB flush epoch when FRAME_WAS_* was set */
};

#define FRAME_IO_RANGES_MAX 32

/* What a privileged domain may do with a device frame. */
enum io_access {
    IO_ACCESS_RW,         /* any mapping (device memory nobody else uses) */
    IO_ACCESS_RO,         /* read-only mappings: a writable one is made read-only */
    IO_ACCESS_NONE,       /* no mapping at all */
};

struct frame_io_range {
    uint64_t first, end;  /* machine frames [first, end) */
    enum io_access access;
};

struct frame_table {
    struct frame *frames;
    uint64_t nr_frames;   /* entries; machine frames [0, nr_frames) */
    uint32_t free_head;
    uint64_t nr_free;
    unsigned int nr_io_ranges;
    struct frame_io_range io_ranges[FRAME_IO_RANGES_MAX];
    uint32_t owned[FRAME_COUNTED_OWNERS]; /* frames each domain id owns */
};

/* Sets up a table over caller-provided storage; every frame starts OWNER_NONE. */
void frames_init(struct frame_table *ft, struct frame *storage, uint64_t nr_frames);
/* Puts frames [first, end) on the free list; frames past the table are ignored. */
void frames_add_free(struct frame_table *ft, uint64_t first, uint64_t end);
/* Marks frames [first, end) as reserved for good, taking them off the free list. */
void frames_reserve(struct frame_table *ft, uint64_t first, uint64_t end);
/* Takes a free frame for owner. Returns its number, or -XEN_ENOMEM. */
int64_t frame_alloc(struct frame_table *ft, uint32_t owner);
/*
 * Returns a frame to the free list. Returns -XEN_EINVAL (and changes nothing)
 * if the frame is out of range, already free, not RAM, or still referenced.
 */
int frame_free(struct frame_table *ft, uint64_t mfn);
/*
 * Restricts the privileged domain's access to device frames [first, end)
 * (inside the table or not) to `access`. 0, or -XEN_ENOSPC if the list is
 * full (nothing added).
 */
int frames_restrict_io(struct frame_table *ft, uint64_t first, uint64_t end,
                       enum io_access access);
/* The privileged domain's access to device frame mfn (the most restrictive range's). */
enum io_access frame_io_access(const struct frame_table *ft, uint64_t mfn);
/* How many frames domain `owner` owns (0 for the OWNER_* values). */
static inline uint64_t frames_owned(const struct frame_table *ft, uint32_t owner)
{
    return owner < FRAME_COUNTED_OWNERS ? ft->owned[owner] : 0;
}
/* Returns the entry for mfn, or NULL if mfn is outside the table. */
static inline struct frame *frame_get(struct frame_table *ft, uint64_t mfn)
{
    return mfn < ft->nr_frames ? &ft->frames[mfn] : NULL;
}

#endif
