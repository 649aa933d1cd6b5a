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
 * A PVH domain (its guest-physical map is its nested page tables, mm/npt.c)
 * has one memory_op so far: XENMEM_add_to_physmap of its shared_info page
 * (do_memory_op_pvh).
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
 * Gives back the frames of extents [start, start + n), stopping at the first
 * that cannot go. Other CPUs may still hold TLB entries for them from
 * mappings the guest removed without a flush: they are flushed before the
 * frames can be handed out again (which needs the lock we hold). Returns the
 * extents done, or -EFAULT if the first one could not be read.
 */
static long decrease(struct domain *d, const struct xen_memory_reservation *r, uint64_t start,
                     uint64_t n)
{
    uint64_t done;
    bool fault = false, foreign = false;
    for (done = 0; done < n; done++) {
        uint64_t mfn;
        if (copy_from_guest(&mfn, GUEST_HANDLE_VA(r->extent_start) + (start + done) * 8, 8)) {
            fault = true;
            break;
        }
        struct frame *f = frame_get(&frame_table, mfn);
        /*
         * Frames the hypervisor writes (shared_info, console ring) hold
         * references; a table being released, or listed for release, is kept.
         */
        if (!f || f->owner != d->id || f->ref_count || f->type_count ||
            (f->flags & (FRAME_RELEASING | FRAME_ON_RELEASE_LIST)))
            break;
        foreign |= (f->flags & FRAME_WAS_FOREIGN) != 0;
        m2p_set(mfn, INVALID_M2P_ENTRY);
        frame_free(&frame_table, mfn);
        d->nr_pages--;
    }
    if (foreign)
        flush_tlb_all(); /* another domain mapped one: its CPUs too */
    else if (done)
        flush_tlb_domain(d);
    return !done && fault ? -XEN_EFAULT : (long)done;
}

/*
 * populate_physmap (pfns in, mfns out) and increase_reservation (mfns out) of
 * extents [start, start + n), stopping at the first that fails. Returns the
 * extents done: none for a dying domain (as Xen's assign_pages), whose
 * frames are on their way back.
 */
static long populate(struct domain *d, const struct xen_memory_reservation *r, uint64_t start,
                     uint64_t n, bool with_pfns)
{
    uint64_t done;
    if (domain_state(d) == DOMAIN_DYING)
        return 0;
    for (done = 0; done < n && d->nr_pages < d->max_pages; done++) {
        uint64_t pfn = 0, slot = GUEST_HANDLE_VA(r->extent_start) + (start + done) * 8;
        if (with_pfns && copy_from_guest(&pfn, slot, 8))
            break;
        int64_t mfn = alloc_zeroed_frame(d->id);
        if (mfn < 0)
            break;
        if (copy_to_guest(slot, &mfn, 8)) {
            frame_free(&frame_table, (uint64_t)mfn);
            break;
        }
        m2p_set((uint64_t)mfn, with_pfns ? pfn : INVALID_M2P_ENTRY);
        d->nr_pages++;
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
 * The shared_info page (space shared_info, index 0) appears at guest frame
 * gpfn of the caller's own memory, in place of the frame there, which
 * stays the domain's, unmapped, until it dies: the nested tables only ever
 * map the domain's own frames, inside its memory.
 */
static long pvh_add_to_physmap(struct vcpu *v, uint64_t arg)
{
    struct xen_add_to_physmap xatp;
    struct domain *d = v->domain;

    if (copy_from_guest(&xatp, arg, sizeof(xatp)))
        return -XEN_EFAULT;
    if (xatp.domid != DOMID_SELF && xatp.domid != d->id)
        return -XEN_EPERM;
    if (xatp.space != XENMAPSPACE_shared_info)
        return -XEN_ENOSYS;
    if (xatp.idx != 0 || xatp.gpfn >= d->max_pages)
        return -XEN_EINVAL;
    return npt_map(d, xatp.gpfn, d->shared_info_mfn);
}

long do_memory_op_pvh(struct vcpu *v, const uint64_t args[5])
{
    switch (args[0] & MEMOP_CMD_MASK) {
    case XENMEM_add_to_physmap:
        return pvh_add_to_physmap(v, args[1]);
    default:
        return -XEN_ENOSYS;
    }
}
