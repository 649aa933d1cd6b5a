/*
 * Destroying a domain (domctl destroydomain, common/domctl.c): it gives back
 * everything it holds, in bounded pieces (the hypercall is continued, as
 * Xen's domain_kill is): it stops running (DOMAIN_DYING, its event channels
 * closed, dom0 told with VIRQ_DOM_EXC), its vCPUs are taken off every CPU,
 * their page-table, GDT and vcpu_info references dropped, its pinned tables
 * unpinned and released, the grant mappings it holds unpinned, the
 * hypervisor's holds on shared_info and its console ring dropped, and every
 * frame no one references any more freed. Frames another domain still maps
 * (a grant, a privileged foreign mapping) stay the dying domain's, with its
 * grant table, until they are let go: the domain then stays dying, and a
 * later destroydomain frees what has been released meanwhile; the last one
 * frees the domain itself.
 *
 * Invariants: runs under the hypervisor lock; d->destroy_stage only moves
 * forward (DESTROY_FREE again after DESTROY_DONE while frames are mapped),
 * and each step leaves every count the audit checks consistent.
 */
#include "pvkit/domain.h"
#include "pvkit/grant.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"
#include "pvkit/pv_cpu.h"
#include "pvkit/sched.h"
#include "pvkit/vcpu.h"

#define FRAMES_PER_PIECE 2048   /* frame-table entries a destroy step scans */

enum destroy_stage {
    DESTROY_KILL, DESTROY_UNLOAD, DESTROY_VCPUS, DESTROY_UNPIN, DESTROY_DRAIN,
    DESTROY_GRANTS, DESTROY_HOLDS, DESTROY_FREE, DESTROY_DONE,
};

/* Drops what vCPU v holds: its page tables, GDT frames, registered vcpu_info. */
static void release_vcpu(struct vcpu *v)
{
    struct domain *d = v->domain;

    if (v->kernel_l4_mfn)
        put_page_and_type(d, v->kernel_l4_mfn);
    if (v->user_l4_mfn)
        put_page_and_type(d, v->user_l4_mfn);
    if (v->init_l4_hold)
        put_page_and_type(d, v->init_l4_hold);
    v->kernel_l4_mfn = v->user_l4_mfn = v->init_l4_hold = 0;
    vcpu_set_gdt(v, NULL, 0);
    if (vcpu_info_held(v))
        put_page_and_type(d, virt_to_phys(v->vcpu_info) >> PAGE_SHIFT);
    v->vcpu_info_registered = false;
    v->vcpu_info = NULL;
}

/*
 * Destroying visits d's frames in frame-number order, a piece at a time
 * (FRAMES_PER_PIECE entries per step), from destroy_pos. A pass ends at the
 * table's end or as soon as it has met every frame d owned when it began
 * (destroy_left, from the frame table's owned count): a domain's frames are
 * mostly together, so a small domain costs a small scan. That needs d to
 * come to own no frame once dying (populate_physmap and a grant table's
 * growth refuse it): a frame it gained ahead of destroy_pos would count as
 * met and end the pass before d's last frames, and the unpin pass is not
 * done again.
 */
static void begin_pass(struct domain *d)
{
    d->destroy_pos = 0;
    d->destroy_left = frames_owned(&frame_table, d->id);
}

/* Where this step's piece of the pass ends: FRAMES_PER_PIECE entries on. */
static uint64_t piece_end(const struct domain *d)
{
    return MIN(d->destroy_pos + FRAMES_PER_PIECE, frame_table.nr_frames);
}

/* True when the pass is over: every frame met, or the table's end reached. */
static bool pass_done(const struct domain *d)
{
    return !d->destroy_left || d->destroy_pos == frame_table.nr_frames;
}

/*
 * Unpins d's pinned tables and abandons the validations its unfinished
 * hypercalls left part-way (FRAME_PARTIAL tables: their entries validated so
 * far and their partial holds), one piece of the pass. True when done.
 */
