/*
 * pvh_memory: the reservation ops of a PVH guest, which name guest frames
 * (hypervisor/common/memory_op.c): what Linux's balloon does, and what a
 * hostile guest may try instead.
 *
 * Checks: decrease_reservation of one of our pages gives its frame back
 * (the reservation drops by one) and populate_physmap puts a fresh, zeroed
 * frame there again; a batch larger than one piece (continued) both ways;
 * with frames given back, populate_physmap may map a frame in the hole
 * above our memory (readable, writable, given back again), but no more
 * than the reservation allows. Hostile: decrease_reservation of a guest
 * frame never populated, of one given back already, past the guest-
 * physical limit, of frames the hypervisor holds (shared_info mapped over
 * a page, the registered vcpu_info, the console ring): each ends the batch
 * there, the frames before it done, the ones after it untouched;
 * populate_physmap over a frame we have (ours stays, contents and all) or
 * past the limit; increase_reservation (nothing: no guest frame to put a
 * frame at); order > 0, a bad extent list, another domain. The audit at
 * death (audit=on-death) must find every count right.
 */
#include "pvh.h"
#include <xen/memory.h>
#include <xen/vcpu.h>

#define BIG        320      /* extents: more than one piece (256 per piece) */
#define MAX_GFNS   (3ul << 18)

static uint8_t pages[BIG][4096] __attribute__((aligned(4096)));
static uint8_t shinfo_page[4096] __attribute__((aligned(4096)));
static uint8_t vcpu_info_page[4096] __attribute__((aligned(4096)));
static unsigned long list[BIG];

static unsigned long gfn_of(const void *p)
{
    return ((unsigned long)p - GUEST_VIRT_BASE) >> 12;
}

static const struct hvm_memmap_table_entry *memmap(void)
{
    return (const void *)(unsigned long)pvh_start_info->memmap_paddr;
}

/* The first guest frame past our memory (RAM and the reserved pages above it). */
static unsigned long memory_end_gfn(void)
{
    const struct hvm_memmap_table_entry *last = &memmap()[pvh_start_info->memmap_entries - 1];
    return (last->addr + last->size) >> 12;
}

/* A reservation op on ourselves: extents `n` of order `order` listed at `extents`. */
static long reservation(unsigned int cmd, unsigned long *extents, unsigned long n,
                        unsigned int order, uint16_t domid)
{
    struct xen_memory_reservation r = { .nr_extents = n, .extent_order = order, .domid = domid };
    set_xen_guest_handle(r.extent_start, extents);
    return hypercall3(__HYPERVISOR_memory_op, cmd, (unsigned long)&r, 0);
}

static long decrease(unsigned long *gfns, unsigned long n)
{
    return reservation(XENMEM_decrease_reservation, gfns, n, 0, DOMID_SELF);
}

static long populate(unsigned long *gfns, unsigned long n)
{
    return reservation(XENMEM_populate_physmap, gfns, n, 0, DOMID_SELF);
}

static long current_pages(void)
{
    domid_t self = DOMID_SELF;
    return hypercall3(__HYPERVISOR_memory_op, XENMEM_current_reservation, (unsigned long)&self, 0);
}

static void check_one_page(void)
{
    TEST("decrease_reservation and populate_physmap of one guest frame");
    domid_t self = DOMID_SELF;
    long cur = current_pages();
    EXPECT_EQ(hypercall3(__HYPERVISOR_memory_op, XENMEM_maximum_reservation,
                         (unsigned long)&self, 0), cur);   /* built full */
    EXPECT_EQ((unsigned long)cur, memory_end_gfn());
    pages[0][0] = 0xa5;
    pages[0][4095] = 0x5a;
    list[0] = gfn_of(pages[0]);
    EXPECT_EQ(decrease(list, 1), 1);
    EXPECT_EQ(current_pages(), cur - 1);
    EXPECT_EQ(decrease(list, 1), 0);            /* given back already */
    EXPECT_EQ(populate(list, 1), 1);
    EXPECT_EQ(list[0], gfn_of(pages[0]));       /* a translated guest gets no frame number */
    EXPECT_EQ(current_pages(), cur);
    EXPECT_EQ(pages[0][0] | pages[0][4095], 0); /* a fresh, zeroed frame */
    pages[0][7] = 7;
    EXPECT_EQ(pages[0][7], 7);
}

static void check_big_batch(void)
{
    TEST("a batch of more than one piece, both ways");
    long cur = current_pages();
    for (unsigned long i = 0; i < BIG; i++) {
        pages[i][1] = 0xee;
        list[i] = gfn_of(pages[i]);
    }
    EXPECT_EQ(decrease(list, BIG), BIG);
    EXPECT_EQ(current_pages(), cur - BIG);
    EXPECT_EQ(populate(list, BIG), BIG);
    EXPECT_EQ(current_pages(), cur);
    unsigned long nonzero = 0;
    for (unsigned long i = 0; i < BIG; i++)
        nonzero += pages[i][1] != 0;
    EXPECT_EQ(nonzero, 0);
}

