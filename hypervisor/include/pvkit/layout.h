/*
 * The hypervisor's virtual address space and fixed constants, shared by C and
 * assembly.
 *
 * Every PV address space carries the hypervisor's L4 slots 256-271
 * (0xFFFF800000000000-0xFFFF87FFFFFFFFFF, Xen's HYPERVISOR_VIRT_START..END).
 * Inside them:
 *   slot 256  0xFFFF800000000000  machine-to-phys table, read-only, guest-visible
 *   slot 262  0xFFFF830000000000  direct map of all machine memory (supervisor)
 * The hypervisor image is linked inside the direct map, at the address that
 * maps the physical address it is loaded at (1 MiB), so one mapping serves
 * both; virt_to_phys() is a subtraction.
 */
#ifndef PVKIT_LAYOUT_H
#define PVKIT_LAYOUT_H

#define PAGE_SHIFT          12
#define PAGE_SIZE           4096
#define L2_PAGE_SIZE        0x200000

#define HV_SLOT_FIRST       256
#define HV_SLOT_LAST        271
#define M2P_VIRT_START      0xFFFF800000000000
#define M2P_VIRT_END        0xFFFF804000000000
#define DIRECTMAP_SLOT      262
/* A host build of hypervisor files (tests/unit/hv/fuzz_machine.c) puts its machine elsewhere. */
#ifndef DIRECTMAP_BASE
#define DIRECTMAP_BASE      0xFFFF830000000000
#endif
#define DIRECTMAP_SIZE      0x0000008000000000 /* one L4 slot: 512 GiB */
#define HV_LOAD_PHYS        0x100000
#define LAPIC_PHYS          0xFEE00000ull /* 2 MiB aligned */
#define MSI_WINDOW_SIZE     0x100000ull   /* 0xFEE00000-0xFEEFFFFF: local APIC and MSI */
#define HV_LINK_BASE        (DIRECTMAP_BASE + HV_LOAD_PHYS)

/* Per-CPU stacks: STACK_SIZE bytes, STACK_SIZE-aligned, struct cpu_info on top. */
#define STACK_ORDER         3
#define STACK_SIZE          (PAGE_SIZE << STACK_ORDER)
#define CPU_INFO_RESERVED   512 /* bytes at the top of each stack for struct cpu_info */

/* Hypervisor selectors in Xen's reserved GDT range (entries 7168+). */
#define GDT_FIRST_RESERVED  7168
#define HV_CS               0xe008
#define HV_DS               0xe010
#define HV_TSS_SEL          0xe040
#define HV_LDT_SEL          0xe050
#define GDT_ENTRIES_TOTAL   (GDT_FIRST_RESERVED + 12)

/* The LDT windows (slot 261), one per CPU 2 MiB apart: the loaded vCPU's LDT frames, mapped on demand. */
#define LDT_VIRT_START      0xFFFF828000000000
#define LDT_MAX_ENTRIES     8192
#define LDT_PAGES           16

/* The real-mode page application processors start at (SIPI vector 8). */
#define AP_TRAMPOLINE_PHYS  0x8000

/* Exit codes written to QEMU's isa-debug-exit port (QEMU exits with 2*code+1). */
#define DEBUG_EXIT_PORT     0xf4
#define EXIT_POWEROFF       0x10
#define EXIT_REBOOT         0x11
#define EXIT_CRASH          0x12
#define EXIT_OTHER          0x13
#define EXIT_PANIC          0x1e

/* Pseudo vector recorded in the register frame for SYSCALL entries. */
#define VECTOR_SYSCALL      0x100

/* How prepare_exit_to_guest (arch/x86/entry.c) says entry.S leaves to the guest. */
#define EXIT_BY_IRET        0
#define EXIT_BY_SYSRET      1
#define EXIT_BY_VMRUN       2   /* a PVH vCPU: svm_vcpu_run */



/* struct cpu_info layout, used by entry.S (checked in arch/x86/cpu.c). */
#define CPU_REGS_SIZE           168
#define CPUINFO_GUEST_REGS      8   /* so that the frame ends 16-byte aligned */
#define CPUINFO_SCRATCH_RSP     (CPUINFO_GUEST_REGS + CPU_REGS_SIZE + 8)
#define CPUINFO_SYSCALL_STACK   (CPUINFO_GUEST_REGS + CPU_REGS_SIZE + 16)
#endif
