/*
 * pvh_memprobe: a hostile PVH guest against its reservation ops, special
 * frames and sleep register (hypervisor/common/memory_op.c, grant_table.c,
 * vcpu.c, arch/x86/svm.c), for what pvh_memory and pvh_grant leave out.
 *
 * Checks: the pages the builder wrote for us (start_info, the ACPI tables,
 * the xenstore page) and a page the hypervisor wrote the hypercall page
 * into are plain pages of ours: each goes back and comes again, zeroed;
 * the hypercall-page MSR at a guest frame with no frame is #GP; the same
 * guest frame twice in one batch is given back once; extent orders 1..63
 * do nothing; a continuation start past the list's end does nothing;
 * grant-table frames mapped over the start_info, ACPI, store and console
 * ring guest frames and into the hole (each time the reservation drops
 * by one for a plain page of ours, not for the console ring, which the
 * hypervisor holds, nor for the hole), moved back and forth and two frames
 * at one guest frame in turn (the first leaves it, keeping its entries);
 * the table grown to its maximum (31); a vcpu_info registered in a grant
 * frame; OUTs to the sleep registers that are not S5 (other sizes, ports,
 * types, SLP_EN clear) leave us running; shared_info moved through every
 * 2 MiB region of the hole (each move may leave nested tables behind: the
 * audit and the free count at death say whether they come back). The audit at death
 * (audit=on-death) must find every count right.
 */
#include "pvh.h"
#include <xen/grant_table.h>
#include <xen/memory.h>
#include <xen/vcpu.h>

#define MEMOP_EXTENT_SHIFT 6
#define SLEEP_CONTROL      0x600
#define SLEEP_STATUS       0x601
#define S5_EN              ((5 << 2) | 0x20)
#define MAX_GFNS           (3ul << 18)

static uint8_t pages[16][4096] __attribute__((aligned(4096)));
static uint8_t hcpage[4096] __attribute__((aligned(4096)));
static unsigned long end_gfn;       /* first guest frame past RAM and the builder's pages */

static unsigned long gfn_of(const void *p)
{
    return ((unsigned long)p - GUEST_VIRT_BASE) >> 12;
}

static volatile uint8_t *gfn_ptr(unsigned long gfn)
{
    return (volatile uint8_t *)(GUEST_VIRT_BASE + (gfn << 12));
}

static long reservation(unsigned long cmd, unsigned long *list, unsigned long n, unsigned int order)
{
    struct xen_memory_reservation r = { .nr_extents = n, .extent_order = order, .domid = DOMID_SELF };
    set_xen_guest_handle(r.extent_start, list);
    return hypercall3(__HYPERVISOR_memory_op, cmd, (unsigned long)&r, 0);
}

static long one(unsigned long cmd, unsigned long gfn)
{
    unsigned long l[1] = { gfn };
    return reservation(cmd, l, 1, 0);
}

static long current_pages(void)
{
    domid_t self = DOMID_SELF;
    return hypercall3(__HYPERVISOR_memory_op, XENMEM_current_reservation, (unsigned long)&self, 0);
}

static long grant_frame_at(unsigned long idx, unsigned long gfn)
{
    struct xen_add_to_physmap x = { .domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
                                    .idx = idx, .gpfn = gfn };
    return hypercall3(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (unsigned long)&x, 0);
}

static long outw_probe(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
    return 0;
}

static long outl_probe(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
    return 0;
}

/* A page of ours given back and populated again: zeroed, the reservation as before. */
static void round_trip(unsigned long gfn, const char *what)
{
    long cur = current_pages();
    guest_printf("  %s at gfn %lx\n", what, gfn);
    EXPECT_EQ(one(XENMEM_decrease_reservation, gfn), 1);
    EXPECT_EQ(current_pages(), cur - 1);
    EXPECT_EQ(one(XENMEM_populate_physmap, gfn), 1);
    EXPECT_EQ(current_pages(), cur);
    volatile uint8_t *p = gfn_ptr(gfn);
    EXPECT_EQ(p[0] | p[4095], 0);
}