static void check_hole(void)
{
    TEST("populate_physmap in the hole above our memory, up to the reservation");
    long cur = current_pages();
    unsigned long hole = memory_end_gfn() + 16;
    volatile uint8_t *hp = (volatile uint8_t *)(GUEST_VIRT_BASE + (hole << 12));
    list[0] = hole;
    EXPECT_EQ(populate(list, 1), 0);            /* the reservation is full */
    list[0] = gfn_of(pages[2]);
    list[1] = gfn_of(pages[3]);
    EXPECT_EQ(decrease(list, 2), 2);
    list[0] = hole;
    list[1] = hole + 1;
    list[2] = hole + 2;
    EXPECT_EQ(populate(list, 3), 2);            /* two frames to spend, not three */
    EXPECT_EQ(current_pages(), cur);
    EXPECT_EQ(hp[0] | hp[4096 + 4095], 0);
    hp[0] = 0x42;
    EXPECT_EQ(hp[0], 0x42);
    EXPECT_EQ(decrease(list, 2), 2);
    list[0] = gfn_of(pages[2]);
    list[1] = gfn_of(pages[3]);
    EXPECT_EQ(populate(list, 2), 2);
    EXPECT_EQ(current_pages(), cur);
}

static void check_hostile_decrease(void)
{
    TEST("hostile: decrease_reservation stops at a frame it may not take");
    unsigned long never = memory_end_gfn() + 64;
    const unsigned long bad[] = {
        never, MAX_GFNS, MAX_GFNS + 5, ~0ul, ~0ul >> 12,
        memory_end_gfn() - 2,       /* the console ring: the hypervisor serves it */
        gfn_of(shinfo_page),        /* shared_info is mapped there */
        gfn_of(vcpu_info_page),     /* our registered vcpu_info */
    };
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0,
        .gpfn = gfn_of(shinfo_page),
    };
    EXPECT_EQ(hypercall3(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (unsigned long)&xatp, 0), 0);
    struct vcpu_register_vcpu_info vri = { .mfn = gfn_of(vcpu_info_page), .offset = 0 };
    EXPECT_EQ(hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, (unsigned long)&vri), 0);
    long cur = current_pages();     /* less the page shared_info took the place of */
    for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        pages[5][0] = 1;
        pages[6][0] = 2;
        list[0] = gfn_of(pages[4]);
        list[1] = bad[i];
        list[2] = gfn_of(pages[5]);
        EXPECT_EQ(decrease(list, 3), 1);        /* the first, then the bad one ends it */
        EXPECT_EQ(current_pages(), cur - 1);
        EXPECT_EQ(pages[5][0], 1);              /* after it: untouched */
        EXPECT_EQ(decrease(&list[1], 1), 0);    /* alone: nothing done, no error */
        list[0] = gfn_of(pages[4]);
        EXPECT_EQ(populate(list, 1), 1);
    }
    EXPECT_EQ(current_pages(), cur);
    const struct shared_info *si = (const void *)shinfo_page;
    EXPECT(si->wc_version >= 2);                /* still shared_info */
}

static void check_hostile_populate(void)
{
    TEST("hostile: populate_physmap, increase_reservation and bad arguments");
    long cur = current_pages();
    pages[8][0] = 0x99;
    list[0] = gfn_of(pages[9]);
    EXPECT_EQ(decrease(list, 1), 1);            /* a frame to spend */
    list[0] = gfn_of(pages[8]);                 /* a frame we have */
    EXPECT_EQ(populate(list, 1), 0);
    EXPECT_EQ(pages[8][0], 0x99);
    list[0] = MAX_GFNS;
    EXPECT_EQ(populate(list, 1), 0);
    list[0] = ~0ul;
    EXPECT_EQ(populate(list, 1), 0);
    list[0] = gfn_of(pages[9]);
    EXPECT_EQ(reservation(XENMEM_increase_reservation, list, 1, 0, DOMID_SELF), 0);
    EXPECT_EQ(reservation(XENMEM_populate_physmap, list, 1, 1, DOMID_SELF), 0);  /* order 1 */
    EXPECT_EQ(reservation(XENMEM_populate_physmap, list, 1, 0, 0), -XEN_ESRCH); /* dom0's */
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, (unsigned long *)0x700000000000ul, 1, 0,
                          DOMID_SELF), -XEN_EFAULT);
    EXPECT_EQ(hypercall3(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, ~0ul, 0), -XEN_EFAULT);
    EXPECT_EQ(current_pages(), cur - 1);
    EXPECT_EQ(populate(list, 1), 1);
    EXPECT_EQ(current_pages(), cur);
    EXPECT_EQ(pages[9][0], 0);
}

void test_main(void)
{
    check_one_page();
    check_big_batch();
    check_hole();
    check_hostile_decrease();
    check_hostile_populate();
}
