/*
 * Page references, types and page-table validation (see pvkit/pagetype.h).
 *
 * Validation takes the type first (count 1, the provisional reference of the
 * caller) and then validates the contents, so that a table which maps itself
 * writable, or names itself as a lower-level table, is refused: the child
 * check finds the frame already typed. On failure everything taken so far is
 * released in reverse and the frame is untyped again.
 */
#include "pvkit/pagetype.h"
#include "pvkit/hypercall.h"
#include "pvkit/mm.h"
#include "pvkit/smp.h"
#include "pvkit/x86.h"

/* Flags each level accepts (bits 12-51 are the address, checked separately). */
#define PTE_AVAIL_LOW   (7ull << 9)
#define PTE_AVAIL_HIGH  (0x7FFull << 52)
#define L1_ALLOWED      (PTE_P | PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_A | PTE_D | \
                         (1ull << 7) /* PAT */ | PTE_G | PTE_AVAIL_LOW | PTE_AVAIL_HIGH)
#define UPPER_ALLOWED   (PTE_P | PTE_RW | PTE_US | PTE_PWT | PTE_PCD | PTE_A | PTE_D | \
                         PTE_AVAIL_LOW | PTE_AVAIL_HIGH)

uint64_t pte_nx_mask;
unsigned int phys_addr_bits = 36;

static void count_reject(struct domain *d, enum pt_reject why)
{
    d->mm_stats.rejects[why]++;
}

static struct frame *frame_of(uint64_t mfn)
{
    return frame_get(&frame_table, mfn);
}

/*
 * get_page, inline for the page-table update paths (get_l1e_refs, which
 * every mmu_update of an L1 entry runs); get_page is its out-of-line copy.
 */
static ALWAYS_INLINE int take_page_ref(struct domain *d, uint64_t mfn)
{
    struct frame *f = frame_of(mfn);
    if (!f || f->owner != d->id) {
        count_reject(d, f && (f->owner == OWNER_HV || f->owner == OWNER_RESERVED)
                            ? PT_REJECT_HV_FRAME : PT_REJECT_NOT_OWNED);
        return -XEN_EBUSY;
    }
    if (f->ref_count == UINT32_MAX)
        return -XEN_EBUSY; /* a count that wrapped would free a frame still in use */
    f->ref_count++;
    return 0;
}

int get_page(struct domain *d, uint64_t mfn)
{
    return take_page_ref(d, mfn);
}

/* put_page, inline for the page-table update paths (see take_page_ref). */
static ALWAYS_INLINE void drop_page_ref(uint64_t mfn)
{
    struct frame *f = frame_of(mfn);
    if (f && f->ref_count)
        f->ref_count--;
}

void put_page(uint64_t mfn)
{
    drop_page_ref(mfn);
}

static int validate_table(struct domain *d, uint64_t mfn, unsigned int level);
static void release_table(struct domain *d, uint64_t mfn, unsigned int level);
static int validate_descriptor_page(struct domain *d, uint64_t mfn);

/*
 * Flushes TLBs (on every CPU that may hold the frame owner's translations)
 * before f takes `type`, if a translation cached from what f was may still be
 * live: a writable mapping before it becomes a table or descriptor page (so
 * no stale writable translation can change it during or after validation),
 * a table before it becomes anything else (so no stale table walk can use
 * what it holds next). A flush since then (the owner's epoch moved on)
 * already removed them, so building many tables costs one flush, not one each.
 * A frame another domain mapped (a grant, a privileged foreign mapping) may
 * be cached where the owner's flush does not reach: every CPU is flushed.
 */
static void flush_if_stale(struct domain *d, struct frame *f, enum frame_type type)
{
    bool stale = (f->flags & FRAME_WAS_TABLE) ||
                 (type != FRAME_TYPE_WRITABLE && (f->flags & FRAME_WAS_WRITABLE));
    if (stale && (f->flags & FRAME_WAS_FOREIGN)) {
        flush_tlb_all(); /* another domain's CPUs, which d's flush does not reach */
        f->flags &= (uint8_t)~FRAME_WAS_FOREIGN;
    } else if (stale && f->stale_epoch == d->tlb_epoch) {
        flush_tlb_domain(d);
    }
    /* WAS_FOREIGN stays until a global flush: d's own flushes do not clear it. */
    f->flags &= (uint8_t)~(FRAME_WAS_TABLE | FRAME_WAS_WRITABLE);
}

