/*
 * memory_op: the domain's view of its memory, and ballooning.
 *
 * A PV domain's pseudo-physical memory is one RAM range [0, nr_pages); the
 * M2P table is visible at M2P_VIRT_START. Ballooning moves frames between a
 * domain and the hypervisor: decrease_reservation gives back frames the guest
 * no longer references anywhere (named by machine frame number, as PV guests
 * do), populate_physmap and increase_reservation hand out fresh zeroed frames
 * up to the domain's maximum. Only order-0 extents are supported; a partial
 * batch returns how many extents were done, as Xen does. A reservation op
 * does at most BATCH_PER_CALL / EXTENT_COST extents per piece and continues with the next
 * start extent in the bits of cmd above MEMOP_EXTENT_SHIFT (Xen's encoding);
 * it returns the total over all pieces.
 *
 * A PVH domain's guest-physical map is its nested page tables (mm/npt.c):
 * its reservation ops, and a privileged domain's on it, name guest frames
 * (as Xen's for a translated domain): decrease_reservation unmaps and
 * frees the frame behind each, populate_physmap maps a fresh frame at each
 * guest frame that has none, increase_reservation does nothing (no guest
 * frame to put the frame at). Its other memory_ops (do_memory_op_pvh): the
 * current and maximum reservation, and XENMEM_add_to_physmap of its
 * shared_info page and grant-table frames. Invariants kept: every
 * nested-table leaf maps a frame the domain owns; a frame leaves the
 * nested tables before it is freed; a special frame is at one guest frame
 * at most (its M2P entry names it).
 */
#include "pvkit/bootinfo.h"
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"
#include "pvkit/mm.h"
#include "pvkit/npt.h"
#include "pvkit/smp.h"

#define E820_RAM 1
#define MEMOP_CMD_MASK      0x3full
#define MEMOP_EXTENT_SHIFT  6   /* cmd >> 6: the extent to start at */
/* The most extents whose start still fits in a 32-bit cmd, as Xen. */
#define MEMOP_MAX_EXTENTS   (UINT32_MAX >> MEMOP_EXTENT_SHIFT)
#define EXTENT_COST         4   /* budget units per extent: populating zeroes a page */

struct e820_entry {
    uint64_t addr, size;
    uint32_t type;
} __attribute__((packed));

static long memory_map(struct domain *d, uint64_t arg)
{
    struct xen_memory_map map;
    struct e820_entry ram = { 0, d->max_pages << PAGE_SHIFT, E820_RAM };

    if (copy_from_guest(&map, arg, sizeof(map)))
        return -XEN_EFAULT;
    if (map.nr_entries < 1)
        return -XEN_EINVAL;
    if (copy_to_guest(GUEST_HANDLE_VA(map.buffer), &ram, sizeof(ram)))
        return -XEN_EFAULT;
    map.nr_entries = 1;
    return copy_to_guest(arg, &map, sizeof(map));
}

/*
 * XENMEM_machine_memory_map: the firmware's memory map as the loader gave
 * it, for the privileged domain (Linux's dom0 lays its pseudo-physical
 * memory out on it and maps what is not RAM one to one). As many entries as
 * the buffer holds (asking for none: -EINVAL); -EPERM for other domains, as Xen.
 */
static long machine_memory_map(struct domain *d, uint64_t arg)
{
    const struct boot_info *bi = boot_information();
    struct xen_memory_map map;

    if (!d->privileged)
        return -XEN_EPERM;
    if (copy_from_guest(&map, arg, sizeof(map)))
        return -XEN_EFAULT;
    if (!map.nr_entries)
        return -XEN_EINVAL; /* as Xen */
    map.nr_entries = (unsigned int)MIN((uint64_t)map.nr_entries, (uint64_t)bi->nr_map);
    for (unsigned int i = 0; i < map.nr_entries; i++) {
        struct e820_entry e = { bi->map[i].addr, bi->map[i].len, bi->map[i].type };
        if (copy_to_guest(GUEST_HANDLE_VA(map.buffer) + i * sizeof(e), &e, sizeof(e)))
            return -XEN_EFAULT;
    }
    return copy_to_guest(arg, &map, sizeof(map));
}

