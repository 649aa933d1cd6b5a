/*
 * The frame-table audit: recounts what refers to every frame and compares it
 * with the counts the frame table keeps, and checks that event channels and
 * grant mappings name only live peers. Run by the debug key 'a' and, with
 * audit=on-death on the command line, each time a domain is freed and when
 * the machine powers off (no domain left running). Every
 * mismatch is printed as one "(pvkit) audit mismatch: ..." line (at most
 * AUDIT_MAX_LINES per run) and counted; tests/guests/run fails a kernel
 * whose log has such a line.
 *
 * What is recounted (the holders of references, pvkit/pagetype.h):
 *  - every present entry of a validated table (L4 slots 256-271, the
 *    hypervisor's, excepted): a reference on the frame it names, and a type
 *    reference (writable for a writable L1 entry, level-1 for an upper one);
 *  - a pin; each vCPU's kernel and user L4 and the L4 a continued
 *    VCPUOP_initialise holds; its GDT frames; its registered vcpu_info;
 *  - a domain's shared_info, served console ring and grant-table frames
 *    (writable holds of the hypervisor); the device mappings of grants and
 *    the reference each host mapping of a grant holds beside its PTE.
 * A frame's counts may not be lower than that recount (a reference missing:
 * the frame could be freed or retyped under a mapping). They must be equal,
 * except where holders exist that the audit cannot see: descriptor pages
 * (the per-CPU LDT windows hold theirs), and any frame while some table is
 * partly validated or partly released (their holds are in flight) -- then
 * only the lower bound is checked.
 *
 * Invariants it relies on: it runs under the hypervisor lock, between
 * hypercalls of every CPU but the caller (so no transient reference is
 * held); it changes nothing but its own counters.
 */
#include "pvkit/audit.h"
#include "pvkit/console.h"
#include "pvkit/domain.h"
#include "pvkit/layout.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"

#define AUDIT_MAX_FRAMES (1u << 18)     /* recounted frames: 1 GiB of RAM */
#define AUDIT_MAX_LINES  32

/* The recount: written only by audit_run (under the hypervisor lock). */
static uint32_t want_ref[AUDIT_MAX_FRAMES], want_type[AUDIT_MAX_FRAMES];
static unsigned int nr_mismatches, nr_lines;
/* Set once at boot (audit_set_on_death), read-only afterwards. */
static bool on_death;

/*
 * Prints one mismatch line (the first AUDIT_MAX_LINES of a run) and counts
 * it. Formats like printk.
 */
__attribute__((format(printf, 1, 2)))
static void mismatch(const char *fmt, ...)
{
    char buf[160];
    va_list ap;

    nr_mismatches++;
    if (nr_lines++ >= AUDIT_MAX_LINES)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printk(LOG_ERR, "(pvkit) audit mismatch: %s\n", buf);
}

/* True if owner names a domain that exists (built or not, dying or not). */
static bool owner_alive(uint32_t owner)
{
    return owner < DOMID_FIRST_RESERVED && domain_find((domid_t)owner) != NULL;
}

/* Counts one reference on mfn (and a type reference if typed); 0 for frames past the recount. */
static void want(uint64_t mfn, bool typed)
{
    if (mfn >= AUDIT_MAX_FRAMES || mfn >= frame_table.nr_frames)
        return;
    want_ref[mfn]++;
    want_type[mfn] += typed;
}

/* The entry of level-`level` table `table` naming frame mfn: it must be of the type the entry needs. */
static void check_entry(uint64_t table, unsigned int level, unsigned int i, uint64_t e)
{
    uint64_t mfn = (e & PTE_ADDR_MASK) >> PAGE_SHIFT;
    struct frame *f = frame_get(&frame_table, mfn);

    if (!f || f->owner == OWNER_NONE)
        return; /* a device frame: no references */
    if (!owner_alive(f->owner)) {
        mismatch("L%u 0x%lx[%u] maps frame 0x%lx of owner 0x%x", level, (unsigned long)table, i,
                 (unsigned long)mfn, f->owner);
        return;
    }
    bool typed = level > 1 || (e & PTE_RW);
    enum frame_type need = level > 1 ? (enum frame_type)(level - 1) : FRAME_TYPE_WRITABLE;
    if (typed && (f->type != need || !f->type_count))
        mismatch("L%u 0x%lx[%u] maps frame 0x%lx as type %u, it is type %u (count %u)", level,
                 (unsigned long)table, i, (unsigned long)mfn, need, f->type, f->type_count);
    want(mfn, typed);
}

