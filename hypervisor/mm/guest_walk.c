/*
 * A software walk of a guest's page tables, from its kernel L4 down.
 *
 * The tables walked are v->kernel_l4_mfn and what it references: validated
 * tables of v's domain (mm/pagetype.c), so every present entry above L1
 * names a table and none maps a superpage (validation refuses PS there).
 * The walk only reads entries, with the hypervisor lock held: the guest
 * cannot write its tables directly, and another CPU's hardware walk changes
 * only accessed/dirty bits, which the walk ignores.
 */
#include "pvkit/guest_walk.h"
#include "pvkit/mm.h"
#include "pvkit/pagetype.h"

/*
 * Follows va down `steps` entries from the table l4_mfn: 3 reaches the L1
 * table that maps va, 4 the frame mapped at va. GUEST_NO_FRAME if an entry on
 * the way is not present, or one above L1 maps a superpage.
 */
static uint64_t walk(uint64_t l4_mfn, uint64_t va, unsigned int steps)
{
    static const unsigned int shifts[4] = { 39, 30, 21, 12 };
    uint64_t mfn = l4_mfn;

    for (unsigned int i = 0; i < steps; i++) {
        uint64_t e = ((uint64_t *)frame_page(mfn))[(va >> shifts[i]) & 511];
        /* Bit 7 is PS above L1 only; in an L1 entry it is PAT. */
        if (!(e & PTE_P) || (i < 3 && (e & PTE_PS)))
            return GUEST_NO_FRAME;
        mfn = (e & PTE_ADDR_MASK) >> PAGE_SHIFT;
    }
    return mfn;
}

/* True if mfn is an L1 table of v's domain in use with all its entries validated. */
static bool own_live_l1(const struct vcpu *v, uint64_t mfn)
{
    const struct frame *f = frame_get(&frame_table, mfn); /* NULL for GUEST_NO_FRAME */
    return f && f->owner == v->domain->id && frame_is_live_table(f, FRAME_TYPE_L1);
}

uint64_t guest_frame_of(const struct vcpu *v, uint64_t va)
{
    return walk(v->kernel_l4_mfn, va, 4);
}

int guest_l1_entry_of(struct vcpu *v, uint64_t va, uint64_t *l1_mfn, unsigned int *index)
{
    uint64_t mfn = walk(v->kernel_l4_mfn, va, 3);

    if (!own_live_l1(v, mfn))
        return -XEN_EINVAL;
    *l1_mfn = mfn;
    *index = L1_INDEX(va);
    return 0;
}

int guest_l1_table_at(struct vcpu *v, uint64_t va, uint64_t *l1_mfn)
{
    uint64_t mfn = guest_frame_of(v, va);

    if (!own_live_l1(v, mfn))
        return -XEN_EINVAL;
    *l1_mfn = mfn;
    return 0;
}
