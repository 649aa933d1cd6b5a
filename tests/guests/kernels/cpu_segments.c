/*
 * cpu_segments: segment bases (set_segment_base), the guest GDT (set_gdt,
 * update_descriptor) and the descriptor checks behind them.
 *
 * Why: a PV kernel cannot write the base MSRs or load a GDT itself. Linux
 * sets FS/GS bases with set_segment_base (per-CPU data, TLS), hands its
 * one-page GDT to set_gdt and rewrites TLS entries with update_descriptor;
 * it loads its own selectors (__KERNEL_DS 0x18 and friends) at CPL 3,
 * which only works because the hypervisor raises descriptor DPLs to 3.
 * Hostile descriptors (call gates, writable GDT frames, too many entries)
 * must be refused.
 *
 * Checks: FS and GS_KERNEL bases seen through %fs:0 / %gs:0; GS_USER and
 * all three through the emulated RDMSR of FS_BASE/GS_BASE/KERNEL_GS_BASE;
 * GS_USER_SEL replaces only the user GS base; non-canonical bases and an
 * unknown `which`. set_gdt of a read-only page with Linux-like descriptors
 * (DPL fixed up to 3: DS/ES load 0x18|3 and 0x2b, an iret hypercall to
 * CS 0x10, which runs as 0x13, and back); update_descriptor of a GDT entry (selector loads) and of a
 * plain page; an empty entry gives #GP(sel), a not-present one #NP(sel);
 * hostile: set_gdt of a writable frame, of a page with a TSS descriptor,
 * of 7169 entries, with a bad frame list; update_descriptor with a TSS, a
 * call gate to Xen's ring-0 CS, an interrupt gate, misaligned, or outside
 * our memory. MMUEXT_SET_LDT with a real one-descriptor LDT: selector
 * 0x0f loads, 0x17 (beyond the entries) is #GP; misaligned base, 8193
 * entries and a hypervisor address are refused; an LDT page that is still
 * mapped writable is accepted but a load from it is a #PF.
 */
#include "traps.h"
#include "pt.h"
#include "seg.h"

#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

/* Linux-like flat descriptors, DPL as Linux writes them. */
#define DESC_KERNEL_CS 0x00af9b000000ffffUL   /* 0x10: 64-bit code, DPL 0 */
#define DESC_KERNEL_DS 0x00cf93000000ffffUL   /* 0x18: data, DPL 0 */
#define DESC_USER_CS32 0x00cffb000000ffffUL   /* 0x23 */
#define DESC_USER_DS   0x00cff3000000ffffUL   /* 0x2b */
#define DESC_USER_CS   0x00affb000000ffffUL   /* 0x33 */
#define DESC_TSS       0x0000890000000067UL   /* 64-bit TSS (system, type 9) */
#define DESC_GATE_XEN  0x8000ec00e0081000UL   /* call gate to Xen's ring-0 CS 0xe008 */
#define DESC_INT_GATE  0x8000ee00e0331000UL   /* interrupt gate (type 0xe) */
#define DESC_DATA_NP   0x00cf73000000ffffUL   /* data, DPL 3, not present */
#define DESC_DPL_MASK  (3UL << 45)

static char pool[10][4096] __attribute__((aligned(4096)));

/* RDMSR (emulated for a PV kernel). */
static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;

    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

/* set_segment_base for FS, GS_KERNEL, GS_USER, GS_USER_SEL. */
static void test_segment_bases(void)
{
    uint64_t *fs_page = pt_alloc(), *kgs_page = pt_alloc();

    TEST("set_segment_base");
    fs_page[0] = 0xf5f5f5f5UL;
    kgs_page[0] = 0x65656565UL;
    EXPECT_EQ(hyp_set_segment_base(SEGBASE_FS, (unsigned long)fs_page), 0);
    EXPECT_EQ(read_fs0(), 0xf5f5f5f5UL);
    EXPECT_EQ(rdmsr(MSR_FS_BASE), (unsigned long)fs_page);
    EXPECT_EQ(hyp_set_segment_base(SEGBASE_GS_KERNEL, (unsigned long)kgs_page), 0);
    EXPECT_EQ(read_gs0(), 0x65656565UL);
    EXPECT_EQ(rdmsr(MSR_GS_BASE), (unsigned long)kgs_page);
    EXPECT_EQ(hyp_set_segment_base(SEGBASE_GS_USER, 0x12345000UL), 0);
    EXPECT_EQ(rdmsr(MSR_KERNEL_GS_BASE), 0x12345000UL);
    EXPECT_EQ(read_gs0(), 0x65656565UL);
    EXPECT_EQ(hyp_set_segment_base(SEGBASE_GS_USER_SEL, FLAT_USER_DS32), 0);
    EXPECT_EQ(rdmsr(MSR_KERNEL_GS_BASE), 0);
    EXPECT_EQ(rdmsr(MSR_GS_BASE), (unsigned long)kgs_page);
    EXPECT_EQ(read_gs0(), 0x65656565UL);
    EXPECT_EQ(hyp_set_segment_base(SEGBASE_GS_USER_SEL, 0), 0);
    EXPECT_EQ(hyp_set_segment_base(SEGBASE_FS, 0x0000800000000000UL), -XEN_EINVAL);
    EXPECT_EQ(hyp_set_segment_base(SEGBASE_GS_KERNEL, 0x8000000000000000UL), -XEN_EINVAL);
    EXPECT_EQ(hyp_set_segment_base(SEGBASE_GS_USER, 0x0000800000000000UL), -XEN_EINVAL);
    EXPECT_EQ(read_fs0(), 0xf5f5f5f5UL);
    EXPECT_EQ(hyp_set_segment_base(4, 0), -XEN_EINVAL);
    EXPECT_EQ(hyp_set_segment_base(SEGBASE_FS, 0), 0);
}