static void check_builder_pages(void)
{
    TEST("the builder's pages and the hypercall page are plain pages of ours");
    const struct hvm_memmap_table_entry *mm = (const void *)(unsigned long)pvh_start_info->memmap_paddr;
    const struct hvm_memmap_table_entry *last = &mm[pvh_start_info->memmap_entries - 1];
    end_gfn = (last->addr + last->size) >> 12;
    unsigned long si_gfn = (unsigned long)pvh_start_info >> 12;    /* identity-mapped */
    unsigned long acpi_gfn = pvh_start_info->rsdp_paddr >> 12;
    EXPECT_EQ(acpi_gfn, end_gfn - 1);
    round_trip(acpi_gfn, "ACPI tables");
    round_trip(end_gfn - 3, "xenstore page");
    EXPECT_EQ(pvh_wrmsr(0x40000000, gfn_of(hcpage) << 12), PVH_NO_TRAP);
    EXPECT(hcpage[0] != 0);
    round_trip(gfn_of(hcpage), "hypercall page");
    EXPECT_EQ(one(XENMEM_decrease_reservation, gfn_of(hcpage)), 1);
    EXPECT_EQ(pvh_wrmsr(0x40000000, gfn_of(hcpage) << 12), PVH_GP);   /* no frame there */
    EXPECT_EQ(pvh_wrmsr(0x40000000, (end_gfn + 100) << 12), PVH_GP);
    EXPECT_EQ(one(XENMEM_populate_physmap, gfn_of(hcpage)), 1);
    round_trip(si_gfn, "start_info");   /* last: it goes zeroed */
}

static void check_batches(void)
{
    TEST("one guest frame twice in a batch, extent orders, continuation starts");
    long cur = current_pages();
    unsigned long l[4] = { gfn_of(pages[0]), gfn_of(pages[0]), gfn_of(pages[1]) };
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, l, 3, 0), 1);
    EXPECT_EQ(current_pages(), cur - 1);
    EXPECT_EQ(reservation(XENMEM_populate_physmap, l, 3, 0), 1);   /* the second one is there */
    EXPECT_EQ(current_pages(), cur);
    static const unsigned int orders[] = { 1, 9, 18, 31, 32, 63, 64, 255 };
    for (unsigned int i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
        l[0] = gfn_of(pages[2]);
        EXPECT(reservation(XENMEM_decrease_reservation, l, 1, orders[i]) <= 0);
        EXPECT(reservation(XENMEM_populate_physmap, l, 1, orders[i]) <= 0);
        EXPECT(reservation(XENMEM_increase_reservation, l, 1, orders[i]) <= 0);
        EXPECT_EQ(current_pages(), cur);
    }
    pages[3][0] = 3;
    l[0] = gfn_of(pages[3]);
    EXPECT_EQ(reservation(XENMEM_decrease_reservation | (5ul << MEMOP_EXTENT_SHIFT), l, 2, 0), 5);
    EXPECT_EQ(reservation(XENMEM_decrease_reservation | (~0ul << MEMOP_EXTENT_SHIFT), l, 1, 0),
              (long)(~0ul >> MEMOP_EXTENT_SHIFT));
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, l, 1ul << 40, 0), 0);   /* too many */
    EXPECT_EQ(reservation(XENMEM_decrease_reservation, l, ~0ul, 0), 0);
    EXPECT_EQ(current_pages(), cur);
    EXPECT_EQ(pages[3][0], 3);
}

