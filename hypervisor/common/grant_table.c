/*
 * grant_table_op (20), version 1 (see pvkit/grant.h for the model).
 *
 * map_grant_ref installs a PTE of the caller's (the L1 entry at a machine
 * address with GNTMAP_contains_pte, else the one mapping a linear address in
 * its kernel page tables) that references the granter's frame through the
 * ordinary page-table rules, pins the entry and hands back a maptrack
 * handle and dev_bus_addr; unmap_grant_ref undoes exactly that. The host
 * mapping also holds a reference of its own on the frame, as long as its
 * pin: the guest may replace the PTE (mmu_update), which drops the PTE's
 * references and leaves the pin until unmap or the mapper's end, and the
 * frame a pin names must not be freed under it (the audit checks this). copy moves
 * bytes between a granted page and the caller's own frame, or two granted
 * pages, pinning each entry only for the copy. Per-op results go in each
 * op's status (GNTST_*) and the call returns 0, as Linux insists; a batch is
 * done in pieces like every other batch (hypercall_claim). Mappings removed
 * in a piece are flushed from every CPU before the piece returns, so the
 * granter cannot reuse a frame some TLB still maps.
 *
 * Not offered: version 2 (set_version(2) is -EOPNOTSUPP, as Xen with
 * gnttab_max_version=1), transfer, swap_grant_ref, unmap_and_replace,
 * dump_table, cache_flush (-ENOSYS).
 *
 * A PVH granter's entries name guest frames: the frame behind one is
 * looked up in its nested tables at the first pin (GNTST_bad_page if it
 * has none) and stays the entry's while pinned (the pins' references keep
 * decrease_reservation from taking it). A PVH domain maps its table frames
 * with XENMEM_add_to_physmap (grant_table_frame, common/memory_op.c) and
 * has only the grant_table_ops that name none of its frames
 * (do_grant_table_op_pvh).
 */
#include "pvkit/grant.h"
#include "pvkit/guest_access.h"
#include "pvkit/guest_walk.h"
#include "pvkit/hypercall.h"
#include "pvkit/mm.h"
#include "pvkit/npt.h"
#include "pvkit/pagetype.h"
#include "pvkit/smp.h"

#define MAPTRACK_MAX (MAPTRACK_PER_PAGE * MAPTRACK_MAX_PAGES)
_Static_assert(sizeof(struct maptrack) * MAPTRACK_PER_PAGE == PAGE_SIZE, "maptrack page");
_Static_assert(sizeof(struct grant_active) * GRANT_PER_FRAME == PAGE_SIZE, "active page");

static uint32_t nr_entries(const struct grant_table *gt)
{
    return gt->nr_frames * (uint32_t)GRANT_PER_FRAME;
}

static struct grant_entry_v1 *shared_entry(const struct grant_table *gt, uint32_t ref)
{
    return (struct grant_entry_v1 *)frame_page(gt->frames[ref / GRANT_PER_FRAME]) +
           ref % GRANT_PER_FRAME;
}

static struct grant_active *active_entry(const struct grant_table *gt, uint32_t ref)
{
    return &gt->active[ref / GRANT_PER_FRAME][ref % GRANT_PER_FRAME];
}

/*
 * Grows d's table to nr frames (never shrinks). 0, -XEN_ENOMEM (frames added
 * so far stay), or -XEN_ESRCH for a dying d: it gets no frame any more (as
 * populate_physmap), or destroydomain's passes, which stop once they have met
 * as many of its frames as it had, could stop short of its last ones.
 */