/* Recounts the entries of every validated table; returns false if some table is in flight. */
static bool count_tables(void)
{
    bool settled = true;

    for (uint64_t mfn = 0; mfn < frame_table.nr_frames; mfn++) {
        struct frame *f = &frame_table.frames[mfn];
        unsigned int level = frame_type_level((enum frame_type)f->type);
        if (f->flags & (FRAME_PARTIAL | FRAME_RELEASING | FRAME_ON_RELEASE_LIST))
            settled = false;
        if (!level || !frame_is_live_table(f, (enum frame_type)f->type) ||
            !(f->flags & FRAME_VALIDATED) || (f->flags & FRAME_RELEASING))
            continue;
        const uint64_t *t = frame_page(mfn);
        for (unsigned int i = 0; i < PT_ENTRIES; i++) {
            if (level == 4 && i >= HV_SLOT_FIRST && i <= HV_SLOT_LAST)
                continue;
            if (t[i] & PTE_P)
                check_entry(mfn, level, i, t[i]);
        }
        if (f->flags & FRAME_PINNED)
            want(mfn, true);
    }
    return settled;
}

/* Recounts what vCPU v holds: its L4s, GDT frames and vcpu_info. */
static void count_vcpu(const struct vcpu *v)
{
    if (v->kernel_l4_mfn)
        want(v->kernel_l4_mfn, true);
    if (v->user_l4_mfn)
        want(v->user_l4_mfn, true);
    if (v->init_l4_hold)
        want(v->init_l4_hold, true);
    for (unsigned int i = 0; i < FIRST_RESERVED_GDT_PAGE; i++)
        if (v->gdt_frames[i])
            want(v->gdt_frames[i], true);
    if (vcpu_info_held(v))
        want(virt_to_phys(v->vcpu_info) >> PAGE_SHIFT, true);
}

/*
 * Recounts the hypervisor's holds on d's frames and the device mappings d
 * holds of grants; checks each mapping names a live granter and a frame it
 * owns.
 */
static void count_domain(const struct domain *d)
{
    const struct grant_table *gt = &d->grant_table;

    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        count_vcpu(&d->vcpus[i]);
    if (d->shared_info)
        want(d->shared_info_mfn, true);
    if (d->console_ring_mfn)
        want(d->console_ring_mfn, true);
    for (unsigned int i = 0; i < gt->nr_frames; i++)
        want(gt->frames[i], true);
    for (unsigned int p = 0; p < gt->maptrack_pages; p++)
        for (unsigned int i = 0; i < MAPTRACK_PER_PAGE; i++) {
            const struct maptrack *m = &gt->maptrack[p][i];
            if (!m->in_use)
                continue;
            struct domain *g = domain_find(m->granter);
            struct frame *f = frame_get(&frame_table, m->frame);
            if (!g || !f || f->owner != m->granter) {
                mismatch("d%u handle %u maps ref %u of d%u, frame 0x%x: no such granter or frame",
                         d->id, p * MAPTRACK_PER_PAGE + i, m->ref, m->granter, m->frame);
                continue;
            }
            if (m->host)
                want(m->frame, false);
            if (m->device)
                want(m->frame, !m->readonly);
        }
}

/* The pins the mappings of every domain hold on grants of domain `granter`. */
static uint64_t mapped_pins(domid_t granter)
{
    uint64_t n = 0;
    struct domain *d;

    for_each_domain(d, slot) {
        const struct grant_table *gt = &d->grant_table;
        for (unsigned int p = 0; p < gt->maptrack_pages; p++)
            for (unsigned int i = 0; i < MAPTRACK_PER_PAGE; i++) {
                const struct maptrack *m = &gt->maptrack[p][i];
                if (m->in_use && m->granter == granter)
                    n += (uint64_t)m->host + m->device;
            }
    }
    return n;
}

/* The pins d's active grant entries record. */
static uint64_t active_pins(const struct domain *d)
{
    uint64_t n = 0;

    for (unsigned int f = 0; f < d->grant_table.nr_frames; f++)
        for (unsigned int i = 0; i < GRANT_PER_FRAME; i++)
            n += (uint64_t)d->grant_table.active[f][i].pins_rw + d->grant_table.active[f][i].pins_ro;
    return n;
}

