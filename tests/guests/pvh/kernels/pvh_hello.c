/*
 * pvh_hello: a PVH domain boots and talks to the hypervisor.
 *
 * Checks: xen_version and a console write from 32-bit protected mode with
 * paging off (EBX/ECX/EDX convention, made by pvh_entry.S); we got here
 * (our CR4.PAE and EFER.LME writes were emulated, long mode is on); hvm_start_info (magic, version, command line,
 * one RAM range in the memory map that holds us, the initrd as module 0
 * when there is one); console output (all of
 * this log); the reserved range above RAM with the ACPI tables; xen_version and its extraversion copied into our memory
 * through our own page tables; the Xen CPUID leaves and the hidden
 * features; EFER reads back without SVME; the MSRs that are the guest's own
 * (bases, SYSCALL/SYSENTER) hold what it writes; shared_info mapped with
 * XENMEM_add_to_physmap shows the wall clock; the hypercall page installed
 * through the Xen MSR works; HLT returns once a timer event is pending;
 * SCHEDOP_yield. The verdict's poweroff is SCHEDOP_shutdown.
 */
#include "pvh.h"
#include <xen/event_channel.h>
#include <xen/memory.h>

static char hcpage[4096] __attribute__((aligned(4096)));

static void check_start_info(void)
{
    TEST("hvm_start_info");
    const struct hvm_start_info *si = pvh_start_info;
    EXPECT_EQ(si->magic, XEN_HVM_START_MAGIC_VALUE);
    EXPECT_EQ(si->version, 1);
    EXPECT(si->cmdline_paddr != 0);
    const char *cmdline = (const char *)(unsigned long)si->cmdline_paddr;
    guest_printf("command line: %s\n", cmdline);
    EXPECT(guest_strstr(cmdline, "pvkit-guest-test a=1,b=2") != NULL);
    EXPECT_EQ(si->memmap_entries, 2);
    const struct hvm_memmap_table_entry *m =
        (const void *)(unsigned long)si->memmap_paddr;
    EXPECT_EQ(m->addr, 0);
    EXPECT_EQ(m->type, XEN_HVM_MEMMAP_TYPE_RAM);
    EXPECT(m->size >= (4ul << 20) && m->size > si->cmdline_paddr);
    /* Above RAM, reserved: the store page, the console ring, the ACPI tables (the RSDP). */
    EXPECT_EQ(m[1].addr, m->size);
    EXPECT_EQ(m[1].size, 3 * 4096);
    EXPECT_EQ(m[1].type, XEN_HVM_MEMMAP_TYPE_RESERVED);
    EXPECT_EQ(si->rsdp_paddr, m->size + 2 * 4096);
    /* Run as pvh_hello, tests/guests/run gives an initrd (an ELF file); as pvh_pair, none. */
    if (guest_strncmp(cmdline, "pvh_hello ", 10) == 0) {
        EXPECT_EQ(si->nr_modules, 1);
        const struct hvm_modlist_entry *mod = (const void *)(unsigned long)si->modlist_paddr;
        EXPECT(mod->paddr > si->cmdline_paddr && mod->size > 4);
        EXPECT(mod->paddr + mod->size <= m->size);
        EXPECT_EQ(guest_memcmp((const void *)(unsigned long)mod->paddr, "\177ELF", 4), 0);
    } else {
        EXPECT_EQ(si->nr_modules, 0);
    }
}

static void check_version(void)
{
    TEST("xen_version");
    long v = hyp_xen_version(XENVER_version, NULL);
    guest_printf("xen_version: %ld.%ld\n", v >> 16, v & 0xffff);
    EXPECT_EQ(v, (4 << 16) | 17);
    xen_extraversion_t extra;
    memset(extra, 0x55, sizeof(extra));
    EXPECT_EQ(hyp_xen_version(XENVER_extraversion, extra), 0);
    EXPECT(guest_strnlen(extra, sizeof(extra)) < sizeof(extra));
}

