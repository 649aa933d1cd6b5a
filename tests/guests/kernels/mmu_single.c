/*
 * mmu_single: the single-element mmu_update fast path against the general
 * batch path, request by request (issue 16 item 4).
 *
 * Why: a count-1 mmu_update for DOMID_SELF (what Linux issues for every
 * set_pte outside lazy-MMU mode) skips the batch loop and its bookkeeping,
 * and its L1 update runs a copy of the validation compiled for level 1
 * with the reference helpers inlined. If that copy were laxer than the
 * general one, a guest could map a page table writable, a frame it does
 * not own, or leak or lose a reference.
 *
 * How: every request is sent twice from the same starting state: as a
 * count-1 call (the fast path) and as the continuation of a batch (count 1
 * | PVKIT_BATCH_PREEMPTED with *done = 0: the general path, which reads
 * `done` first; Xen's MMU_UPDATE_PREEMPTED has the same meaning). Result,
 * `done` and the entry afterwards must agree, and match what the rules say.
 *
 * Checks, on entries of a pinned L1: our L4 and the L1 itself mapped
 * writable -> -EBUSY, entry unchanged; the L1 mapped read-only -> 0; a
 * foreign RAM frame, an address bit beyond the machine's width and the
 * local APIC refused, entry unchanged; RAM read-write and read-only -> 0,
 * stored with U; replacing a RW entry by a RO one and clearing it leaves no
 * writable type (the page pins as an L1 after); PRESERVE_AD and
 * MACHPHYS_UPDATE commands; a ptr into a frame we do not own, beyond RAM,
 * into a page that is no table (a plain store: 0, value written) and into
 * our L4's hypervisor slots; an unreadable request (NULL, a hypervisor
 * address) -> -EFAULT, nothing changed; an unwritable `done` after a good
 * update -> 0 with the update applied (the failed store is ignored, as
 * Xen does), and a batch of 2500 (continued after its first piece) with a
 * `done` neither readable nor writable -> 0, its last element applied; a good update reports done = 1. Entries are compared without
 * the bits a hypervisor may add or the CPU sets: A, D, and G and bit 52,
 * which Xen 4.17 sets in a 64-bit PV guest's entries.
 */
#include "traps.h"
#include "pt.h"
#include <stdbool.h>

/* Entry bits a hypervisor or the CPU may set beyond what was asked (see above). */
#define ENTRY_ADJUSTED (PTE_A | PTE_D | 0x100ull | (1ull << 52))

#define LAPIC_MFN 0xFEE00UL
#define HV_VA     0xFFFF830000000000UL  /* inside the hypervisor's L4 slots */

static char pool[16][4096] __attribute__((aligned(4096)));

/* What one path answered: result, done as written, and the entry after. */
struct answer {
    long rc;
    unsigned int done;
    uint64_t entry;
};

/*
 * Sends the request at req_va through the fast path (count 1) or the
 * general one (a continued batch of 1, *done = 0 beforehand); done: where
 * `done` goes (NULL: none, or an address the hypervisor cannot write).
 */
static long send_one(uint64_t req_va, unsigned int *done, bool general)
{
    return hypercall5(__HYPERVISOR_mmu_update, req_va,
                      general ? 1u | BATCH_PREEMPTED : 1u, (unsigned long)done,
                      DOMID_SELF, 0);
}

static mmu_update_t req;
/* More elements than one piece of a batch takes (1024 in pvkit), so the batch is continued. */
#define LONG_BATCH 2500u
static mmu_update_t long_batch[LONG_BATCH];
static unsigned int done;

/* Sets entry e of a live table back to 0 through the general path. */
static void clear_entry(uint64_t *e)
{
    req.ptr = pt_ma_of(e);
    req.val = 0;
    done = 0;
    EXPECT_EQ(send_one((uint64_t)&req, &done, true), 0);
}

/* A request both paths get, from the same state (entry 0 before each). */
struct single_case {
    const char *what;
    uint64_t *entry;        /* the entry req.ptr names (or one to watch) */
    uint64_t ptr, val;
    long want_rc;
    bool stored;            /* entry afterwards: val | U (else 0) */
    bool table;             /* entry is in a live table (else a plain page) */
};

/* One path's answer; the entry is cleared again afterwards. */
static struct answer answer_of(const struct single_case *c, bool general)
{
    struct answer a;
    req.ptr = c->ptr;
    req.val = c->val;
    done = 0;
    a.rc = send_one((uint64_t)&req, &done, general);
    a.done = done;
    a.entry = *c->entry;
    if (!c->table)
        *c->entry = 0;
    else if (a.entry)
        clear_entry(c->entry);
    return a;
}

