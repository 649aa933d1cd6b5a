/*
 * Grant tables, version 1 (common/grant_table.c): how one domain lets
 * another map or copy a page of its own, as Xen 4.17 does for 64-bit PV.
 *
 * The granter owns up to GRANT_MAX_FRAMES shared frames of 512 entries
 * (struct grant_entry_v1: flags, domid, frame) that it writes itself; the
 * hypervisor holds a writable type reference on each (it writes GTF_reading
 * and GTF_writing in them), so they can never become page tables. Beside
 * each shared frame the hypervisor keeps an active page: per entry, how many
 * host mappings hold it writable and read-only, and the frame they map.
 * GTF_reading is set while any mapping or copy uses an entry, GTF_writing
 * while a writable one does; the granter can only revoke an entry (cmpxchg
 * flags to 0) when both are clear. Every update of an entry's flags is a
 * compare-exchange of the 32-bit flags+domid word that also checks the type
 * and the grantee, so a granter changing the entry meanwhile is never
 * overridden.
 *
 * The mapping domain keeps a maptrack table: one entry per mapping it holds
 * (granter, ref, where the PTE is, read-only or not); the handle Linux gets
 * back is its index. A host mapping is an ordinary PTE of the mapper's that
 * references the granter's frame the way a privileged foreign mapping does
 * (a reference, and a writable type reference when writable), so the frame
 * stays allocated, and cannot become a table, while it is mapped; beside the
 * PTE the mapping holds one more reference of its own until it is unmapped,
 * so the frame stays allocated while pinned even if the guest replaced the
 * PTE.
 *
 * All of it runs under the hypervisor lock (pvkit/smp.h).
 */
#ifndef PVKIT_GRANT_H
#define PVKIT_GRANT_H

#include "pvkit/lib.h"
#include "pvkit/xenabi.h"

#define GRANT_MAX_FRAMES    32      /* 16384 entries (Xen's default: 64 frames) */
#define GRANT_PER_FRAME     (4096 / sizeof(struct grant_entry_v1))
#define MAPTRACK_PER_PAGE   128     /* 32-byte entries */
#define MAPTRACK_MAX_PAGES  128     /* 16384 mappings a domain may hold at once */

struct grant_active {               /* the granter's view of one entry in use */
    uint16_t pins_rw, pins_ro;      /* host or device mappings, writable / read-only */
    uint32_t frame;                 /* the frame they map (read at the first pin) */
};

struct maptrack {                   /* one mapping the domain holds */
    uint64_t pte_ma;                /* machine address of its PTE, while host-mapped */
    uint32_t ref;
    uint32_t frame;
    uint16_t granter;
    uint8_t in_use;
    uint8_t readonly;
    uint8_t contains_pte;           /* the host address was a PTE's machine address */
    uint8_t host;                   /* the PTE (a pin and a frame reference) is held */
    uint8_t device;                 /* device references (a pin) are held */
    uint8_t pad;
    uint32_t next_free;             /* while free: the next free handle + 1, 0 at the end */
    uint32_t pad2;
};

struct grant_table {
    unsigned int nr_frames;
    uint64_t frames[GRANT_MAX_FRAMES];              /* shared frames (the domain's) */
    struct grant_active *active[GRANT_MAX_FRAMES];  /* hypervisor pages */
    struct maptrack *maptrack[MAPTRACK_MAX_PAGES];  /* hypervisor pages, on demand */
    unsigned int maptrack_pages;    /* maptrack[0..maptrack_pages) are allocated */
    unsigned int maptrack_in_use;
    uint32_t maptrack_free_head;    /* first free handle + 1; 0: none (allocate a page) */
};

struct domain;
/*
 * Frame idx of d's grant table (grown to idx + 1 frames if it has fewer),
 * for XENMEM_add_to_physmap of a PVH domain. 0, or -XEN_EINVAL (idx past
 * GRANT_MAX_FRAMES), -XEN_ENOMEM, -XEN_ESRCH (dying).
 */
int grant_table_frame(struct domain *d, unsigned int idx, uint64_t *mfn);
/* Gives d a grant table of one frame. 0 or -XEN_ENOMEM. */
int grant_table_create(struct domain *d);
/*
 * Fills entries 0 and 1 as Xen's toolstack seeds a domU's: its console and
 * store pages granted read-write to domain 0 (console_mfn/store_mfn 0: none).
 */
void grant_table_seed(struct domain *d, uint64_t console_mfn, uint64_t store_mfn);

/* True if mfn is one of d's grant-table frames. */
bool grant_table_holds(const struct domain *d, uint64_t mfn);
/* True if another domain (or d) still maps or copies through one of d's grants. */
bool grant_table_in_use(const struct domain *d);
/* Drops every mapping d holds of a grant (d is being destroyed; its PTEs are gone). */
void grant_table_release_mappings(struct domain *d);
/*
 * Frees d's table (d is dead and nothing maps its grant frames): the grant
 * frames d owns and the hypervisor pages (active entries, maptrack).
 */
void grant_table_free(struct domain *d);

#endif