static void check_cpuid(void)
{
    TEST("cpuid");
    uint32_t r[4];
    pvh_cpuid(0x40000000, 0, r);
    EXPECT(r[0] >= 0x40000002);
    EXPECT_EQ(r[1], 0x566e6558); /* "XenV" */
    EXPECT_EQ(r[2], 0x65584d4d); /* "MMXe" */
    EXPECT_EQ(r[3], 0x4d4d566e); /* "nVMM" */
    pvh_cpuid(1, 0, r);
    EXPECT(r[2] & (1u << 31));   /* hypervisor present */
    EXPECT(!(r[2] & (1u << 3))); /* no MONITOR */
    EXPECT(r[3] & (1u << 3));    /* PSE and PGE: its own paging has them */
    EXPECT(r[3] & (1u << 13));
    pvh_cpuid(0x80000001, 0, r);
    EXPECT(!(r[2] & (1u << 2))); /* no SVM for the guest */
}

static void check_msrs(void)
{
    TEST("EFER and the hypercall page");
    uint64_t efer = 0;
    EXPECT_EQ(pvh_rdmsr(0xC0000080, &efer), PVH_NO_TRAP);
    EXPECT(efer & (1u << 10));   /* LMA: we are in long mode */
    EXPECT(!(efer & (1u << 12))); /* SVME is the hypervisor's */
    uint32_t r[4];
    pvh_cpuid(0x40000002, 0, r);
    EXPECT_EQ(r[1], 0x40000000);
    unsigned long pa = (unsigned long)hcpage - GUEST_VIRT_BASE;
    EXPECT_EQ(pvh_wrmsr(r[1], pa), PVH_NO_TRAP);
    long (*stub)(void) = (long (*)(void))(hcpage + __HYPERVISOR_xen_version * 32);
    long v;
    __asm__ volatile("call *%1" : "=a"(v) : "r"(stub), "D"(XENVER_version), "S"(0)
                     : "rcx", "rdx", "r8", "r10", "r11", "memory");
    EXPECT_EQ(v, (4 << 16) | 17);
}

/*
 * The MSRs that are the guest's own (VMLOAD/VMSAVE swap them): written with
 * values that would wreck the hypervisor or a PV domain if they stayed in
 * the CPU (as pvh_pair runs us, on one CPU with maxcpus=1, the PV domain
 * makes its SYSCALL hypercalls on this CPU after our HLT), read back.
 */
static void check_own_msrs(void)
{
    static const uint32_t msrs[] = { 0x174, 0x175, 0x176, 0xC0000081, 0xC0000082,
                                     0xC0000083, 0xC0000084, 0xC0000100, 0xC0000101,
                                     0xC0000102 };
    TEST("the guest's own MSRs");
    for (unsigned int i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++) {
        uint64_t want = 0x5000ul + i * 8, got = 0; /* 16 bits: SYSENTER_CS keeps no more */
        EXPECT_EQ(pvh_wrmsr(msrs[i], want), PVH_NO_TRAP);
        EXPECT_EQ(pvh_rdmsr(msrs[i], &got), PVH_NO_TRAP);
        EXPECT_EQ(got, want);
    }
}

/* XENMEM_add_to_physmap: shared_info appears over one of our pages. */
static void check_shared_info(void)
{
    static char page[4096] __attribute__((aligned(4096)));
    TEST("shared_info through XENMEM_add_to_physmap");
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0,
        .gpfn = ((unsigned long)page - GUEST_VIRT_BASE) >> 12,
    };
    EXPECT_EQ(hypercall3(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, (unsigned long)&xatp, 0), 0);
    const struct shared_info *si = (const struct shared_info *)page;
    EXPECT(si->wc_version >= 2 && !(si->wc_version & 1));   /* the wall clock is there */
    EXPECT(si->wc_sec > 1000000000u);
}

static void check_halt(void)
{
    TEST("HLT ends with a timer event");
    struct evtchn_bind_virq bind = { .virq = VIRQ_TIMER, .vcpu = 0 };
    EXPECT_EQ(hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq,
                         (unsigned long)&bind, 0), 0);
    EXPECT(bind.port > 0);
    EXPECT_EQ(hypercall3(__HYPERVISOR_set_timer_op, 1, 0, 0), 0); /* long past: fires now */
    __asm__ volatile("hlt");
    EXPECT(1);                   /* reached: the halt ended */
    EXPECT_EQ(hyp_sched_op(SCHEDOP_yield, NULL), 0);
}

void test_main(void)
{
    TEST("pvh_hello: hypercalls from 32-bit mode, then long mode");
    EXPECT_EQ(pvh_version32, (4 << 16) | 17);
    EXPECT_EQ(pvh_console32, 0);
    check_start_info();
    check_version();
    check_cpuid();
    check_msrs();
    check_own_msrs();
    check_shared_info();
    check_halt();
}
