/*
 * pvh_hostile: a PVH guest pokes at everything the hypervisor intercepts,
 * with values it must refuse, and checks that it sees what hardware would
 * show it (#GP, #UD, an empty bus, an error code) and that it keeps
 * running: every line after a probe proves the hypervisor survived.
 *
 * MSRs: unknown, the hypervisor's own (VM_CR, VM_HSAVE_PA), EFER
 * with SVME or an LME change under paging, PAT with reserved types, the
 * hypercall-page MSR with a page outside our memory. Ports: the QEMU exit
 * port, the serial port, PCI configuration (nothing reaches a device:
 * reads are all ones, writes dropped; the machine would stop if the exit
 * port write got through), string I/O (#GP). CR4 bits we may not set and
 * clearing PAE in long mode (#GP); CR0 writes the CPU itself refuses. SVM
 * instructions and hidden features (#UD); RDPMC (#GP); WBINVD and INVD
 * (harmless).
 * VMMCALL with unknown numbers, PV-only numbers, garbage sub-ops, and
 * pointers that are unmapped in our page tables or mapped by them but
 * outside our memory (-ENOSYS, -EFAULT, never a crash); memory_op's
 * add_to_physmap refusals, reservation ops with an unreadable argument (pvh_memory
 * has the rest), ops a PVH guest does not get.
 */
#include "pvh.h"
#include <xen/event_channel.h>
#include <xen/memory.h>

#define MSR_EFER        0xC0000080
#define MSR_PAT         0x00000277
#define MSR_VM_CR       0xC0010114
#define MSR_VM_HSAVE_PA 0xC0010117
#define MSR_XEN         0x40000000
#define EFER_LME        (1ul << 8)
#define EFER_SVME       (1ul << 12)

/* A guest address our page tables map (the 1 GiB identity map) but our memory does not hold. */
/* The end of what the domain has: its RAM and the reserved pages right above it (the last range). */
static unsigned long memory_end(void)
{
    const struct hvm_memmap_table_entry *m =
        (const void *)(unsigned long)pvh_start_info->memmap_paddr;
    const struct hvm_memmap_table_entry *last = &m[pvh_start_info->memmap_entries - 1];
    return last->addr + last->size;
}

static unsigned long beyond_memory(void)
{
    return memory_end() + (4ul << 20);
}

static void check_msrs(void)
{
    TEST("MSRs the guest may not have: #GP");
    uint64_t v, efer;
    EXPECT_EQ(pvh_rdmsr(0xdeadbeef, &v), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(0xdeadbeef, 1), PVH_GP);
    EXPECT_EQ(pvh_rdmsr(MSR_VM_CR, &v), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(MSR_VM_CR, 0), PVH_GP);
    EXPECT_EQ(pvh_rdmsr(MSR_VM_HSAVE_PA, &v), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(MSR_VM_HSAVE_PA, 0x1000), PVH_GP);
    EXPECT_EQ(pvh_rdmsr(MSR_EFER, &efer), PVH_NO_TRAP);
    EXPECT_EQ(pvh_wrmsr(MSR_EFER, efer | EFER_SVME), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(MSR_EFER, efer & ~EFER_LME), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(MSR_EFER, efer | (1ul << 63)), PVH_GP);
    EXPECT_EQ(pvh_rdmsr(MSR_EFER, &v), PVH_NO_TRAP);
    EXPECT_EQ(v, efer);
    EXPECT_EQ(pvh_wrmsr(MSR_PAT, 0x0007040600070402ul), PVH_GP);   /* type 2 */
    EXPECT_EQ(pvh_wrmsr(MSR_PAT, 0x0007040600070408ul), PVH_GP);   /* type 8 */
    EXPECT_EQ(pvh_wrmsr(MSR_XEN, beyond_memory()), PVH_GP);
    EXPECT_EQ(pvh_wrmsr(MSR_XEN, 0x100800), PVH_GP);                 /* not page-aligned */
    EXPECT_EQ(pvh_wrmsr(MSR_XEN, 0xfffffffffffff000ul), PVH_GP);
}