static int grow_table(struct domain *d, unsigned int nr)
{
    struct grant_table *gt = &d->grant_table;

    if (domain_state(d) == DOMAIN_DYING && gt->nr_frames < nr)
        return -XEN_ESRCH;
    while (gt->nr_frames < nr) {
        int64_t mfn = alloc_zeroed_frame(d->id);
        if (mfn < 0)
            return -XEN_ENOMEM;
        int64_t act = alloc_zeroed_frame(OWNER_HV);
        /* The hypervisor's writable type reference: it writes GTF_* in the frame. */
        if (act < 0 || get_page_and_type(d, (uint64_t)mfn, FRAME_TYPE_WRITABLE)) {
            frame_free(&frame_table, (uint64_t)mfn);
            if (act >= 0)
                frame_free(&frame_table, (uint64_t)act);
            return -XEN_ENOMEM;
        }
        gt->frames[gt->nr_frames] = (uint64_t)mfn;
        gt->active[gt->nr_frames] = mfn_to_virt((uint64_t)act);
        gt->nr_frames++;
    }
    return 0;
}

/* Writes entry ref of d's table: `frame` granted read-write to domain `to`. */
static void seed_entry(struct domain *d, uint32_t ref, uint64_t frame, domid_t to)
{
    struct grant_entry_v1 *e = shared_entry(&d->grant_table, ref);
    e->domid = to;
    e->frame = (uint32_t)frame;
    e->flags = GTF_permit_access;
}

int grant_table_create(struct domain *d)
{
    return grow_table(d, 1);
}

void grant_table_seed(struct domain *d, uint64_t console_mfn, uint64_t store_mfn)
{
    if (console_mfn)
        seed_entry(d, GNTTAB_RESERVED_CONSOLE, console_mfn, 0);
    if (store_mfn)
        seed_entry(d, GNTTAB_RESERVED_XENSTORE, store_mfn, 0);
}

/* --- the shared entry's flags ------------------------------------------- */

/* True if e grants access to `grantee` (a read-only grant only for reading). */
static bool entry_grants(uint32_t word, domid_t grantee, bool writable)
{
    uint16_t flags = (uint16_t)word;
    return (flags & GTF_type_mask) == GTF_permit_access && (domid_t)(word >> 16) == grantee &&
           !(writable && (flags & GTF_readonly));
}

/*
 * Sets GTF_reading (and GTF_writing for a writable use) in e if it grants
 * that access to `grantee`, with a compare-exchange of flags+domid; a guest
 * that keeps changing the entry gets GNTST_general_error after a few tries
 * (Xen bounds it the same way). GNTST_okay or GNTST_general_error.
 */
static int16_t acquire_entry(struct grant_entry_v1 *e, domid_t grantee, bool writable)
{
    uint32_t *word = (uint32_t *)e;
    uint32_t set = GTF_reading | (writable ? GTF_writing : 0);

    for (int tries = 0; tries < 4; tries++) {
        uint32_t old = __atomic_load_n(word, __ATOMIC_ACQUIRE);
        if (!entry_grants(old, grantee, writable))
            return GNTST_general_error;
        if (__atomic_compare_exchange_n(word, &old, old | set, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED))
            return GNTST_okay;
    }
    return GNTST_general_error;
}

/* Clears what a's pins no longer need: GTF_writing without writers, GTF_reading without any. */
static void release_entry(struct grant_entry_v1 *e, const struct grant_active *a)
{
    uint16_t clear = 0;
    if (!a->pins_rw)
        clear |= GTF_writing;
    if (!a->pins_rw && !a->pins_ro)
        clear |= GTF_reading;
    __atomic_fetch_and(&e->flags, (uint16_t)~clear, __ATOMIC_SEQ_CST);
}

/*
 * The machine frame an entry of rd's names: the frame number itself for a
 * PV granter, the frame behind that guest frame for a PVH one (as Xen
 * translates a translated granter's gfn); -1 if it has none there.
 */
static int64_t granted_frame(const struct domain *rd, uint32_t frame)
{
    return is_pvh(rd) ? npt_lookup(rd, frame) : (int64_t)frame;
}

/*
 * Makes entry ref of rd's table usable by ld (writable or not) for one more
 * pin or copy, and returns the frame it grants in *frame. GNTST_okay or the
 * status to report; on failure nothing changed.
 */