/* Event channels of d: every interdomain port names a live peer whose port names it back. */
static void check_evtchns(const struct domain *d)
{
    for (unsigned int port = 1; port < NR_EVTCHN_PORTS; port++) {
        const struct evtchn *c = &d->evtchn[port];
        if (c->state != EVTCHNSTAT_interdomain || c->xen_handler)
            continue;
        struct domain *r = domain_find(c->remote_dom);
        const struct evtchn *rc = r && c->remote_port < NR_EVTCHN_PORTS
                                  ? &r->evtchn[c->remote_port] : NULL;
        if (!rc || rc->state != EVTCHNSTAT_interdomain || rc->remote_dom != d->id ||
            rc->remote_port != port)
            mismatch("d%u port %u: interdomain to d%u port %u, which does not name it back",
                     d->id, port, c->remote_dom, c->remote_port);
    }
}

/* Compares every frame's counts with the recount (exactly if `exact`), and the free list. */
static void check_frames(bool exact)
{
    uint64_t nr_free = 0;

    for (uint64_t mfn = 0; mfn < frame_table.nr_frames; mfn++) {
        const struct frame *f = &frame_table.frames[mfn];
        if (f->owner == OWNER_FREE) {
            nr_free++;
            if (f->type != FRAME_TYPE_NONE || f->type_count || f->ref_count)
                mismatch("free frame 0x%lx: type %u counts %u/%u", (unsigned long)mfn, f->type,
                         f->type_count, f->ref_count);
            continue;
        }
        if (f->owner >= OWNER_RESERVED)
            continue;
        if (!owner_alive(f->owner))
            mismatch("frame 0x%lx owned by d%u, which no longer exists", (unsigned long)mfn,
                     f->owner);
        if (f->type_count > f->ref_count)
            mismatch("frame 0x%lx: type count %u > reference count %u", (unsigned long)mfn,
                     f->type_count, f->ref_count);
        if (mfn >= AUDIT_MAX_FRAMES)
            continue;
        bool low = f->ref_count < want_ref[mfn] ||
                   (f->type != FRAME_TYPE_NONE && f->type_count < want_type[mfn]);
        bool high = exact && f->type != FRAME_TYPE_SEG_DESC &&
                    (f->ref_count != want_ref[mfn] ||
                     (f->type != FRAME_TYPE_NONE && f->type_count != want_type[mfn]));
        if (low || high)
            mismatch("frame 0x%lx of d%u type %u: counts %u/%u, holders found %u/%u",
                     (unsigned long)mfn, f->owner, f->type, f->type_count, f->ref_count,
                     want_type[mfn], want_ref[mfn]);
    }
    if (nr_free != frame_table.nr_free)
        mismatch("%lu frames are free, the free count says %lu", (unsigned long)nr_free,
                 (unsigned long)frame_table.nr_free);
}

unsigned int audit_run(const char *why)
{
    struct domain *d;

    nr_mismatches = nr_lines = 0;
    uint64_t used = MIN(frame_table.nr_frames, (uint64_t)AUDIT_MAX_FRAMES); /* want() counts no more */
    memset(want_ref, 0, used * sizeof(want_ref[0]));
    memset(want_type, 0, used * sizeof(want_type[0]));
    bool exact = count_tables();
    for_each_domain(d, slot) {
        count_domain(d);
        check_evtchns(d);
    }
    for_each_domain(d, slot) {
        uint64_t active = active_pins(d), mapped = mapped_pins(d->id);
        if (active != mapped)
            mismatch("d%u's grants: %lu pins recorded, %lu mappings hold them", d->id,
                     (unsigned long)active, (unsigned long)mapped);
    }
    check_frames(exact);
    printk(LOG_INFO, "(pvkit) audit (%s): %s, %u mismatches\n", why,
           exact ? "exact" : "lower bounds (tables in flight)", nr_mismatches);
    return nr_mismatches;
}

void audit_set_on_death(bool on)
{
    on_death = on;
}

void audit_domain_freed(domid_t id)
{
    char why[32];

    if (!on_death)
        return;
    snprintf(why, sizeof(why), "d%u freed", id);
    audit_run(why);
}

void audit_machine_off(void)
{
    if (on_death)
        audit_run("machine off");
}