/*
 * Gives frame f (owned by d, type count 0) `type`, validating it; or goes on
 * validating a frame left FRAME_PARTIAL. A new table costs one unit of work
 * budget: -XEN_ERESTART with nothing changed if none is left. -XEN_ERESTART
 * from a child's validation: the frame stays typed and FRAME_PARTIAL,
 * holding the references taken so far (and its type count 1: the partial
 * hold), and the next get of the same type continues where it stopped. Only
 * new tables are charged, so every piece validates at least one.
 */
static int change_type(struct domain *d, uint64_t mfn, struct frame *f, enum frame_type type)
{
    int rc = 0;

    if (!(f->flags & FRAME_PARTIAL)) {
        if (frame_type_level(type) && table_work_preempt())
            return -XEN_ERESTART;
        flush_if_stale(d, f, type);
        f->type = (uint8_t)type;
        f->type_count = 1;
        f->progress = 0;
    }
    f->flags &= (uint8_t)~FRAME_PARTIAL;
    if (frame_type_level(type))
        rc = validate_table(d, mfn, frame_type_level(type));
    else if (type == FRAME_TYPE_SEG_DESC)
        rc = validate_descriptor_page(d, mfn);
    if (rc == -XEN_ERESTART) {
        f->flags |= FRAME_PARTIAL;
        return rc;
    }
    if (rc) {
        f->type = FRAME_TYPE_NONE;
        f->type_count = 0;
        return rc;
    }
    f->flags |= FRAME_VALIDATED;
    d->mm_stats.validations++;
    return 0;
}

static void finish_release(struct domain *d, uint64_t mfn, struct frame *f);

/*
 * get_page_type's general case: a frame being released, untyped, of another
 * type, partly validated, or whose type count would wrap.
 */
static __attribute__((noinline)) int get_page_type_slow(struct domain *d, uint64_t mfn,
                                                        enum frame_type type)
{
    struct frame *f = frame_of(mfn);

    if (f->flags & FRAME_RELEASING)
        finish_release(d, mfn, f); /* its old entries go before it takes a type */
    if (f->type_count) {
        /* As Xen: a writable mapping of a typed frame is -EBUSY, a retype -EINVAL. */
        if (f->type != type) {
            if (type == FRAME_TYPE_WRITABLE) {
                count_reject(d, PT_REJECT_WRITABLE_PT);
                return -XEN_EBUSY;
            }
            count_reject(d, PT_REJECT_WRONG_TYPE);
            return -XEN_EINVAL;
        }
        if (f->flags & FRAME_PARTIAL)
            return change_type(d, mfn, f, type); /* the caller takes over the partial hold */
        if (f->type_count == UINT32_MAX)
            return -XEN_EINVAL; /* as Xen: a type count never wraps */
        f->type_count++;
        return 0;
    }
    return change_type(d, mfn, f, type);
}

/*
 * Takes a type reference of `type` on frame mfn (d's; the caller holds a
 * reference). Inline for the common case, a frame that already has the type
 * and nothing pending on it: one more type reference. 0 or -errno as
 * get_page_and_type.
 */
static ALWAYS_INLINE int get_page_type(struct domain *d, uint64_t mfn, enum frame_type type)
{
    struct frame *f = frame_of(mfn);
    if (f->type_count && f->type_count != UINT32_MAX && f->type == type &&
        !(f->flags & (FRAME_RELEASING | FRAME_PARTIAL))) {
        f->type_count++;
        return 0;
    }
    return get_page_type_slow(d, mfn, type);
}

/*
 * Marks f as it was at its owner's current flush epoch (see flush_if_stale);
 * the owner's, since a privileged domain's foreign mapping is flushed with it.
 */
static void note_stale(struct frame *f, uint8_t was)
{
    struct domain *owner = domain_find((domid_t)f->owner);
    f->flags = (uint8_t)((f->flags & ~(FRAME_WAS_TABLE | FRAME_WAS_WRITABLE)) | was);  /* WAS_FOREIGN stays */
    f->stale_epoch = owner ? owner->tlb_epoch : 0;
}

/* Pushes f on d's release list (at most once). */
static void release_list_push(struct domain *d, uint64_t mfn, struct frame *f)
{
    if (f->flags & FRAME_ON_RELEASE_LIST)
        return;
    f->flags |= FRAME_ON_RELEASE_LIST;
    f->next_free = d->release_head;
    d->release_head = (uint32_t)mfn;
}