/* Loads DS and ES with SEL (faults are caught); returns the trap delta. */
static unsigned long load_ds_es(unsigned long sel)
{
    unsigned long before = trap_last.count;

    __asm__ volatile(TRAP_PROBE_ASM("mov %0, %%ds\n\tmov %0, %%es")
                     : : "r"(sel) : "r11", "memory");
    trap_resume = 0;
    return trap_last.count - before;
}


/* Fills GDT page G with the Linux-like descriptors. */
static void fill_gdt(uint64_t *g)
{
    g[2] = DESC_KERNEL_CS;
    g[3] = DESC_KERNEL_DS;
    g[4] = DESC_USER_CS32;
    g[5] = DESC_USER_DS;
    g[6] = DESC_USER_CS;
}

/* set_gdt of a Linux-like page; DPL fix-up; update_descriptor. */
static void test_gdt(uint64_t *gdt)
{
    unsigned long frame = pt_mfn_of(gdt);
    uint64_t tls = 0x00cff3000000ffffUL;

    TEST("set_gdt with Linux-like descriptors, DPL fix-up");
    fill_gdt(gdt);
    EXPECT_EQ(pt_map_ro(gdt), 0);
    EXPECT_EQ(hyp_set_gdt(&frame, 16), 0);
    guest_printf("     GDT after set_gdt: 0x10 %lx, 0x18 %lx\n",
                 (unsigned long)gdt[2], (unsigned long)gdt[3]);
    EXPECT_EQ(gdt[2] & DESC_DPL_MASK, DESC_DPL_MASK);
    EXPECT_EQ(gdt[3] & DESC_DPL_MASK, DESC_DPL_MASK);
    EXPECT_EQ(load_ds_es(0x18 | 3), 0);
    EXPECT_EQ(load_ds_es(0x2b), 0);
    EXPECT_EQ(trap_visit_cs(0x10), 0x13);
    EXPECT_EQ(pt_map_rw(gdt), -XEN_EBUSY);

    TEST("update_descriptor");
    EXPECT_EQ(hyp_update_descriptor(pt_ma_of(&gdt[12]), tls), 0);
    EXPECT_EQ(gdt[12], tls);
    EXPECT_EQ(load_ds_es(12 * 8 + 3), 0);
    EXPECT_EQ(hyp_update_descriptor(pt_ma_of(&gdt[13]), DESC_KERNEL_DS), 0);
    guest_printf("     DPL-0 data descriptor stored as %lx\n", (unsigned long)gdt[13]);
    EXPECT_EQ(gdt[13] & DESC_DPL_MASK, DESC_DPL_MASK);
    EXPECT_EQ(load_ds_es(13 * 8 + 3), 0);
    EXPECT_EQ(load_ds_es(15 * 8 + 3), 1);   /* empty entry: #GP(selector) */
    EXPECT_EQ(trap_last.vector, 13);
    EXPECT_EQ(trap_last.error, 15 * 8);
    EXPECT_EQ(hyp_update_descriptor(pt_ma_of(&gdt[14]), DESC_DATA_NP), 0);
    EXPECT_EQ(load_ds_es(14 * 8 + 3), 1);   /* not present: #NP(selector) */
    EXPECT_EQ(trap_last.vector, 11);
    EXPECT_EQ(trap_last.error, 14 * 8);
    EXPECT_EQ(load_ds_es(0x2b), 0);
}