static int16_t pin_entry(struct domain *rd, uint32_t ref, domid_t ld, bool writable,
                         uint64_t *frame)
{
    struct grant_table *gt = &rd->grant_table;
    if (ref >= nr_entries(gt))
        return GNTST_bad_gntref;
    struct grant_entry_v1 *e = shared_entry(gt, ref);
    struct grant_active *a = active_entry(gt, ref);
    bool first = !a->pins_rw && !a->pins_ro;

    if (a->pins_rw == UINT16_MAX || a->pins_ro == UINT16_MAX)
        return GNTST_general_error; /* as Xen: a pin count never wraps */
    if (first || (writable && !a->pins_rw)) {
        int16_t st = acquire_entry(e, ld, writable);
        if (st)
            return st;
    } else if (!entry_grants(__atomic_load_n((uint32_t *)e, __ATOMIC_ACQUIRE), ld, writable)) {
        return GNTST_general_error;
    }
    if (first) {
        int64_t mfn = granted_frame(rd, __atomic_load_n(&e->frame, __ATOMIC_ACQUIRE));
        if (mfn < 0) {
            release_entry(e, a);
            return GNTST_bad_page;
        }
        a->frame = (uint32_t)mfn;
    }
    *frame = a->frame;
    return GNTST_okay;
}

/* Counts (commit) or forgets (!commit) the pin pin_entry just granted. */
static void finish_pin(struct domain *rd, uint32_t ref, bool writable, bool commit)
{
    struct grant_active *a = active_entry(&rd->grant_table, ref);
    if (commit && writable)
        a->pins_rw++;
    else if (commit)
        a->pins_ro++;
    release_entry(shared_entry(&rd->grant_table, ref), a);
}

/* Drops one pin of entry ref of rd's table. */
static void unpin_entry(struct domain *rd, uint32_t ref, bool writable)
{
    struct grant_active *a = active_entry(&rd->grant_table, ref);
    if (writable)
        a->pins_rw--;
    else
        a->pins_ro--;
    release_entry(shared_entry(&rd->grant_table, ref), a);
}

/* --- maptrack ------------------------------------------------------------ */

static struct maptrack *maptrack_entry(const struct grant_table *gt, uint32_t handle)
{
    if (handle >= MAPTRACK_MAX || !gt->maptrack[handle / MAPTRACK_PER_PAGE])
        return NULL;
    return &gt->maptrack[handle / MAPTRACK_PER_PAGE][handle % MAPTRACK_PER_PAGE];
}

/*
 * Adds a page of maptrack entries to gt and threads them onto the free
 * list (in handle order). 0, or -1 if gt has its maximum or memory is out.
 */
static int maptrack_grow(struct grant_table *gt)
{
    if (gt->maptrack_pages == MAPTRACK_MAX_PAGES)
        return -1;
    int64_t mfn = alloc_zeroed_frame(OWNER_HV);
    if (mfn < 0)
        return -1;
    unsigned int page = gt->maptrack_pages++;
    struct maptrack *entries = mfn_to_virt((uint64_t)mfn);
    gt->maptrack[page] = entries;
    uint32_t first = page * MAPTRACK_PER_PAGE;
    for (uint32_t i = 0; i + 1 < MAPTRACK_PER_PAGE; i++)
        entries[i].next_free = first + i + 2;
    entries[MAPTRACK_PER_PAGE - 1].next_free = gt->maptrack_free_head;
    gt->maptrack_free_head = first + 1;
    return 0;
}

/* A free maptrack handle of d's (marked in use), or -1 if it holds MAPTRACK_MAX.
 * Constant time: the head of the free list, growing the table by a page when empty. */
static int64_t maptrack_alloc(struct domain *d)
{
    struct grant_table *gt = &d->grant_table;

    if (!gt->maptrack_free_head && maptrack_grow(gt) < 0)
        return -1;
    uint32_t h = gt->maptrack_free_head - 1;
    struct maptrack *m = maptrack_entry(gt, h);
    gt->maptrack_free_head = m->next_free;
    m->next_free = 0;
    m->in_use = 1;
    gt->maptrack_in_use++;
    return h;
}