static void check_ports(void)
{
    TEST("I/O ports: an empty bus");
    uint8_t b = 0;
    EXPECT_EQ(pvh_outb(0xf4, 0x10), PVH_NO_TRAP);   /* QEMU's exit port: must not stop the machine */
    EXPECT_EQ(pvh_outb(0x3f8, 'X'), PVH_NO_TRAP);
    EXPECT_EQ(pvh_inb(0xf4, &b), PVH_NO_TRAP);
    EXPECT_EQ(b, 0xff);
    EXPECT_EQ(pvh_inb(0x3fd, &b), PVH_NO_TRAP);
    EXPECT_EQ(b, 0xff);
    uint32_t l = 0x12345678;
    __asm__ volatile("outl %0, %w1; inl %w1, %0" : "+a"(l) : "d"(0xcf8));
    EXPECT_EQ(l, 0xffffffff);
    static uint8_t buf[4];
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "insb" PVH_PROBE_END
                     : : "D"(buf), "d"(0x60) : "r11", "memory");
    EXPECT_EQ(pvh_trap_vector, PVH_GP);
}

static void check_crs(void)
{
    TEST("CR writes refused: #GP");
    unsigned long cr4, cr0;
    __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    EXPECT(cr4 & (1ul << 5));
    EXPECT_EQ(pvh_write_cr4(cr4 | (1ul << 13)), PVH_GP);   /* VMXE */
    EXPECT_EQ(pvh_write_cr4(cr4 | (1ul << 18)), PVH_GP);   /* OSXSAVE: XSAVE is hidden */
    EXPECT_EQ(pvh_write_cr4(cr4 | (1ul << 22)), PVH_GP);   /* PKE */
    EXPECT_EQ(pvh_write_cr4(cr4 | (1ul << 30)), PVH_GP);   /* reserved */
    EXPECT_EQ(pvh_write_cr4(cr4 & ~(1ul << 5)), PVH_GP);   /* PAE off in long mode */
    EXPECT_EQ(pvh_write_cr4(cr4 | (1ul << 9) | (1ul << 7) | (1ul << 4)), PVH_NO_TRAP);
    unsigned long now;                                      /* OSFXSR, PGE, PSE: allowed */
    __asm__ volatile("mov %%cr4, %0" : "=r"(now));
    EXPECT_EQ(now, cr4 | (1ul << 9) | (1ul << 7) | (1ul << 4));
    EXPECT_EQ(pvh_write_cr0(cr0 | (1ul << 63)), PVH_GP);   /* reserved: the CPU refuses */
    EXPECT_EQ(pvh_write_cr0(cr0 & ~1ul), PVH_GP);          /* PE off with PG on */
}

static void check_instructions(void)
{
    TEST("SVM instructions and hidden features: #UD");
    for (unsigned int i = 0; i < PVH_FORBIDDEN_COUNT; i++) {
        guest_printf("forbidden instruction %u\n", i);
        EXPECT_EQ(pvh_run_forbidden(i), PVH_UD);
    }
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "rdtscp" PVH_PROBE_END : : : "rax", "rcx", "rdx", "r11", "memory");
    EXPECT_EQ(pvh_trap_vector, PVH_UD);
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "rdpmc" PVH_PROBE_END : : "c"(0) : "rax", "rdx", "r11", "memory");
    EXPECT_EQ(pvh_trap_vector, PVH_GP);
    pvh_trap_vector = PVH_NO_TRAP;
    __asm__ volatile(PVH_PROBE_BEGIN "wbinvd; invd" PVH_PROBE_END : : : "r11", "memory");
    EXPECT_EQ(pvh_trap_vector, PVH_NO_TRAP);
}