/* put_page_type's general case: the last type reference goes. */
static __attribute__((noinline)) void put_last_type_ref(struct domain *d, uint64_t mfn,
                                                        struct frame *f)
{
    f->type_count = 0;
    f->flags &= (uint8_t)~(FRAME_VALIDATED | FRAME_PINNED);
    if (!frame_type_level(f->type)) {
        note_stale(f, f->type == FRAME_TYPE_WRITABLE ? FRAME_WAS_WRITABLE : FRAME_WAS_TABLE);
        f->type = FRAME_TYPE_NONE;
        return;
    }
    /* A table's entries are released from d's release list, in bounded steps. */
    f->flags |= FRAME_RELEASING;
    release_list_push(d, mfn, f);
    release_pending_tables(d);
}

/* Drops a type reference of frame mfn (d's); the last one untypes it or queues its release. */
static ALWAYS_INLINE void put_page_type(struct domain *d, uint64_t mfn)
{
    struct frame *f = frame_of(mfn);

    if (!f || !f->type_count)
        return;
    if (f->type_count > 1)
        f->type_count--;
    else
        put_last_type_ref(d, mfn, f);
}

/* Releases the references the entries of releasing table f hold; it is untyped after. */
static void finish_release(struct domain *d, uint64_t mfn, struct frame *f)
{
    f->flags &= (uint8_t)~FRAME_RELEASING;
    release_table(d, mfn, frame_type_level(f->type));
    note_stale(f, FRAME_WAS_TABLE);
    f->type = FRAME_TYPE_NONE;
}

int drain_release_list(struct domain *d)
{
    static bool draining; /* nested puts only queue: the outermost call drains */

    if (draining)
        return 0;
    draining = true;
    while (d->release_head != FRAME_NO_NEXT) {
        if (table_work_preempt()) {
            draining = false;
            return -XEN_ERESTART;
        }
        uint64_t mfn = d->release_head;
        struct frame *f = frame_of(mfn);
        d->release_head = f->next_free;
        f->next_free = FRAME_NO_NEXT;
        f->flags &= (uint8_t)~FRAME_ON_RELEASE_LIST;
        if (f->flags & FRAME_RELEASING)
            finish_release(d, mfn, f);
    }
    draining = false;
    return 0;
}

/*
 * A frame left FRAME_PARTIAL keeps one reference and one type reference (the
 * partial hold): the caller's, when its validation stopped part-way. Whoever
 * continues it takes the hold over: on success the hold's type reference
 * becomes the caller's and its extra reference goes; on failure both go; on
 * another -XEN_ERESTART the hold stays as it was.
 */
int get_page_and_type(struct domain *d, uint64_t mfn, enum frame_type type)
{
    int rc = get_page(d, mfn);
    if (rc)
        return rc;
    struct frame *f = frame_of(mfn);
    bool continuing = (f->flags & FRAME_PARTIAL) && f->type == type;
    rc = get_page_type(d, mfn, type);
    bool held = rc == -XEN_ERESTART && (f->flags & FRAME_PARTIAL);
    if (continuing)
        put_page(mfn);
    if (rc && !held)
        put_page(mfn);
    return rc;
}

void put_page_and_type(struct domain *d, uint64_t mfn)
{
    put_page_type(d, mfn);
    put_page(mfn);
}

static bool is_hv_l4_slot(unsigned int level, unsigned int index)
{
    return level == 4 && index >= HV_SLOT_FIRST && index <= HV_SLOT_LAST;
}

static uint64_t entry_mfn(uint64_t val)
{
    return (val & PTE_ADDR_MASK) >> PAGE_SHIFT;
}

/* A frame that is not RAM: device memory (or nothing). */
static bool is_device_frame(uint64_t mfn)
{
    struct frame *f = frame_of(mfn);
    return !f || f->owner == OWNER_NONE;
}

/*
 * The value stored for an accepted present entry: the guest kernel runs at
 * CPL 3, so U on every level; G is accepted (as Xen) but never reaches the
 * hardware (a global guest mapping would outlive the switch to the user page
 * tables, and to another domain); a device frame the privileged domain may
 * only read is mapped read-only, as Xen does.
 */
static uint64_t adjust_entry(unsigned int level, uint64_t val)
{
    val |= PTE_US;
    if (level != 1)
        return val;
    val &= ~PTE_G;
    if (is_device_frame(entry_mfn(val)) &&
        frame_io_access(&frame_table, entry_mfn(val)) == IO_ACCESS_RO)
        val &= ~PTE_RW;
    return val;
}