/* update_descriptor of GDT entry 9 with DESC must fail and change nothing. */
static void expect_bad_desc(uint64_t *gdt, const char *what, uint64_t desc)
{
    long rc = hyp_update_descriptor(pt_ma_of(&gdt[9]), desc);

    guest_printf("     update_descriptor with a %s: %ld\n", what, rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    EXPECT_EQ(gdt[9], 0);
}

/* Descriptor hostilities: each refused, the GDT still usable. */
static void test_gdt_hostile(uint64_t *gdt)
{
    uint64_t *rw = pt_alloc(), *gate = pt_alloc(), *plain = pt_alloc();
    unsigned long frame;
    long rc;

    TEST("hostile set_gdt and update_descriptor");
    fill_gdt(rw);
    frame = pt_mfn_of(rw);
    rc = hyp_set_gdt(&frame, 16);
    guest_printf("     set_gdt of a writable frame: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    fill_gdt(gate);
    gate[8] = DESC_TSS;
    EXPECT_EQ(pt_map_ro(gate), 0);
    frame = pt_mfn_of(gate);
    rc = hyp_set_gdt(&frame, 16);
    guest_printf("     set_gdt with a TSS descriptor: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    EXPECT_EQ(pt_map_rw(gate), 0);
    frame = pt_mfn_of(gdt);
    EXPECT_EQ(hyp_set_gdt(&frame, 7169), -XEN_EINVAL);
    EXPECT_EQ(hyp_set_gdt((void *)0xFFFF830000000000UL, 16), -XEN_EFAULT);
    expect_bad_desc(gdt, "TSS", DESC_TSS);
    expect_bad_desc(gdt, "call gate to Xen's CS", DESC_GATE_XEN);
    expect_bad_desc(gdt, "interrupt gate", DESC_INT_GATE);
    EXPECT_EQ(hyp_update_descriptor(pt_ma_of(&gdt[9]) + 4, DESC_USER_DS), -XEN_EINVAL);
    EXPECT_EQ(hyp_update_descriptor(pt_foreign_mfn() << 12, DESC_USER_DS), -XEN_EINVAL);
    EXPECT_EQ(hyp_update_descriptor(pt_ma_of(&plain[5]), DESC_USER_DS), 0);
    EXPECT_EQ(plain[5], DESC_USER_DS);
    EXPECT_EQ(load_ds_es(0x18 | 3), 0);
    EXPECT_EQ(load_ds_es(0x2b), 0);
}

/* MMUEXT_SET_LDT with one real descriptor; LDT selectors load. */
static void test_ldt(void)
{
    uint64_t *ldt = pt_alloc(), *rw_ldt = pt_alloc();
    struct mmuext_op op = { .cmd = MMUEXT_SET_LDT };
    long rc;

    TEST("MMUEXT_SET_LDT with entries");
    ldt[1] = DESC_USER_DS;
    EXPECT_EQ(pt_map_ro(ldt), 0);
    op.arg1.linear_addr = (unsigned long)ldt;
    op.arg2.nr_ents = 2;
    EXPECT_EQ(hyp_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
    EXPECT_EQ(load_ds_es(1 * 8 + 4 + 3), 0);
    EXPECT_EQ(load_ds_es(2 * 8 + 4 + 3), 1);           /* beyond nr_ents */
    EXPECT_EQ(trap_last.vector, 13);
    EXPECT_EQ(load_ds_es(0x2b), 0);
    op.arg1.linear_addr = (unsigned long)ldt + 8;
    EXPECT_EQ(hyp_mmuext_op(&op, 1, NULL, DOMID_SELF), -XEN_EINVAL);
    op.arg1.linear_addr = (unsigned long)ldt;
    op.arg2.nr_ents = 8193;
    EXPECT_EQ(hyp_mmuext_op(&op, 1, NULL, DOMID_SELF), -XEN_EINVAL);
    op.arg1.linear_addr = 0xFFFF830000000000UL;
    op.arg2.nr_ents = 2;
    EXPECT_EQ(hyp_mmuext_op(&op, 1, NULL, DOMID_SELF), -XEN_EINVAL);
    rw_ldt[1] = DESC_USER_DS;
    op.arg1.linear_addr = (unsigned long)rw_ldt;
    EXPECT_EQ(hyp_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);   /* mapped lazily */
    rc = (long)load_ds_es(1 * 8 + 4 + 3);
    guest_printf("     load from a writable LDT page: %ld trap(s), vector %lu error 0x%lx cr2 0x%lx\n",
                 rc, trap_last.vector, trap_last.error, trap_last.cr2);
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(trap_last.vector, 14);
    EXPECT_EQ(load_ds_es(0x2b), 0);
    op.arg1.linear_addr = 0;
    op.arg2.nr_ents = 0;
    EXPECT_EQ(hyp_mmuext_op(&op, 1, NULL, DOMID_SELF), 0);
    EXPECT_EQ(pt_map_rw(ldt), 0);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    uint64_t *gdt;

    pt_pool_init(pool, 10);
    EXPECT_EQ(trap_install(-1), 0);
    trap_shared_info = pt_map_shared_info();
    test_segment_bases();
    gdt = pt_alloc();
    test_gdt(gdt);
    test_gdt_hostile(gdt);
    test_ldt();
}