static long machphys_mapping(uint64_t arg)
{
    struct xen_machphys_mapping m = {
        .v_start = M2P_VIRT_START,
        .v_end = M2P_VIRT_START + ALIGN_UP(max_mfn() * 8, L2_PAGE_SIZE),
        .max_mfn = max_mfn() - 1,
    };
    return copy_to_guest(arg, &m, sizeof(m));
}

static struct domain *reservation_domain(struct vcpu *v, domid_t domid)
{
    if (domid == DOMID_SELF || domid == v->domain->id)
        return v->domain;
    return v->domain->privileged ? domain_find_built(domid) : NULL;
}

/*
 * The machine frame extent x names in d: x itself for a PV domain, the
 * frame behind guest frame x for a PVH domain (as Xen for a translated
 * domain); -1 if a PVH domain has no frame there.
 */
static int64_t extent_frame(const struct domain *d, uint64_t x)
{
    return is_pvh(d) ? npt_lookup(d, x) : (int64_t)x;
}

/*
 * Gives back the frames of extents [start, start + n), stopping at the first
 * that cannot go; a PVH domain's guest frame is unmapped first. Other CPUs
 * may still hold TLB entries for them (from mappings the guest removed
 * without a flush, or, for PVH, cached nested translations): they are
 * flushed before the frames can be handed out again (which needs the lock
 * we hold). Returns the extents done, or -EFAULT if the first one could not
 * be read.
 */
static long decrease(struct domain *d, const struct xen_memory_reservation *r, uint64_t start,
                     uint64_t n)
{
    uint64_t done;
    bool fault = false, foreign = false;
    for (done = 0; done < n; done++) {
        uint64_t x;
        if (copy_from_guest(&x, GUEST_HANDLE_VA(r->extent_start) + (start + done) * 8, 8)) {
            fault = true;
            break;
        }
        int64_t mfn = extent_frame(d, x);
        struct frame *f = mfn < 0 ? NULL : frame_get(&frame_table, (uint64_t)mfn);
        /*
         * Frames the hypervisor writes (shared_info, console ring, a
         * registered vcpu_info) hold references, as do other domains'
         * mappings; a table being released, or listed for release, is kept.
         */
        if (!f || f->owner != d->id || f->ref_count || f->type_count ||
            (f->flags & (FRAME_RELEASING | FRAME_ON_RELEASE_LIST)))
            break;
        foreign |= (f->flags & FRAME_WAS_FOREIGN) != 0;
        if (is_pvh(d))
            npt_unmap(d, x);
        m2p_set((uint64_t)mfn, INVALID_M2P_ENTRY);
        frame_free(&frame_table, (uint64_t)mfn);
        d->nr_pages--;
    }
    if (foreign)
        flush_tlb_all(); /* another domain mapped one: its CPUs too */
    else if (done)
        flush_tlb_domain(d);
    return !done && fault ? -XEN_EFAULT : (long)done;
}

/*
 * Gives d a fresh zeroed frame for extent slot `slot`: for a PV domain
 * the frame number is written back to the slot (populate_physmap: at pfn
 * in the M2P); for a PVH domain, whose guest frame pfn must have no frame
 * yet (Xen would replace it, stranding the old one), the frame is mapped
 * there. 0, or -errno with nothing changed.
 */
static int populate_one(struct domain *d, uint64_t slot, uint64_t pfn)
{
    if (is_pvh(d) && (pfn >= PVH_MAX_GFNS || npt_lookup(d, pfn) >= 0))
        return -XEN_EINVAL;
    int64_t mfn = alloc_zeroed_frame(d->id);
    if (mfn < 0)
        return (int)mfn;
    int rc = is_pvh(d) ? npt_map(d, pfn, (uint64_t)mfn) : copy_to_guest(slot, &mfn, 8);
    if (rc) {
        frame_free(&frame_table, (uint64_t)mfn);
        return rc;
    }
    m2p_set((uint64_t)mfn, pfn);
    d->nr_pages++;
    return 0;
}

