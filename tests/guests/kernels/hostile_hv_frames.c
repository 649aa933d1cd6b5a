/*
 * hostile_hv_frames: frames the hypervisor keeps for itself, or writes on
 * the guest's behalf, can never become the guest's page tables or mappings;
 * and the LDT window is the hypervisor's, not a fault loop.
 *
 * Why: a frame the hypervisor writes through its own mapping (shared_info,
 * a registered vcpu_info) would, once pinned as a page table, let the
 * hypervisor write page-table entries nobody validated: a guest that pinned
 * shared_info as an L1 forged a PTE bit by bit with event sends and reached
 * hypervisor memory. Device frames the hypervisor drives (local APIC, I/O
 * APIC, HPET) mapped by the privileged domain let it send NMIs to every CPU.
 * A guest's own access to the LDT window used to take a reference per fault
 * and never succeed (a hang and a count leak), and an IRET to an LDT code
 * segment killed the domain instead of mapping the LDT.
 *
 * Checks (in this order, as each may end the run on a broken hypervisor):
 *  - mapping the local APIC (0xFEE00) writable or read-only into a pinned L1
 *    of ours: -EPERM (this domain is privileged, so ordinary device frames
 *    would be allowed); the I/O APIC (0xFEC00) and the HPET (0xFED00) asked
 *    for writable are mapped read-only (Xen 4.17 does the same for dom0);
 *  - explicit reads of pvkit's LDT windows for CPUs 0 and 1 while a real LDT
 *    is loaded: exactly one #PF each at that address, delivered to us; then
 *    after SET_LDT(0,0) the LDT page maps writable again (no leaked type);
 *  - an iret hypercall to CS = an LDT 64-bit code selector runs there (with
 *    RPL 3) and comes back; the LDT page is released after SET_LDT(0,0);
 *  - with vCPU 0's vcpu_info moved to a page of ours and shared_info zeroed
 *    and unmapped (so its contents would pass as empty tables), shared_info
 *    cannot be pinned as an L1, L2, L3 or L4 table nor used as a GDT frame
 *    (-EINVAL); decrease_reservation of it is reported (pvkit: 0 extents,
 *    the hypervisor's reference keeps it; Xen 4.17: 1, and keeps the page
 *    alive all the same); the registered vcpu_info frame cannot be pinned
 *    either; shared_info maps writable again afterwards.
 */
#include "traps.h"
#include "pt.h"
#include <xen/vcpu.h>

#define PTE_P  0x001UL
#define PTE_RW 0x002UL

#define LAPIC_MFN  0xFEE00UL
#define IOAPIC_MFN 0xFEC00UL
#define HPET_MFN   0xFED00UL

#define PVKIT_LDT_WINDOW 0xFFFF828000000000UL /* pvkit's LDT window, CPU 0 */
#define LDT_WINDOW_STRIDE 0x200000UL          /* one window per CPU */

#define DESC_CODE64 0x00affb000000ffffUL      /* 64-bit code, DPL 3 */
#define DESC_DATA   0x00cff3000000ffffUL      /* data, DPL 3 */

static char pool[12][4096] __attribute__((aligned(4096)));

static long vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
    return hypercall3(__HYPERVISOR_vcpu_op, (unsigned long)cmd, vcpu, (unsigned long)arg);
}