static bool drop_table_holds(struct domain *d)
{
    for (uint64_t end = piece_end(d); !pass_done(d) && d->destroy_pos < end; d->destroy_pos++) {
        struct frame *f = &frame_table.frames[d->destroy_pos];
        if (f->owner != d->id)
            continue;
        d->destroy_left--;
        if (f->flags & FRAME_PARTIAL) {
            abandon_partial_table(d, d->destroy_pos);
        } else if (f->flags & FRAME_PINNED) {
            f->flags &= (uint8_t)~FRAME_PINNED;
            put_page_and_type(d, d->destroy_pos);
        }
    }
    return pass_done(d);
}

/*
 * Frees d's frames that nothing references any more (grant frames wait for
 * the end), one piece of the pass. True when done.
 */
static bool free_frames(struct domain *d)
{
    for (uint64_t end = piece_end(d); !pass_done(d) && d->destroy_pos < end; d->destroy_pos++) {
        uint64_t mfn = d->destroy_pos;
        struct frame *f = &frame_table.frames[mfn];
        if (f->owner != d->id)
            continue;
        d->destroy_left--;
        if (f->ref_count || f->type_count ||
            (f->flags & (FRAME_RELEASING | FRAME_ON_RELEASE_LIST)) || grant_table_holds(d, mfn))
            continue;
        m2p_set(mfn, INVALID_M2P_ENTRY);
        frame_free(&frame_table, mfn);
        if (d->nr_pages)
            d->nr_pages--;
    }
    return pass_done(d);
}

/*
 * Frames d still owns that another domain refers to: all but its grant
 * frames, and those grant frames something refers to beyond the
 * hypervisor's own hold (a privileged domain's foreign mapping).
 */
static uint64_t frames_left(const struct domain *d)
{
    uint64_t n = frames_owned(&frame_table, d->id);
    for (unsigned int i = 0; i < d->grant_table.nr_frames; i++) {
        const struct frame *f = &frame_table.frames[d->grant_table.frames[i]];
        n -= f->owner == d->id && f->ref_count == 1 && f->type_count == 1;
    }
    return n;
}

int domain_destroy_step(struct domain *d)
{
    switch (d->destroy_stage) {
    case DESTROY_KILL:
        domain_kill(d);
        notify_dom0();
        d->destroy_stage = DESTROY_UNLOAD;
        return -XEN_ERESTART;
    case DESTROY_UNLOAD:
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            if (d->vcpus[i].loaded) {
                vcpu_force_reschedule(&d->vcpus[i]); /* its CPU unloads it (schedule.c) */
                return -XEN_ERESTART;
            }
        d->destroy_stage = DESTROY_VCPUS;
        return -XEN_ERESTART;
    case DESTROY_VCPUS:
        for (unsigned int i = 0; i < d->nr_vcpus; i++)
            release_vcpu(&d->vcpus[i]);
        d->destroy_stage = DESTROY_UNPIN;
        begin_pass(d);
        return -XEN_ERESTART;
    case DESTROY_UNPIN:
        if (drop_table_holds(d))
            d->destroy_stage = DESTROY_DRAIN;
        return -XEN_ERESTART;
    case DESTROY_DRAIN:
        if (release_pending_tables(d) == 0)
            d->destroy_stage = DESTROY_GRANTS;
        return -XEN_ERESTART;
    case DESTROY_GRANTS:
        grant_table_release_mappings(d);
        d->destroy_stage = DESTROY_HOLDS;
        return -XEN_ERESTART;
    case DESTROY_HOLDS:
        put_page_and_type(d, d->shared_info_mfn);
        d->shared_info = NULL; /* the frame may go to another domain: nothing writes it */
        if (d->console_ring_mfn)
            put_page_and_type(d, d->console_ring_mfn);
        d->console_ring_mfn = 0; /* nothing writes it any more (console_input.c) */
        d->destroy_stage = DESTROY_FREE;
        begin_pass(d);
        return -XEN_ERESTART;
    case DESTROY_FREE:
        if (!free_frames(d))
            return -XEN_ERESTART;
        d->destroy_stage = DESTROY_DONE;
        __attribute__((fallthrough));
    case DESTROY_DONE:
    default:
        if (frames_left(d) || grant_table_in_use(d)) {
            begin_pass(d);
            d->destroy_stage = DESTROY_FREE; /* another destroydomain frees what is let go */
            return 0;
        }
        printk(LOG_INFO, "(pvkit) d%u: destroyed\n", d->id);
        domain_free(d);
        notify_dom0();
        return 0;
    }
}