/* Returns handle h of d's (in use) to the free list. */
static void maptrack_free(struct domain *d, uint32_t h)
{
    struct grant_table *gt = &d->grant_table;
    struct maptrack *m = maptrack_entry(gt, h);

    *m = (struct maptrack){ .next_free = gt->maptrack_free_head };
    gt->maptrack_free_head = h + 1;
    gt->maptrack_in_use--;
}

/* --- map and unmap --------------------------------------------------------- */

/*
 * The L1 entry a host mapping uses: the one at machine address host_addr
 * (contains_pte: 8-byte aligned, in a validated L1 of v's domain), or the
 * one mapping linear address host_addr in v's kernel page tables. 0 or -EINVAL.
 */
static int locate_pte(struct vcpu *v, uint64_t host_addr, bool contains_pte,
                      uint64_t *table, unsigned int *index)
{
    if (!contains_pte)
        return guest_l1_entry_of(v, host_addr, table, index);
    struct frame *f = frame_get(&frame_table, host_addr >> PAGE_SHIFT);
    if ((host_addr & 7) || !f || f->owner != v->domain->id ||
        !frame_is_live_table(f, FRAME_TYPE_L1))
        return -XEN_EINVAL;
    *table = host_addr >> PAGE_SHIFT;
    *index = (unsigned int)((host_addr & (PAGE_SIZE - 1)) / 8);
    return 0;
}

/* The PTE of a grant mapping: frame, present, accessed, dirty, no-execute, avail bits. */
static uint64_t grant_pte(uint64_t frame, uint32_t flags)
{
    uint64_t pte = (frame << PAGE_SHIFT) | PTE_P | PTE_US | PTE_A | PTE_D | pte_nx_mask;
    if (!(flags & GNTMAP_readonly))
        pte |= PTE_RW;
    return pte | ((uint64_t)((flags >> _GNTMAP_guest_avail0) & 7) << 9);
}

/* Takes the references a device mapping of rd's frame holds (no PTE). 0 or -errno. */
static int get_device_refs(struct domain *rd, uint64_t frame, bool writable)
{
    return writable ? get_page_and_type(rd, frame, FRAME_TYPE_WRITABLE) : get_page(rd, frame);
}

static void put_device_refs(struct domain *rd, uint64_t frame, bool writable)
{
    if (writable)
        put_page_and_type(rd, frame);
    else
        put_page(frame);
}

/*
 * Installs the PTE of a host mapping of rd's frame, which takes the page
 * references as a foreign mapping does. *pte_ma: where it is; *flush: a
 * present entry was replaced. 0 or -errno.
 */
static int install_pte(struct vcpu *v, struct domain *rd, const struct gnttab_map_grant_ref *op,
                       uint64_t frame, uint64_t *pte_ma, bool *flush)
{
    uint64_t table;
    unsigned int index;
    int rc = locate_pte(v, op->host_addr, op->flags & GNTMAP_contains_pte, &table, &index);
    if (rc)
        return rc;
    uint64_t old = ((const uint64_t *)frame_page(table))[index];
    if ((rc = mod_pte(v->domain, rd, table, 1, index, grant_pte(frame, op->flags), false)))
        return rc;
    *pte_ma = (table << PAGE_SHIFT) | (index * 8);
    if (old & PTE_P)
        *flush = true;
    return 0;
}

/*
 * Pins entry op->ref once for each of host_map and device_map and takes what
 * each needs. GNTST_okay, or the status with nothing taken.
 */
static int16_t take_mapping(struct vcpu *v, struct domain *rd, const struct gnttab_map_grant_ref *op,
                            struct maptrack *m, bool *flush)
{
    bool writable = !(op->flags & GNTMAP_readonly);
    bool host = op->flags & GNTMAP_host_map, device = op->flags & GNTMAP_device_map;
    uint64_t frame, pte_ma = 0;
    int16_t st = pin_entry(rd, op->ref, v->domain->id, writable, &frame);