static long set_ldt(const void *base, unsigned int entries)
{
    struct mmuext_op op = { .cmd = MMUEXT_SET_LDT };
    op.arg1.linear_addr = (unsigned long)base;
    op.arg2.nr_ents = entries;
    return hyp_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

/*
 * Maps device frame MFN with FLAGS at entry IDX of the pinned L1; returns the
 * result and (if accepted) the entry as installed in *installed, then clears it.
 */
static long map_device(uint64_t *l1, int idx, unsigned long mfn, unsigned long flags,
                       uint64_t *installed)
{
    long rc = pt_mmu1(pt_ma_of(&l1[idx]), (mfn << 12) | flags);
    *installed = l1[idx];
    if (rc == 0)
        pt_mmu1(pt_ma_of(&l1[idx]), 0);
    return rc;
}

static void test_device_frames(void)
{
    uint64_t *l1 = pt_alloc(), e;
    long rc;

    TEST("device frames the hypervisor keeps: no mapping, or read-only");
    EXPECT_EQ(pt_map_ro(l1), 0);
    EXPECT_EQ(pt_pin(1, l1), 0);
    rc = map_device(l1, 0, LAPIC_MFN, PTE_P | PTE_RW, &e);
    guest_printf("     local APIC 0x%lx writable: %ld\n", LAPIC_MFN, rc);
    EXPECT_EQ(rc, -XEN_EPERM);
    EXPECT_EQ(map_device(l1, 0, LAPIC_MFN, PTE_P, &e), -XEN_EPERM);
    EXPECT_EQ(map_device(l1, 0, LAPIC_MFN + 0xff, PTE_P, &e), -XEN_EPERM); /* MSI window */
    rc = map_device(l1, 1, IOAPIC_MFN, PTE_P | PTE_RW, &e);
    guest_printf("     I/O APIC 0x%lx writable: %ld, entry 0x%lx\n", IOAPIC_MFN, rc,
                 (unsigned long)e);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(e & (PTE_P | PTE_RW), PTE_P);
    rc = map_device(l1, 2, HPET_MFN, PTE_P | PTE_RW, &e);
    guest_printf("     HPET 0x%lx writable: %ld, entry 0x%lx\n", HPET_MFN, rc, (unsigned long)e);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(e & (PTE_P | PTE_RW), PTE_P);
    EXPECT_EQ(pt_release(l1), 0);
}

/* Reads VA expecting one #PF there; returns the traps taken. */
static unsigned long read_expecting_fault(unsigned long va)
{
    unsigned long before = trap_last.count;
    __asm__ volatile(TRAP_PROBE_ASM("movq (%0), %%rax") : : "r"(va) : "rax", "r11", "memory");
    trap_resume = 0;
    return trap_last.count - before;
}

static void load_ds(unsigned long sel)
{
    __asm__ volatile("mov %0, %%ds" : : "r"(sel) : "memory");
}

static void test_ldt_window(uint64_t *ldt)
{
    TEST("explicit accesses to the LDT window fault once, leak nothing");
    ldt[0] = DESC_CODE64;
    ldt[1] = DESC_DATA;
    EXPECT_EQ(pt_map_ro(ldt), 0);
    EXPECT_EQ(set_ldt(ldt, 2), 0);
    load_ds(1 * 8 + 4 + 3); /* the CPU maps the window page on pvkit */
    for (unsigned long cpu = 0; cpu < 2; cpu++) {
        unsigned long va = PVKIT_LDT_WINDOW + cpu * LDT_WINDOW_STRIDE;
        for (int i = 0; i < 3; i++) {
            EXPECT_EQ(read_expecting_fault(va), 1);
            EXPECT_EQ(trap_last.vector, 14);
            EXPECT_EQ(trap_last.cr2, va);
        }
    }
    load_ds(FLAT_KERNEL_DS);
    EXPECT_EQ(set_ldt(NULL, 0), 0);
    EXPECT_EQ(pt_map_rw(ldt), 0);
}


static void test_iret_to_ldt_cs(uint64_t *ldt)
{
    TEST("iret to an LDT code segment maps the LDT and runs there");
    EXPECT_EQ(pt_map_ro(ldt), 0);
    EXPECT_EQ(set_ldt(ldt, 2), 0);
    EXPECT_EQ(trap_visit_cs(0 * 8 + 4), 0 * 8 + 4 + 3);
    EXPECT_EQ(trap_visit_cs(0 * 8 + 4), 0 * 8 + 4 + 3);
    EXPECT_EQ(set_ldt(NULL, 0), 0);
    EXPECT_EQ(pt_map_rw(ldt), 0);
}

static void test_shared_info_never_a_table(void)
{
    shared_info_t *si = pt_map_shared_info();
    uint8_t *vinfo_page = pt_alloc();
    unsigned long si_mfn = guest_start_info->shared_info >> 12;
    struct vcpu_register_vcpu_info reg = { .mfn = pt_mfn_of(vinfo_page), .offset = 64 };
    unsigned long frames[1] = { si_mfn };
    xen_pfn_t extent = si_mfn;
    struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };

    TEST("shared_info and vcpu_info can never become tables");
    EXPECT(si != NULL);
    si->vcpu_info[0].evtchn_upcall_mask = 1; /* no callback: no upcall when it moves */
    EXPECT_EQ(vcpu_op(VCPUOP_register_vcpu_info, 0, &reg), 0);
    trap_shared_info = NULL; /* CR2 now lives in the new vcpu_info */
    memset(si, 0, 4096);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)si, 0, UVMF_INVLPG), 0);
    for (int level = 1; level <= 4; level++) {
        struct mmuext_op pin = { .cmd = pt_pin_cmd(level) };
        pin.arg1.mfn = si_mfn;
        long rc = hyp_mmuext_op(&pin, 1, NULL, DOMID_SELF);
        guest_printf("     pin shared_info as L%d: %ld\n", level, rc);
        EXPECT_EQ(rc, -XEN_EINVAL);
        if (rc == 0) {
            pin.cmd = MMUEXT_UNPIN_TABLE;
            hyp_mmuext_op(&pin, 1, NULL, DOMID_SELF);
        }
    }
    EXPECT_EQ(hyp_set_gdt(frames, 16), -XEN_EINVAL);
    set_xen_guest_handle(r.extent_start, &extent);
    /* pvkit keeps it (0 extents); Xen 4.17 says 1 but keeps the page alive. */
    guest_printf("     decrease_reservation of shared_info: %ld\n",
                 hyp_memory_op(XENMEM_decrease_reservation, &r));
    struct mmuext_op pin = { .cmd = MMUEXT_PIN_L1_TABLE };
    pin.arg1.mfn = pt_mfn_of(vinfo_page);
    EXPECT_EQ(pt_map_ro(vinfo_page), 0);
    EXPECT_EQ(hyp_mmuext_op(&pin, 1, NULL, DOMID_SELF), -XEN_EINVAL);
    EXPECT_EQ(pt_map_rw(vinfo_page), 0);
    EXPECT(pt_map_shared_info() != NULL);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    pt_pool_init(pool, 12);
    EXPECT_EQ(trap_install(-1), 0);
    trap_shared_info = pt_map_shared_info();
    uint64_t *ldt = pt_alloc();
    test_device_frames();
    test_ldt_window(ldt);
    test_iret_to_ldt_cs(ldt);
    test_shared_info_never_a_table();
}