static void compare(const struct single_case *c)
{
    struct answer fast = answer_of(c, false), slow = answer_of(c, true);
    guest_printf("     %s: fast %ld done %u entry 0x%lx; general %ld done %u entry 0x%lx\n",
                 c->what, fast.rc, fast.done, (unsigned long)fast.entry, slow.rc, slow.done,
                 (unsigned long)slow.entry);
    EXPECT_EQ(fast.rc, c->want_rc);
    EXPECT_EQ(slow.rc, c->want_rc);
    EXPECT_EQ(fast.done, c->want_rc ? 0u : 1u);
    EXPECT_EQ(slow.done, fast.done);
    EXPECT_EQ(fast.entry, slow.entry);
    EXPECT_EQ(fast.entry & ~ENTRY_ADJUSTED, c->stored ? (c->val | PTE_US) & ~ENTRY_ADJUSTED : 0);
}

static void test_entries(void)
{
    uint64_t *t = pt_alloc(), *plain = pt_alloc();
    void *data = pt_alloc();
    const uint64_t l4 = (uint64_t)pt_cur_l4_mfn << 12;
    const uint64_t foreign = (uint64_t)pt_foreign_mfn() << 12;
    const uint64_t self = pt_ma_of(t) & ~0xfffull;

    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    const struct single_case cases[] = {
        { "our L4 writable", &t[1], pt_ma_of(&t[1]), l4 | PTE_DATA_RW, -XEN_EBUSY, false, true },
        { "the L1 itself writable", &t[2], pt_ma_of(&t[2]), self | PTE_DATA_RW, -XEN_EBUSY,
          false, true },
        { "the L1 itself read-only", &t[3], pt_ma_of(&t[3]), self | PTE_DATA_RO | PTE_US, 0,
          true, true },
        { "a foreign frame read-only", &t[4], pt_ma_of(&t[4]), foreign | PTE_DATA_RO,
          -XEN_EBUSY, false, true },
        { "a foreign frame writable", &t[5], pt_ma_of(&t[5]), foreign | PTE_DATA_RW,
          -XEN_EBUSY, false, true },
        { "address bit 51", &t[6], pt_ma_of(&t[6]), pt_pte(data, PTE_DATA_RO) | (1ull << 51),
          -XEN_EPERM, false, true },
        { "the local APIC", &t[7], pt_ma_of(&t[7]), (LAPIC_MFN << 12) | PTE_P, -XEN_EPERM,
          false, true },
        { "RAM writable, no U", &t[8], pt_ma_of(&t[8]), pt_pte(data, PTE_DATA_RW), 0, true,
          true },
        { "RAM read-only", &t[511], pt_ma_of(&t[511]), pt_pte(data, PTE_DATA_RO), 0, true, true },
        { "PRESERVE_AD, RAM writable", &t[9], pt_ma_of(&t[9]) | MMU_PT_UPDATE_PRESERVE_AD,
          pt_pte(data, PTE_DATA_RW | PTE_US), 0, true, true },
        { "PRESERVE_AD, our L4 writable", &t[10], pt_ma_of(&t[10]) | MMU_PT_UPDATE_PRESERVE_AD,
          l4 | PTE_DATA_RW, -XEN_EBUSY, false, true },
        { "ptr into a foreign frame", &t[11], foreign | 8, pt_pte(data, PTE_DATA_RO), -XEN_EINVAL,
          false, true },
        { "ptr beyond RAM", &t[12], (1ull << 50) | 8, pt_pte(data, PTE_DATA_RO), -XEN_EINVAL,
          false, true },
        { "ptr into our L4's hypervisor slot 256", &t[13], l4 | (256 * 8),
          pt_pte(data, PTE_DATA_RO), -XEN_EINVAL, false, true },
        { "ptr into a page that is no table (a plain store)", &plain[5], pt_ma_of(&plain[5]),
          l4 | PTE_DATA_RW | PTE_US, 0, true, false },
        { "command 3", &t[14], pt_ma_of(&t[14]) | 3, pt_pte(data, PTE_DATA_RO), 0, true, true },
    };

    TEST("each single request: the fast path answers as the general one");
    for (unsigned int c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
        compare(&cases[c]);

    TEST("a RW entry replaced by a RO one, then cleared: no writable type is left");
    for (int general = 0; general < 2; general++) {
        req.ptr = pt_ma_of(&t[20]);
        req.val = pt_pte(data, PTE_DATA_RW);
        EXPECT_EQ(send_one((uint64_t)&req, &done, general), 0);
        EXPECT_EQ(pt_map_ro(data), 0);
        EXPECT_EQ(pt_pin_and_unpin(data), -XEN_EINVAL); /* typed writable through t[20] */
        req.val = pt_pte(data, PTE_DATA_RO);
        EXPECT_EQ(send_one((uint64_t)&req, &done, general), 0);
        EXPECT_EQ(pt_pin_and_unpin(data), 0);
        req.val = 0;
        EXPECT_EQ(send_one((uint64_t)&req, &done, general), 0);
        EXPECT_EQ(pt_map_rw(data), 0);
    }
    EXPECT_EQ(pt_unpin(t), 0);

    TEST("an L1 that is not pinned or typed is an ordinary page: a plain store, after which it will not pin");
    EXPECT_EQ(pt_map_rw(t), 0);
    req.ptr = pt_ma_of(&t[30]);
    req.val = l4 | PTE_DATA_RW;
    EXPECT_EQ(send_one((uint64_t)&req, &done, false), 0);
    EXPECT_EQ(t[30], l4 | PTE_DATA_RW);
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), -XEN_EBUSY);
    EXPECT_EQ(pt_map_rw(t), 0);
    t[30] = 0;
    EXPECT_EQ(pt_map_rw(data), 0);
}