    if (st)
        return st;
    if (host && device && (st = pin_entry(rd, op->ref, v->domain->id, writable, &frame))) {
        finish_pin(rd, op->ref, writable, false);
        return st;
    }
    if (host && get_page(rd, frame))
        goto fail;
    if (host && install_pte(v, rd, op, frame, &pte_ma, flush)) {
        put_page(frame);
        goto fail;
    }
    if (device && get_device_refs(rd, frame, writable)) {
        if (host) {
            mod_pte(v->domain, v->domain, pte_ma >> PAGE_SHIFT, 1,
                    (unsigned int)((pte_ma & (PAGE_SIZE - 1)) / 8), 0, false);
            put_page(frame);
        }
        goto fail;
    }
    if (host)
        finish_pin(rd, op->ref, writable, true);
    if (device)
        finish_pin(rd, op->ref, writable, true);
    *m = (struct maptrack){ .pte_ma = pte_ma, .ref = op->ref, .frame = (uint32_t)frame,
                            .granter = rd->id, .in_use = 1, .readonly = !writable,
                            .contains_pte = !!(op->flags & GNTMAP_contains_pte),
                            .host = host, .device = device };
    return GNTST_okay;
fail:
    finish_pin(rd, op->ref, writable, false);
    return GNTST_general_error;
}

static void map_one(struct vcpu *v, struct gnttab_map_grant_ref *op, bool *flush)
{
    struct domain *ld = v->domain, *rd;
    int64_t handle;

    if (!(op->flags & (GNTMAP_host_map | GNTMAP_device_map))) {
        op->status = GNTST_bad_gntref;
        return;
    }
    if (!(rd = domain_find_built(op->dom))) {
        op->status = GNTST_bad_domain;
        return;
    }
    if ((handle = maptrack_alloc(ld)) < 0) {
        op->status = GNTST_no_space;
        return;
    }
    struct maptrack *m = maptrack_entry(&ld->grant_table, (uint32_t)handle);
    if ((op->status = take_mapping(v, rd, op, m, flush))) {
        maptrack_free(ld, (uint32_t)handle);
        return;
    }
    op->handle = (grant_handle_t)handle;
    op->dev_bus_addr = (uint64_t)m->frame << PAGE_SHIFT;
}

/*
 * Removes the host part of mapping m: its PTE, which must be the one
 * host_addr names and still map the frame (else GNTST_general_error and
 * nothing changes, as Xen).
 */
static int16_t drop_host(struct vcpu *v, const struct maptrack *m, uint64_t host_addr)
{
    uint64_t table;
    unsigned int index;

    if (locate_pte(v, host_addr, m->contains_pte, &table, &index) ||
        ((table << PAGE_SHIFT) | (index * 8)) != m->pte_ma)
        return GNTST_general_error;
    uint64_t cur = ((const uint64_t *)frame_page(table))[index];
    if (!(cur & PTE_P) || ((cur & PTE_ADDR_MASK) >> PAGE_SHIFT) != m->frame)
        return GNTST_general_error;
    return mod_pte(v->domain, v->domain, table, 1, index, 0, false) ? GNTST_general_error
                                                                   : GNTST_okay;
}

/*
 * As Xen: a non-zero host_addr removes the host part, a non-zero
 * dev_bus_addr (which must be the frame's: else GNTST_bad_dev_addr) the
 * device part; the handle goes
 * when neither is left.
 */
static void unmap_one(struct vcpu *v, struct gnttab_unmap_grant_ref *op, bool *flush)
{
    struct domain *ld = v->domain;
    struct maptrack *m = maptrack_entry(&ld->grant_table, op->handle);
    struct domain *rd;

    if (!m || !m->in_use) {
        op->status = GNTST_bad_handle;
        return;
    }
    if (!(rd = domain_find_built(m->granter))) {
        op->status = GNTST_bad_domain;
        return;
    }
    if (op->dev_bus_addr && m->device && op->dev_bus_addr != (uint64_t)m->frame << PAGE_SHIFT) {
        op->status = GNTST_bad_dev_addr;
        return;
    }
    if (op->host_addr && m->host) {
        if ((op->status = drop_host(v, m, op->host_addr)))
            return;
        m->host = 0;
        *flush = true;
        put_page(m->frame);
        unpin_entry(rd, m->ref, !m->readonly);
    }
    if (op->dev_bus_addr && m->device) {
        put_device_refs(rd, m->frame, !m->readonly);
        m->device = 0;
        unpin_entry(rd, m->ref, !m->readonly);
    }
    op->status = GNTST_okay;
    if (!m->host && !m->device)
        maptrack_free(ld, op->handle);
}