/*
 * populate_physmap (pfns in; for PV mfns out) and increase_reservation (PV
 * only: mfns out) of extents [start, start + n), stopping at the first
 * that fails. Returns the extents done: none for a dying domain (as Xen's
 * assign_pages), whose frames are on their way back, and none for
 * increase_reservation of a PVH domain (a frame at no guest frame would
 * be out of its reach; Xen allocates it anyway).
 */
static long populate(struct domain *d, const struct xen_memory_reservation *r, uint64_t start,
                     uint64_t n, bool with_pfns)
{
    uint64_t done;
    if (domain_state(d) == DOMAIN_DYING || (is_pvh(d) && !with_pfns))
        return 0;
    for (done = 0; done < n && d->nr_pages < d->max_pages; done++) {
        uint64_t pfn = INVALID_M2P_ENTRY, slot = GUEST_HANDLE_VA(r->extent_start) + (start + done) * 8;
        if (with_pfns && copy_from_guest(&pfn, slot, 8))
            break;
        if (populate_one(d, slot, pfn))
            break;
    }
    return (long)done;
}

/*
 * One piece of a reservation op from extent `start`: returns the extents done
 * in all pieces (a bad or finished request returns start, as Xen), or
 * continues with the next start; -EFAULT / -ESRCH if nothing was done.
 */
static long reservation_op(struct vcpu *v, uint64_t cmd, uint64_t start, uint64_t arg)
{
    struct xen_memory_reservation r;
    long rc;

    if (copy_from_guest(&r, arg, sizeof(r)))
        return start ? (long)start : -XEN_EFAULT;
    struct domain *d = reservation_domain(v, r.domid);
    if (!d)
        return start ? (long)start : -XEN_ESRCH;
    if (r.extent_order != 0 || r.nr_extents > MEMOP_MAX_EXTENTS || start >= r.nr_extents)
        return (long)start;
    uint64_t piece = hypercall_claim(r.nr_extents - start, EXTENT_COST);
    if (cmd == XENMEM_decrease_reservation)
        rc = decrease(d, &r, start, piece);
    else
        rc = populate(d, &r, start, piece, cmd == XENMEM_populate_physmap);
    if (rc < 0)
        return start ? (long)start : rc;
    if ((uint64_t)rc == piece && start + piece < r.nr_extents) {
        const uint64_t rest[5] = { cmd | (start + piece) << MEMOP_EXTENT_SHIFT, arg };
        return hypercall_continue(__HYPERVISOR_memory_op, rest);
    }
    return (long)(start + (uint64_t)rc);
}

static long reservation_size(struct vcpu *v, uint64_t cmd, uint64_t arg)
{
    domid_t domid;
    if (copy_from_guest(&domid, arg, sizeof(domid)))
        return -XEN_EFAULT;
    struct domain *d = reservation_domain(v, domid);
    if (!d)
        return -XEN_ESRCH;
    return (long)(cmd == XENMEM_current_reservation ? d->nr_pages : d->max_pages);
}

long do_memory_op(struct vcpu *v, const uint64_t args[5])
{
    uint64_t cmd = args[0] & MEMOP_CMD_MASK, arg = args[1];
    uint64_t start = args[0] >> MEMOP_EXTENT_SHIFT; /* a continued reservation op */

    switch (cmd) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return reservation_op(v, cmd, start, arg);
    case XENMEM_maximum_ram_page:
        return (long)max_mfn() - 1;
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
        return reservation_size(v, cmd, arg);
    case XENMEM_maximum_gpfn:
        return v->domain->max_pages ? (long)v->domain->max_pages - 1 : 0; /* as Xen: never < 0 */
    case XENMEM_machphys_mapping:
        return machphys_mapping(arg);
    case XENMEM_memory_map:
        return memory_map(v->domain, arg);
    case XENMEM_machine_memory_map:
        return machine_memory_map(v->domain, arg);
    default:
        return -XEN_ENOSYS;
    }
}