/*
 * adjust_entry for an entry whose frame is known to be RAM (no device frame
 * to make read-only): what the validation of a whole table applies when it
 * met no device frame, without looking each frame up again.
 */
static uint64_t adjust_ram_entry(unsigned int level, uint64_t val)
{
    return level == 1 ? (val | PTE_US) & ~PTE_G : val | PTE_US;
}

/*
 * An L1 entry's references: a general reference on the frame, and a
 * writable type reference for a writable mapping. Device frames take none:
 * only a privileged domain may map them, and not those the hypervisor keeps
 * (the local APIC); anything else is -EPERM, as Xen answers. *adjusted is
 * the entry as stored (adjust_entry's, the frame looked up once).
 */
static ALWAYS_INLINE int get_l1e_refs(struct domain *pt_dom, struct domain *pg_dom, uint64_t val,
                        uint64_t *adjusted)
{
    uint64_t mfn = entry_mfn(val);
    const struct frame *f = frame_of(mfn);

    *adjusted = adjust_ram_entry(1, val);
    if (!f || f->owner == OWNER_NONE) {
        enum io_access access = frame_io_access(&frame_table, mfn);
        if (pg_dom->privileged && access != IO_ACCESS_NONE) {
            if (access == IO_ACCESS_RO)
                *adjusted &= ~PTE_RW;
            return 0;
        }
        count_reject(pt_dom, PT_REJECT_HV_FRAME);
        return -XEN_EPERM;
    }
    int rc = take_page_ref(pg_dom, mfn);
    if (rc) {
        if (pg_dom != pt_dom)
            count_reject(pt_dom, PT_REJECT_NOT_OWNED);
        return rc;
    }
    if ((val & PTE_RW) && (rc = get_page_type(pg_dom, mfn, FRAME_TYPE_WRITABLE))) {
        drop_page_ref(mfn);
        return rc;
    }
    return 0;
}

/* get_pte_refs, inline where the level is known (replace_pte's L1 copy). */
static ALWAYS_INLINE int take_pte_refs(struct domain *pt_dom, struct domain *pg_dom,
                                       unsigned int level, uint64_t new_val, uint64_t *adjusted)
{
    uint64_t allowed = (level == 1 ? L1_ALLOWED : UPPER_ALLOWED) | pte_nx_mask | PTE_ADDR_MASK;

    *adjusted = new_val;
    if (!(new_val & PTE_P))
        return 0;
    if (level > 1 && (new_val & PTE_PS)) {
        count_reject(pt_dom, PT_REJECT_SUPERPAGE);
        return -XEN_EINVAL;
    }
    if (new_val & ~allowed) {
        count_reject(pt_dom, PT_REJECT_RESERVED_BITS);
        return -XEN_EINVAL;
    }
    if (entry_mfn(new_val) >> (phys_addr_bits - PAGE_SHIFT)) {
        count_reject(pt_dom, PT_REJECT_RESERVED_BITS);
        return -XEN_EPERM; /* address bits the CPU does not have */
    }
    if (level == 1)
        return get_l1e_refs(pt_dom, pg_dom, new_val, adjusted);
    *adjusted = adjust_ram_entry(level, new_val);
    return get_page_and_type(pt_dom, entry_mfn(new_val), (enum frame_type)(level - 1));
}

int get_pte_refs(struct domain *pt_dom, struct domain *pg_dom, unsigned int level,
                 unsigned int index, uint64_t new_val, uint64_t *adjusted)
{
    (void)index;
    return take_pte_refs(pt_dom, pg_dom, level, new_val, adjusted);
}

/* put_pte_refs, inline where the level is known (see take_pte_refs). */
static ALWAYS_INLINE void drop_pte_refs(struct domain *d, unsigned int level, uint64_t val)
{
    uint64_t mfn = entry_mfn(val);

    if (!(val & PTE_P))
        return;
    if (level > 1) {
        put_page_and_type(d, mfn);
        return;
    }
    struct frame *f = frame_of(mfn);
    if (!f || f->owner == OWNER_NONE)
        return;
    if (f->owner != d->id)
        f->flags |= FRAME_WAS_FOREIGN; /* another domain's CPUs may cache it now */
    if (val & PTE_RW)
        put_page_type(d, mfn);
    drop_page_ref(mfn);
}

void put_pte_refs(struct domain *d, unsigned int level, uint64_t val)
{
    drop_pte_refs(d, level, val);
}