/* --- copy ------------------------------------------------------------------ */

struct copy_side {
    struct domain *owner;       /* whose frame it is */
    struct domain *granter;     /* the granting domain (gref side), else NULL */
    uint32_t ref;
    uint64_t frame;
    bool dest;
};

/*
 * Takes one side of a copy: a grant of (domid, ref) to the caller, pinned
 * for the copy, or a frame of the caller's own (domid DOMID_SELF, gmfn =
 * its MFN); references on the frame (writable for the destination).
 * GNTST_okay or the status, with nothing held.
 */
static int16_t take_side(struct domain *ld, const struct gnttab_copy_ptr *p, bool is_gref,
                         bool dest, struct copy_side *s)
{
    *s = (struct copy_side){ .dest = dest };
    if (is_gref) {
        if (!(s->granter = domain_find_built(p->domid)))
            return GNTST_bad_domain;
        int16_t st = pin_entry(s->granter, p->u.ref, ld->id, dest, &s->frame);
        if (st)
            return st;
        s->ref = p->u.ref;
        s->owner = s->granter;
    } else {
        /* As Xen: the domain must exist, and be named DOMID_SELF. */
        if (p->domid != DOMID_SELF && !domain_find_built(p->domid))
            return GNTST_bad_domain;
        if (p->domid != DOMID_SELF)
            return GNTST_permission_denied;
        s->owner = ld;
        s->frame = p->u.gmfn;
    }
    int rc = dest ? get_page_and_type(s->owner, s->frame, FRAME_TYPE_WRITABLE)
                  : get_page(s->owner, s->frame);
    if (rc) {
        if (s->granter)
            finish_pin(s->granter, s->ref, dest, false);
        return is_gref ? GNTST_general_error : GNTST_bad_page;
    }
    return GNTST_okay;
}

static void put_side(const struct copy_side *s)
{
    if (s->dest)
        put_page_and_type(s->owner, s->frame);
    else
        put_page(s->frame);
    if (s->granter)
        finish_pin(s->granter, s->ref, s->dest, false);
}

static void copy_one(struct vcpu *v, struct gnttab_copy *op)
{
    struct copy_side src, dst;

    if ((uint32_t)op->source.offset + op->len > PAGE_SIZE ||
        (uint32_t)op->dest.offset + op->len > PAGE_SIZE) {
        op->status = GNTST_bad_copy_arg;
        return;
    }
    if ((op->status = take_side(v->domain, &op->source, op->flags & GNTCOPY_source_gref,
                                false, &src)))
        return;
    if ((op->status = take_side(v->domain, &op->dest, op->flags & GNTCOPY_dest_gref,
                                true, &dst))) {
        put_side(&src);
        return;
    }
    memmove((uint8_t *)frame_page(dst.frame) + op->dest.offset,
            (const uint8_t *)frame_page(src.frame) + op->source.offset, op->len);
    put_side(&dst);
    put_side(&src);
}

/* --- table set-up and queries ---------------------------------------------- */

/* The domain a set-up or query names: itself, or (privileged) another. */
static struct domain *table_domain(struct vcpu *v, domid_t dom, int16_t *status)
{
    if (dom == DOMID_SELF || dom == v->domain->id)
        return v->domain;
    if (!v->domain->privileged) {
        *status = GNTST_permission_denied;
        return NULL;
    }
    struct domain *d = domain_find_built(dom);
    if (!d)
        *status = GNTST_bad_domain;
    return d;
}