/*
 * Puts special frame mfn (shared_info, a grant-table frame: the domain's,
 * held by the hypervisor) at guest frame gfn of PVH domain d, as Xen does:
 * the frame that was there is freed if nothing references it (else it
 * stays the domain's, unmapped, until it dies), and mfn leaves the guest
 * frame it was at before (its M2P entry says which). 0 or -errno, nothing
 * changed.
 */
static long map_special(struct domain *d, uint64_t gfn, uint64_t mfn)
{
    if (gfn >= PVH_MAX_GFNS)
        return -XEN_EINVAL;
    int64_t old = npt_lookup(d, gfn);
    if (old == (int64_t)mfn)
        return 0;
    uint64_t before = m2p_get(mfn);
    long rc = npt_map(d, gfn, mfn);
    if (rc)
        return rc;
    if (before != INVALID_M2P_ENTRY && before != gfn && npt_lookup(d, before) == (int64_t)mfn)
        npt_unmap(d, before);
    m2p_set(mfn, gfn);
    struct frame *f = old < 0 ? NULL : frame_get(&frame_table, (uint64_t)old);
    if (f && f->owner == d->id && !f->ref_count && !f->type_count &&
        !(f->flags & (FRAME_RELEASING | FRAME_ON_RELEASE_LIST))) {
        m2p_set((uint64_t)old, INVALID_M2P_ENTRY);
        frame_free(&frame_table, (uint64_t)old);
        d->nr_pages--;
    } else if (f) {
        m2p_set((uint64_t)old, INVALID_M2P_ENTRY);
    }
    flush_tlb_domain(d);
    return 0;
}

/*
 * XENMEM_add_to_physmap of a PVH domain, on itself: its shared_info
 * (space shared_info, idx 0) or frame idx of its grant table (space
 * grant_table; the table grows to idx + 1 frames; version-2 status frames
 * are not offered) at guest frame gpfn (map_special).
 */
static long pvh_add_to_physmap(struct vcpu *v, uint64_t arg)
{
    struct xen_add_to_physmap xatp;
    struct domain *d = v->domain;
    uint64_t mfn;

    if (copy_from_guest(&xatp, arg, sizeof(xatp)))
        return -XEN_EFAULT;
    if (xatp.domid != DOMID_SELF && xatp.domid != d->id)
        return -XEN_EPERM;
    if (xatp.gpfn >= PVH_MAX_GFNS)
        return -XEN_EINVAL;
    switch (xatp.space) {
    case XENMAPSPACE_shared_info:
        if (xatp.idx != 0)
            return -XEN_EINVAL;
        mfn = d->shared_info_mfn;
        break;
    case XENMAPSPACE_grant_table: {
        if (xatp.idx > UINT32_MAX)
            return -XEN_EINVAL;     /* XENMAPIDX_grant_table_status among them */
        int rc = grant_table_frame(d, (unsigned int)xatp.idx, &mfn);
        if (rc)
            return rc;
        break;
    }
    default:
        return -XEN_ENOSYS;
    }
    return map_special(d, xatp.gpfn, mfn);
}

long do_memory_op_pvh(struct vcpu *v, const uint64_t args[5])
{
    uint64_t cmd = args[0] & MEMOP_CMD_MASK;
    switch (cmd) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return reservation_op(v, cmd, args[0] >> MEMOP_EXTENT_SHIFT, args[1]);
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
        return reservation_size(v, cmd, args[1]);
    case XENMEM_add_to_physmap:
        return pvh_add_to_physmap(v, args[1]);
    default:
        return -XEN_ENOSYS;
    }
}