static void check_grant_frames(void)
{
    TEST("grant-table frames over the builder's pages, the hole, and each other");
    long cur = current_pages();
    unsigned long store = end_gfn - 3, console = end_gfn - 2, acpi = end_gfn - 1;
    EXPECT_EQ(grant_frame_at(0, acpi), 0);
    EXPECT_EQ(current_pages(), cur - 1);
    grant_entry_v1_t *e = (grant_entry_v1_t *)gfn_ptr(acpi);
    e[5].frame = 0xabc;
    EXPECT_EQ(grant_frame_at(0, store), 0);                 /* moved: the ACPI gfn is empty */
    EXPECT_EQ(current_pages(), cur - 2);
    EXPECT_EQ(((grant_entry_v1_t *)gfn_ptr(store))[5].frame, 0xabc);
    EXPECT_EQ(one(XENMEM_decrease_reservation, acpi), 0);
    EXPECT_EQ(grant_frame_at(0, acpi), 0);                  /* and back */
    EXPECT_EQ(one(XENMEM_decrease_reservation, store), 0);
    EXPECT_EQ(one(XENMEM_populate_physmap, store), 1);
    EXPECT_EQ(current_pages(), cur - 1);

    EXPECT_EQ(grant_frame_at(1, console), 0);               /* the console ring is held: kept */
    EXPECT_EQ(current_pages(), cur - 1);
    EXPECT_EQ(grant_frame_at(1, end_gfn + 7), 0);            /* into the hole */
    EXPECT_EQ(current_pages(), cur - 1);
    EXPECT_EQ(one(XENMEM_populate_physmap, console), 1);     /* the console gfn is empty now */
    EXPECT_EQ(current_pages(), cur);

    EXPECT_EQ(grant_frame_at(2, gfn_of(pages[4])), 0);
    ((grant_entry_v1_t *)pages[4])[1].frame = 0x222;
    EXPECT_EQ(grant_frame_at(3, gfn_of(pages[4])), 0);       /* frame 2 leaves it */
    EXPECT_EQ(((grant_entry_v1_t *)pages[4])[1].frame, 0);
    EXPECT_EQ(grant_frame_at(2, gfn_of(pages[5])), 0);
    EXPECT_EQ(((grant_entry_v1_t *)pages[5])[1].frame, 0x222);
    EXPECT_EQ(current_pages(), cur - 2);
    EXPECT_EQ(grant_frame_at(2, gfn_of(pages[5])), 0);       /* already there */
    EXPECT_EQ(current_pages(), cur - 2);

    EXPECT_EQ(grant_frame_at(31, gfn_of(pages[6])), 0);      /* the table at its maximum */
    EXPECT_EQ(grant_frame_at(32, gfn_of(pages[7])), -XEN_EINVAL);
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    EXPECT_EQ(hypercall3(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, (unsigned long)&q, 1), 0);
    EXPECT_EQ(q.nr_frames, 32);
    EXPECT_EQ(current_pages(), cur - 3);

    TEST("a vcpu_info registered in a grant frame");
    struct vcpu_register_vcpu_info vri = { .mfn = gfn_of(pages[5]), .offset = 64 };
    long rc = hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, (unsigned long)&vri);
    guest_printf("  register_vcpu_info in grant frame 2: %ld\n", rc);
    EXPECT(rc == 0 || rc == -XEN_EINVAL);
    EXPECT_EQ(one(XENMEM_decrease_reservation, gfn_of(pages[5])), 0);
    EXPECT_EQ(grant_frame_at(2, gfn_of(pages[8])), 0);       /* moved on, registered or not */
    EXPECT_EQ(one(XENMEM_populate_physmap, gfn_of(pages[5])), 1);
    EXPECT_EQ(current_pages(), cur - 3);
}

static void check_hops(void)
{
    TEST("shared_info hopped through every 2 MiB region of the hole");
    long cur = current_pages();
    unsigned long first = (end_gfn + 1024) & ~511ul, n = 0, g, refused = 0;
    for (g = first; g < MAX_GFNS; g += 512, n++) {
        struct xen_add_to_physmap x = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
                                        .gpfn = g + (n & 511) };
        refused += hypercall3(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (unsigned long)&x, 0) != 0;
    }
    EXPECT_EQ(refused, 0);
    guest_printf("  %lu hops, the last at gfn %lx\n", n, g - 512 + ((n - 1) & 511));
    struct xen_add_to_physmap back = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
                                       .gpfn = end_gfn + 20 };  /* in the hole we can reach */
    EXPECT_EQ(hypercall3(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (unsigned long)&back, 0), 0);
    const struct shared_info *si = (const void *)gfn_ptr(end_gfn + 20);
    EXPECT(si->wc_version >= 2);
    EXPECT_EQ(current_pages(), cur);
}

static void check_sleep_registers(void)
{
    TEST("the sleep registers: nothing but an S5 byte to the control register powers off");
    static const uint8_t bytes[] = { 0, 0xdf, 0x20, 0x14, 0x3c, 0x24, 0xd4 };
    for (unsigned int i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++)
        EXPECT_EQ(pvh_outb(SLEEP_CONTROL, bytes[i]), PVH_NO_TRAP);
    EXPECT_EQ(pvh_outb(SLEEP_STATUS, S5_EN), PVH_NO_TRAP);
    EXPECT_EQ(pvh_outb(SLEEP_CONTROL - 1, S5_EN), PVH_NO_TRAP);
    outw_probe(SLEEP_CONTROL, S5_EN);
    outl_probe(SLEEP_CONTROL, S5_EN);
    outw_probe(SLEEP_CONTROL - 1, S5_EN << 8);
    uint8_t v = 0;
    EXPECT_EQ(pvh_inb(SLEEP_CONTROL, &v), PVH_NO_TRAP);
    EXPECT_EQ(v, 0xff);
    EXPECT(current_pages() > 0);                             /* still running */
}

void test_main(void)
{
    check_builder_pages();
    check_batches();
    check_grant_frames();
    check_hops();
    check_sleep_registers();
}
