/*
 * Page references, page types and page-table validation: the rules that keep
 * a PV guest from reaching memory it does not own (docs/architecture.md §6).
 *
 * Every frame has a reference count (all references: mappings, page-table
 * entries, pins, CR3s, descriptor-table uses) and a type count (references
 * that depend on the frame's current type). The type may change only while
 * the type count is zero. Making a frame an Ln page table or a descriptor
 * page validates its whole contents first, taking a reference for every
 * present entry; when its type count returns to zero those references are
 * released and the frame is untyped again. Hence:
 *  - a frame in use as a page table or descriptor table has no writable
 *    mapping, and can get none (a writable mapping needs the WRITABLE type);
 *  - every present entry of a validated table satisfies the entry rules
 *    (owner, flags, level), and the hypervisor's L4 slots are always ours;
 *  - a failed operation leaves every count and every table as it found them,
 *    with one exception, as in Xen: a lower-level table validated (and
 *    released again) during a failed validation keeps the adjustments made to
 *    its entries (U added, G removed on present entries) -- adjustments that
 *    would be made again whenever the table is used, and that change nothing
 *    the guest relies on (tests/unit/hv/test_pagetype.c documents it).
 *
 * These operations run under the hypervisor lock (pvkit/smp.h); type changes
 * that could let a stale TLB entry on another CPU bypass the rules flush
 * those CPUs first (flush_tlb_domain), unless a flush since already has.
 *
 * Work on a tree of tables is bounded per hypercall piece, as in Xen: each
 * table validated or released costs one unit of the piece's budget
 * (table_work_preempt). Validation out of budget leaves the frame
 * FRAME_PARTIAL and returns -XEN_ERESTART: the operation is re-issued and the
 * next get of that type goes on from where it stopped. A table whose type
 * count drops to zero goes on its domain's release list and its entries are
 * released from there while budget lasts; the rest is released at the start
 * of the domain's next page-table hypercall (which is continued until the
 * list is empty), or at once when the frame is wanted with a type again.
 */
#ifndef PVKIT_PAGETYPE_H
#define PVKIT_PAGETYPE_H

#include "pvkit/domain.h"
#include "pvkit/frame.h"

/* Why an entry or a type change was refused (counted per domain). */
enum pt_reject {
    PT_REJECT_NOT_OWNED,       /* frame of another domain, free, or out of range */
    PT_REJECT_HV_FRAME,        /* frame belongs to the hypervisor */
    PT_REJECT_RESERVED_BITS,   /* flags that level does not allow */
    PT_REJECT_SUPERPAGE,       /* PSE in an L2/L3 entry */
    PT_REJECT_WRITABLE_PT,     /* writable mapping of a page table or descriptor page */
    PT_REJECT_WRONG_TYPE,      /* frame already used as another type */
    PT_REJECT_HV_SLOT,         /* update of an L4 slot the hypervisor owns */
    PT_REJECT_BAD_DESCRIPTOR,  /* descriptor the guest may not install */
    PT_REJECT_COUNT
};
_Static_assert(PT_REJECT_COUNT == PT_REJECT_KINDS, "stats.h PT_REJECT_KINDS");

/* The page-table level of a type (1-4), or 0 if it is not a page table. */
static inline unsigned int frame_type_level(enum frame_type t)
{
    return t >= FRAME_TYPE_L1 && t <= FRAME_TYPE_L4 ? (unsigned int)t : 0;
}

/* Takes a general reference on a frame owned by d. 0 or -XEN_EBUSY. */
int get_page(struct domain *d, uint64_t mfn);
void put_page(uint64_t mfn);
/*
 * Takes a reference and a type reference of type on a frame owned by d,
 * validating its contents if its type changes. 0, or with nothing taken:
 * -XEN_EBUSY (not d's frame; a writable mapping of a typed frame), -XEN_EINVAL
 * (a retype, a bad entry), -XEN_EPERM (an address beyond the CPU's width), or
 * -XEN_ERESTART (a table validation out of budget: re-issue the operation).
 */
int get_page_and_type(struct domain *d, uint64_t mfn, enum frame_type type);
void put_page_and_type(struct domain *d, uint64_t mfn);

/*
 * Validates new_val as entry index of a level-`level` table owned by pt_dom,
 * mapping frames of pg_dom, and takes the references it needs. On success
 * *adjusted is the value to store (_PAGE_USER forced, G removed on L1).
 * 0 or -errno as get_page_and_type.
 */
int get_pte_refs(struct domain *pt_dom, struct domain *pg_dom, unsigned int level,
                 unsigned int index, uint64_t new_val, uint64_t *adjusted);
/* Releases the references an entry of a level-`level` table holds. */
void put_pte_refs(struct domain *d, unsigned int level, uint64_t val);

/*
 * Replaces entry index of the validated level-`level` table in frame
 * table_mfn: validates and references the new value, stores it (keeping the
 * accessed/dirty bits the entry has at the moment of the store if
 * preserve_ad), then releases the old one.
 */
int mod_pte(struct domain *pt_dom, struct domain *pg_dom, uint64_t table_mfn,
            unsigned int level, unsigned int index, uint64_t new_val, bool preserve_ad);
/* mod_pte for an L1 entry without A/D preservation (what nearly every update is). */
int mod_l1_pte(struct domain *pt_dom, struct domain *pg_dom, uint64_t table_mfn,
               unsigned int index, uint64_t new_val);
/*
 * The same, for an entry of d's own table, only if it still equals
 * `expected` at the moment of the store (an atomic read-modify-write for the
 * writable-page-table emulation); -XEN_EAGAIN, with nothing changed, if
 * another CPU's page walk has set accessed/dirty bits since.
 */
int mod_pte_if(struct domain *d, uint64_t table_mfn, unsigned int level, unsigned int index,
               uint64_t expected, uint64_t new_val);

/* release_pending_tables for a list that is not empty. */
int drain_release_list(struct domain *d);

/*
 * Releases the tables on d's release list while the work budget lasts. 0 when
 * the list is empty, -XEN_ERESTART if some are left. Inline: every page-table
 * hypercall asks, and the list is almost always empty.
 */
static inline int release_pending_tables(struct domain *d)
{
    return d->release_head == FRAME_NO_NEXT ? 0 : drain_release_list(d);
}

/*
 * For destroying d only (its operations are abandoned): if table mfn was
 * left FRAME_PARTIAL by a validation that will never continue, releases the
 * references of the entries validated so far and drops the partial hold;
 * the frame is untyped after. A partial child of it holds its own partial
 * hold (the one this table's next entry would have taken over) and is
 * dropped by its own call. Tables whose type count reaches 0 go on d's
 * release list (release_pending_tables).
 */
void abandon_partial_table(struct domain *d, uint64_t mfn);
/* True if f is a table in use whose entries are all validated (not partial, not released). */
static inline bool frame_is_live_table(const struct frame *f, enum frame_type type)
{
    return f->type == type && f->type_count && !(f->flags & FRAME_PARTIAL);
}

/* Checks (and DPL-fixes into *out) one descriptor a guest wants in its GDT/LDT. */
int check_descriptor(struct domain *d, uint64_t desc, uint64_t *out);

/* Set by mm_init: PTE_NX if the CPU has NX, else 0 (then bit 63 is reserved). */
extern uint64_t pte_nx_mask;
/* Set by mm_init: the CPU's physical address width (frames above it are refused). */
extern unsigned int phys_addr_bits;

#endif