static long setup_table(struct vcpu *v, uint64_t arg)
{
    struct gnttab_setup_table op;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    /* As Xen: a frame list outside the guest's range is -EFAULT before anything. */
    if (!guest_range_ok(GUEST_HANDLE_VA(op.frame_list), (uint64_t)op.nr_frames * sizeof(xen_pfn_t)))
        return -XEN_EFAULT;
    struct domain *d = table_domain(v, op.dom, &op.status);
    if (!d)
        goto out;
    if (op.nr_frames > GRANT_MAX_FRAMES || grow_table(d, op.nr_frames)) {
        op.status = GNTST_general_error;
        goto out;
    }
    op.status = GNTST_okay;
    for (uint32_t i = 0; i < op.nr_frames; i++) {
        xen_pfn_t mfn = d->grant_table.frames[i];
        if (copy_to_guest(GUEST_HANDLE_VA(op.frame_list) + i * sizeof(mfn), &mfn, sizeof(mfn))) {
            op.status = GNTST_bad_virt_addr;
            break;
        }
    }
out:
    return copy_to_guest(arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

static long query_size(struct vcpu *v, uint64_t arg)
{
    struct gnttab_query_size op;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    struct domain *d = table_domain(v, op.dom, &op.status);
    if (d) {
        op.nr_frames = d->grant_table.nr_frames;
        op.max_nr_frames = GRANT_MAX_FRAMES;
        op.status = GNTST_okay;
    }
    return copy_to_guest(arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

static long set_version(uint64_t arg)
{
    struct gnttab_set_version op;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    long rc = op.version == 1 ? 0 : op.version == 2 ? -XEN_EOPNOTSUPP : -XEN_EINVAL;
    op.version = 1;
    if (copy_to_guest(arg, &op, sizeof(op)))
        return -XEN_EFAULT;
    return rc;
}

static long get_version(struct vcpu *v, uint64_t arg)
{
    struct gnttab_get_version op;
    int16_t status = 0;
    if (copy_from_guest(&op, arg, sizeof(op)))
        return -XEN_EFAULT;
    if (!table_domain(v, op.dom, &status))
        return status == GNTST_bad_domain ? -XEN_ESRCH : -XEN_EPERM;
    op.version = 1;
    return copy_to_guest(arg, &op, sizeof(op)) ? -XEN_EFAULT : 0;
}

/* --- the batch ops ---------------------------------------------------------- */

/* Runs a batch of `size`-byte ops of cmd in pieces; 0, -EFAULT, or a continuation. */
static long batch(struct vcpu *v, const uint64_t args[5], size_t size)
{
    uint64_t cmd = args[0], uop = args[1], count = (uint32_t)args[2];
    uint64_t limit = hypercall_claim(count, 1);
    union {
        struct gnttab_map_grant_ref map;
        struct gnttab_unmap_grant_ref unmap;
        struct gnttab_copy copy;
    } op;
    bool flush = false;
    long rc = 0;

    for (uint64_t i = 0; i < limit; i++) {
        uint64_t va = uop + i * size;
        if (copy_from_guest(&op, va, size)) {
            rc = -XEN_EFAULT;
            break;
        }
        if (cmd == GNTTABOP_map_grant_ref)
            map_one(v, &op.map, &flush);
        else if (cmd == GNTTABOP_unmap_grant_ref)
            unmap_one(v, &op.unmap, &flush);
        else
            copy_one(v, &op.copy);
        if (copy_to_guest(va, &op, size)) {
            rc = -XEN_EFAULT;
            break;
        }
    }
    if (flush)
        flush_tlb_domain(v->domain);
    if (!rc && limit < count) {
        const uint64_t rest[5] = { cmd, uop + limit * size, count - limit };
        return hypercall_continue(__HYPERVISOR_grant_table_op, rest);
    }
    return rc;
}

long do_grant_table_op(struct vcpu *v, const uint64_t args[5])
{
    uint64_t cmd = args[0], arg = args[1];
    uint32_t count = (uint32_t)args[2];

    if ((int32_t)count < 0)
        return -XEN_EINVAL;
    switch (cmd) {
    case GNTTABOP_map_grant_ref:
        return batch(v, args, sizeof(struct gnttab_map_grant_ref));
    case GNTTABOP_unmap_grant_ref:
        return batch(v, args, sizeof(struct gnttab_unmap_grant_ref));
    case GNTTABOP_copy:
        return batch(v, args, sizeof(struct gnttab_copy));
    case GNTTABOP_setup_table:
        return count == 1 ? setup_table(v, arg) : -XEN_EINVAL;
    case GNTTABOP_query_size:
        return count == 1 ? query_size(v, arg) : -XEN_EINVAL;
    case GNTTABOP_set_version:
        return count == 1 ? set_version(arg) : -XEN_EINVAL;
    case GNTTABOP_get_version:
        return count == 1 ? get_version(v, arg) : -XEN_EINVAL;
    default:
        return -XEN_ENOSYS;
    }
}

/*
 * grant_table_op of a PVH domain: the ops whose arguments hold no frame
 * or address of its own (query_size, set_version, get_version). The others
 * would name guest frames and guest-physical addresses (Xen maps a grant
 * into a translated mapper's physical map): not offered yet, -ENOSYS.
 */
long do_grant_table_op_pvh(struct vcpu *v, const uint64_t args[5])
{
    switch (args[0]) {
    case GNTTABOP_query_size:
    case GNTTABOP_set_version:
    case GNTTABOP_get_version:
        return do_grant_table_op(v, args);
    default:
        return -XEN_ENOSYS;
    }
}

int grant_table_frame(struct domain *d, unsigned int idx, uint64_t *mfn)
{
    if (idx >= GRANT_MAX_FRAMES)
        return -XEN_EINVAL;
    int rc = grow_table(d, idx + 1);
    if (rc)
        return rc;
    *mfn = d->grant_table.frames[idx];
    return 0;
}

/* --- a domain's end (common/domctl.c, domain_free) ------------------------------ */

bool grant_table_holds(const struct domain *d, uint64_t mfn)
{
    for (unsigned int i = 0; i < d->grant_table.nr_frames; i++)
        if (d->grant_table.frames[i] == mfn)
            return true;
    return false;
}

bool grant_table_in_use(const struct domain *d)
{
    const struct grant_table *gt = &d->grant_table;
    for (uint32_t ref = 0; ref < nr_entries(gt); ref++) {
        const struct grant_active *a = active_entry(gt, ref);
        if (a->pins_rw || a->pins_ro)
            return true;
    }
    return false;
}

void grant_table_release_mappings(struct domain *d)
{
    struct grant_table *gt = &d->grant_table;

    for (uint32_t h = 0; h < gt->maptrack_pages * MAPTRACK_PER_PAGE && gt->maptrack_in_use; h++) {
        struct maptrack *m = maptrack_entry(gt, h);
        if (!m || !m->in_use)
            continue;
        struct domain *rd = domain_find(m->granter);
        if (rd && m->device) {
            put_device_refs(rd, m->frame, !m->readonly);
            unpin_entry(rd, m->ref, !m->readonly);
        }
        if (rd && m->host) { /* its PTE went with d's page tables */
            put_page(m->frame);
            unpin_entry(rd, m->ref, !m->readonly);
        }
        maptrack_free(d, h);
    }
}

void grant_table_free(struct domain *d)
{
    struct grant_table *gt = &d->grant_table;

    for (unsigned int i = 0; i < gt->nr_frames; i++) {
        if (frame_table.frames[gt->frames[i]].owner == d->id)
            frame_reclaim(gt->frames[i]);
        frame_free(&frame_table, virt_to_phys(gt->active[i]) >> PAGE_SHIFT);
    }
    for (unsigned int i = 0; i < gt->maptrack_pages; i++)
        frame_free(&frame_table, virt_to_phys(gt->maptrack[i]) >> PAGE_SHIFT);
    *gt = (struct grant_table){ 0 };
}