/*
 * The index of the first present entry of table at or after i (PT_ENTRIES if
 * none). Whole chunks of SCAN_CHUNK entries are tested with one OR of their
 * present bits, so the empty stretches of a sparse table (most of a fresh
 * one) cost about one instruction per entry instead of a test and a branch.
 */
#define SCAN_CHUNK 16
static inline unsigned int next_present(const uint64_t *table, unsigned int i)
{
    for (; i < PT_ENTRIES && i % SCAN_CHUNK; i++)
        if (table[i] & PTE_P)
            return i;
    for (; i < PT_ENTRIES; i += SCAN_CHUNK) {
        uint64_t any = 0;
#pragma GCC unroll 16
        for (unsigned int j = 0; j < SCAN_CHUNK; j++)
            any |= table[i + j];
        if (any & PTE_P)
            break;
    }
    for (; i < PT_ENTRIES; i++)
        if (table[i] & PTE_P)
            return i;
    return PT_ENTRIES;
}

/*
 * Validates table mfn from entry f->progress on (0 for a new one).
 * -XEN_ERESTART when a child ran out of budget (f->progress records the
 * entry, the entries before it keep their references, and a child left
 * partial holds its own). On any other error every entry validated, in this
 * piece or earlier ones, is released.
 *
 * Not-present entries hold no reference and need no adjustment, so the loops
 * step over them (next_present); every present entry goes through
 * get_pte_refs. The adjustments are applied once all entries are accepted,
 * and only if one of them changes an entry: for RAM frames without a second
 * look-up (L1 entries mapping device frames are looked up again, as
 * adjust_entry does). A table whose entries are all as stored (user L1
 * tables: U set, G clear) is not written at all.
 */
static int validate_table(struct domain *d, uint64_t mfn, unsigned int level)
{
    struct frame *f = frame_of(mfn);
    uint64_t *table = frame_page(mfn);
    unsigned int i;
    uint64_t adjusted;
    bool device = false, changed = false;
    int rc = 0;

    for (i = next_present(table, f->progress); i < PT_ENTRIES; i = next_present(table, i + 1)) {
        if (is_hv_l4_slot(level, i))
            continue;
        rc = level == 1 ? take_pte_refs(d, d, 1, table[i], &adjusted) /* L1: inlined copy */
                        : take_pte_refs(d, d, level, table[i], &adjusted);
        if (rc)
            break;
        changed |= adjusted != table[i];
        device |= level == 1 && is_device_frame(entry_mfn(table[i]));
    }
    if (rc == -XEN_ERESTART) {
        f->progress = (uint16_t)i;
        return rc;
    }
    if (rc) {
        f->progress = 0;
        while (i-- > 0)
            if ((table[i] & PTE_P) && !is_hv_l4_slot(level, i))
                put_pte_refs(d, level, table[i]);
        return rc;
    }
    /*
     * All entries are acceptable: now apply the adjustments. An earlier piece
     * (f->progress > 0) may have met device frames, or entries to change,
     * that this one did not see.
     */
    device |= f->progress != 0;
    changed |= f->progress != 0;
    f->progress = 0;
    if (changed)
        for (i = next_present(table, 0); i < PT_ENTRIES; i = next_present(table, i + 1))
            table[i] = device ? adjust_entry(level, table[i]) : adjust_ram_entry(level, table[i]);
    if (level == 4)
        install_hv_l4_slots(table);
    return 0;
}

/*
 * Releases the references of every present entry (not the hypervisor's L4
 * slots); an L1's (most tables released) through the inlined level-1 copy.
 */
static void release_table(struct domain *d, uint64_t mfn, unsigned int level)
{
    uint64_t *table = frame_page(mfn);
    unsigned int i;

    if (level == 1) {
        for (i = next_present(table, 0); i < PT_ENTRIES; i = next_present(table, i + 1))
            drop_pte_refs(d, 1, table[i]);
        return;
    }
    for (i = next_present(table, 0); i < PT_ENTRIES; i = next_present(table, i + 1))
        if (!is_hv_l4_slot(level, i))
            drop_pte_refs(d, level, table[i]);
}

void abandon_partial_table(struct domain *d, uint64_t mfn)
{
    struct frame *f = frame_of(mfn);
    uint64_t *table = frame_page(mfn);
    unsigned int level = frame_type_level(f->type);

    if (!(f->flags & FRAME_PARTIAL) || !level)
        return;
    f->flags &= (uint8_t)~FRAME_PARTIAL;
    for (unsigned int i = 0; i < f->progress; i++)
        if (!is_hv_l4_slot(level, i))
            put_pte_refs(d, level, table[i]);
    f->progress = 0;
    f->type_count = 0; /* a partial frame's only type reference is its hold */
    note_stale(f, FRAME_WAS_TABLE);
    f->type = FRAME_TYPE_NONE;
    put_page(mfn);
}