static void test_bad_pointers(void)
{
    uint64_t *t = pt_alloc();
    void *data = pt_alloc();

    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    TEST("an unreadable request: -EFAULT from both paths, done 0, nothing changed");
    const uint64_t bad_reqs[] = { 0, HV_VA, 0x0000800000000000ul - 8 };
    for (unsigned int b = 0; b < sizeof(bad_reqs) / sizeof(bad_reqs[0]); b++)
        for (int general = 0; general < 2; general++) {
            done = 0;
            long rc = send_one(bad_reqs[b], &done, general);
            guest_printf("     request at 0x%lx (%s): %ld\n", (unsigned long)bad_reqs[b],
                         general ? "general" : "fast", rc);
            EXPECT_EQ(rc, -XEN_EFAULT);
            EXPECT_EQ(done, 0);
        }
    EXPECT_EQ(t[0], 0);

    TEST("an unwritable done after a good update: 0 from both, the update applied");
    for (int general = 0; general < 2; general++) {
        req.ptr = pt_ma_of(&t[40]);
        req.val = pt_pte(data, PTE_DATA_RO | PTE_US);
        /* the general path reads done first: give it the hypervisor address only for the fast one */
        unsigned int *bad_done = general ? (unsigned int *)t : (unsigned int *)HV_VA;
        long rc = send_one((uint64_t)&req, bad_done, general);
        guest_printf("     done at %p (%s): %ld, entry 0x%lx\n", (void *)bad_done,
                     general ? "general, read-only page" : "fast", rc, (unsigned long)t[40]);
        EXPECT_EQ(rc, 0);
        EXPECT_EQ(t[40] & ~ENTRY_ADJUSTED, req.val & ~ENTRY_ADJUSTED);
        clear_entry(&t[40]);
    }

    TEST("a batch longer than one piece with an unreadable done: 0, every element done");
    for (unsigned int i = 0; i < LONG_BATCH; i++) {
        long_batch[i].ptr = pt_ma_of(&t[41 + i % 8]);
        long_batch[i].val = i + 1 < LONG_BATCH ? 0 : pt_pte(data, PTE_DATA_RO | PTE_US);
    }
    long rc = hyp_mmu_update(long_batch, LONG_BATCH, (unsigned int *)HV_VA, DOMID_SELF);
    guest_printf("     %u elements, done at a hypervisor address: %ld, last entry 0x%lx\n",
                 LONG_BATCH, rc, (unsigned long)t[41 + (LONG_BATCH - 1) % 8]);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(t[41 + (LONG_BATCH - 1) % 8] & ~ENTRY_ADJUSTED,
              pt_pte(data, PTE_DATA_RO | PTE_US) & ~ENTRY_ADJUSTED);
    clear_entry(&t[41 + (LONG_BATCH - 1) % 8]);
    EXPECT_EQ(pt_unpin(t), 0);
    EXPECT_EQ(pt_map_rw(t), 0);
}

void test_main(void)
{
    pt_pool_init(pool, 16);
    EXPECT_EQ(trap_install(-1), 0);
    test_entries();
    test_bad_pointers();
}