static void check_vmmcall(void)
{
    TEST("VMMCALL with garbage: errors, no crash");
    EXPECT_EQ(pvh_vmmcall(12345, 1, 2, 3, 4, 5), -XEN_ENOSYS);
    EXPECT_EQ(pvh_vmmcall(~0ul, 1, 2, 3, 4, 5), -XEN_ENOSYS);
    EXPECT_EQ(pvh_vmmcall(63, 0, 0, 0, 0, 0), -XEN_ENOSYS);
    EXPECT_EQ(pvh_vmmcall(__HYPERVISOR_mmu_update, 0, 1, 0, DOMID_SELF, 0), -XEN_ENOSYS);
    EXPECT_EQ(pvh_vmmcall(__HYPERVISOR_mmuext_op, 0, 1, 0, DOMID_SELF, 0), -XEN_ENOSYS);
    EXPECT_EQ(pvh_vmmcall(__HYPERVISOR_domctl, 0, 0, 0, 0, 0), -XEN_ENOSYS);
    EXPECT_EQ(pvh_vmmcall(__HYPERVISOR_iret, 0, 0, 0, 0, 0), -XEN_ENOSYS);
    EXPECT_EQ(pvh_vmmcall(__HYPERVISOR_vcpu_op, 0, 1, 0, 0, 0), -XEN_ENOENT); /* no vCPU 1 */
    EXPECT_EQ(pvh_vmmcall(__HYPERVISOR_grant_table_op, 0, 0, 1, 0, 0), -XEN_ENOSYS);
    EXPECT_EQ(hyp_sched_op(9999, NULL), -XEN_ENOSYS);
    EXPECT_EQ(hyp_sched_op(SCHEDOP_shutdown, (void *)0xdead000000ul), -XEN_EFAULT);
    EXPECT_EQ(hyp_sched_op(SCHEDOP_shutdown, (void *)beyond_memory()), -XEN_EFAULT);
    EXPECT_EQ(hyp_sched_op(SCHEDOP_remote_shutdown, NULL), -XEN_EPERM);
    EXPECT_EQ(hyp_console_io(CONSOLEIO_write, 16, (void *)0xdead000000ul), -XEN_EFAULT);
    EXPECT_EQ(hyp_console_io(CONSOLEIO_write, 16, (void *)beyond_memory()), -XEN_EFAULT);
    EXPECT_EQ(hyp_console_io(CONSOLEIO_write, 64, (void *)(memory_end() - 8)), -XEN_EFAULT);
    EXPECT_EQ(hyp_console_io(12345, 16, "x"), -XEN_ENOSYS);
    EXPECT_EQ(hyp_xen_version(XENVER_extraversion, (void *)beyond_memory()), -XEN_EFAULT);
    EXPECT_EQ(hyp_xen_version(XENVER_extraversion, (void *)0xffff800000000000ul), -XEN_EFAULT);
    EXPECT_EQ(hypercall3(__HYPERVISOR_event_channel_op, 9999, 0, 0), -XEN_ENOSYS);
    struct evtchn_bind_virq bind = { .virq = VIRQ_TIMER, .vcpu = 7 };
    EXPECT(hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq,
                      (unsigned long)&bind, 0) < 0);
    EXPECT_EQ(hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq,
                         beyond_memory(), 0), -XEN_EFAULT);
    long v = hyp_xen_version(XENVER_version, NULL);
    EXPECT_EQ(v, (4 << 16) | 17);       /* still served */
}

/* Leaves in the hypervisor range beyond Xen's are empty (other unknown leaves are the host's). */
/* memory_op: add_to_physmap of anything but our own shared_info over our own memory; PV-only ops. */
static void check_memory_op(void)
{
    TEST("memory_op refusals");
    static char page[4096] __attribute__((aligned(4096)));
    unsigned long gpfn = ((unsigned long)page - GUEST_VIRT_BASE) >> 12;
    struct xen_add_to_physmap x;
    const struct xen_add_to_physmap good = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 0, .gpfn = gpfn,
    };
#define ATP(field, value, want)                                                           \
    do {                                                                                \
        x = good;                                                                       \
        x.field = value;                                                                \
        EXPECT_EQ(hypercall3(__HYPERVISOR_memory_op, XENMEM_add_to_physmap,            \
                             (unsigned long)&x, 0), want);                              \
    } while (0)
    ATP(space, XENMAPSPACE_gmfn_foreign, -XEN_ENOSYS);
    ATP(space, 99, -XEN_ENOSYS);
    ATP(idx, 1, -XEN_EINVAL);
    ATP(gpfn, 3ul << 18, -XEN_EINVAL);     /* past the guest-physical limit */
    ATP(gpfn, ~0ul, -XEN_EINVAL);
    ATP(domid, 0, -XEN_EPERM);
#undef ATP
    EXPECT_EQ(hypercall3(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, beyond_memory(), 0),
              -XEN_EFAULT);
    EXPECT_EQ(hypercall3(__HYPERVISOR_memory_op, XENMEM_increase_reservation, beyond_memory(), 0), -XEN_EFAULT);
    EXPECT_EQ(hypercall3(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, 0x700000000000ul, 0), -XEN_EFAULT);
    EXPECT_EQ(hypercall3(__HYPERVISOR_memory_op, XENMEM_machine_memory_map, 0, 0), -XEN_ENOSYS);
    EXPECT_EQ(page[0] | page[4095], 0);     /* nothing was mapped over it */
}

static void check_cpuid_garbage(void)
{
    TEST("CPUID of unknown hypervisor leaves");
    uint32_t r[4];
    pvh_cpuid(0x40000100, 0, r);
    EXPECT_EQ(r[0] | r[1] | r[2] | r[3], 0);
    pvh_cpuid(0x4000ffff, 0xffffffff, r);
    EXPECT_EQ(r[0] | r[1] | r[2] | r[3], 0);
}

void test_main(void)
{
    check_msrs();
    check_ports();
    check_crs();
    check_instructions();
    check_vmmcall();
    check_memory_op();
    check_cpuid_garbage();
}