/*
 * Other CPUs' page walks may set the accessed and dirty bits of a live entry
 * at any moment (nothing else changes it: the table is read-only to the
 * guest and we hold the lock), so entries are replaced with compare-exchange
 * and such bits are never lost where they are to be kept. They do not affect
 * the references an entry holds.
 */
static ALWAYS_INLINE int replace_pte(struct domain *pt_dom, struct domain *pg_dom,
                                     uint64_t table_mfn, unsigned int level, unsigned int index,
                                     uint64_t expected, uint64_t new_val, bool preserve_ad,
                                     bool exact)
{
    uint64_t *entry = (uint64_t *)frame_page(table_mfn) + index;
    uint64_t seen = __atomic_load_n(entry, __ATOMIC_RELAXED), adjusted;

    if (is_hv_l4_slot(level, index)) {
        count_reject(pt_dom, PT_REJECT_HV_SLOT);
        return -XEN_EINVAL;
    }
    if (exact && seen != expected)
        return -XEN_EAGAIN;
    if (preserve_ad)
        new_val |= seen & (PTE_A | PTE_D);
    int rc = take_pte_refs(pt_dom, pg_dom, level, new_val, &adjusted);
    if (rc)
        return rc;
    for (;;) {
        uint64_t want = preserve_ad ? adjusted | (seen & (PTE_A | PTE_D)) : adjusted;
        if (__atomic_compare_exchange_n(entry, &seen, want, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED))
            break;
        if (exact) { /* the hardware changed it since the caller read it */
            drop_pte_refs(pt_dom, level, adjusted);
            return -XEN_EAGAIN;
        }
    }
    drop_pte_refs(pt_dom, level, seen);
    return 0;
}

/*
 * An L1 entry (what nearly every update is: set_pte outside lazy-MMU mode,
 * update_va_mapping) takes replace_pte's copy compiled for level 1 and no
 * A/D preservation, with the reference helpers inlined; the same checks.
 */
int mod_l1_pte(struct domain *pt_dom, struct domain *pg_dom, uint64_t table_mfn,
               unsigned int index, uint64_t new_val)
{
    return replace_pte(pt_dom, pg_dom, table_mfn, 1, index, 0, new_val, false, false);
}

int mod_pte(struct domain *pt_dom, struct domain *pg_dom, uint64_t table_mfn,
            unsigned int level, unsigned int index, uint64_t new_val, bool preserve_ad)
{
    if (level == 1 && !preserve_ad)
        return mod_l1_pte(pt_dom, pg_dom, table_mfn, index, new_val);
    return replace_pte(pt_dom, pg_dom, table_mfn, level, index, 0, new_val, preserve_ad, false);
}

int mod_pte_if(struct domain *d, uint64_t table_mfn, unsigned int level, unsigned int index,
               uint64_t expected, uint64_t new_val)
{
    return replace_pte(d, d, table_mfn, level, index, expected, new_val, false, true);
}

/*
 * Descriptors: code and data segments (DPL raised to 3: the guest kernel runs
 * at CPL 3), and not-present entries. System descriptors (TSS, LDT, gates)
 * could reach ring 0 and are refused.
 */
int check_descriptor(struct domain *d, uint64_t desc, uint64_t *out)
{
    const uint64_t present = 1ull << 47, code_or_data = 1ull << 44;
    const uint64_t dpl_mask = 3ull << 45;

    if (!(desc & present)) {
        *out = desc;
        return 0;
    }
    if (!(desc & code_or_data)) {
        count_reject(d, PT_REJECT_BAD_DESCRIPTOR);
        return -XEN_EINVAL;
    }
    *out = desc | dpl_mask;
    return 0;
}

/* Checks every descriptor of a page, then applies the DPL fix-ups in place (as Xen). */
static int validate_descriptor_page(struct domain *d, uint64_t mfn)
{
    uint64_t *descs = frame_page(mfn);
    uint64_t fixed;
    for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
        if (check_descriptor(d, descs[i], &fixed))
            return -XEN_EINVAL;
    for (unsigned int i = 0; i < PAGE_SIZE / 8; i++) {
        check_descriptor(d, descs[i], &fixed);
        descs[i] = fixed;
    }
    return 0;
}
