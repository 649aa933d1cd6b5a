/*
 * cpu_traps: exceptions raised in guest-kernel mode reach the handlers of
 * the virtual IDT (set_trap_table) with Xen's bounce frame, and the iret
 * hypercall returns from them with every register intact.
 *
 * Why: a PV kernel's handlers pop RCX and R11 off the frame and then expect
 * an ordinary hardware frame (error code only for the architectural
 * vectors); any deviation desynchronises them. CR2 is not readable by a PV
 * guest, so for #PF the hypervisor must store it in vcpu_info.arch.cr2.
 *
 * Checks: int3 (trap: RIP after it; RCX/R11 slots hold the interrupted
 * values; CS is FLAT_KERNEL_CS with RPL 0; RSP/SS as interrupted), #PF on
 * a read and a write of an unmapped address and a write to a read-only
 * page (error codes, CR2 from vcpu_info), #GP on a non-canonical access,
 * #UD on ud2, #DE on a divide by zero (faults: RIP at the instruction);
 * callee-saved registers survive the round trip. Hostile: set_trap_table
 * with pointers Xen cannot read. Event mask: evtchn_upcall_mask follows the
 * IF bit of an iret frame; a bounce saves it in CS bits 32-39 and RFLAGS.IF
 * and sets it only for trap entries with flag bit 2.
 */
#include "traps.h"
#include "pt.h"

extern char trap_stub_3[];

static char pool[4][4096] __attribute__((aligned(4096)));

/* int3 with RCX/RBX set to markers; checks the frame and the return. */
static void test_int3(void)
{
    unsigned long at, after, rsp, rcx = 0x1234abcd5678ef01UL, rbx = 0x0badc0ffee0ddf00UL;
    unsigned long before = trap_last.count;

    TEST("int3 in kernel mode");
    __asm__ volatile("mov %%rsp, %[rsp]\n\t"
                     "leaq 2f(%%rip), %[at]\n\t"
                     TRAP_PROBE_ASM("2: int3")
                     "leaq 1b(%%rip), %[after]\n\t"
                     : [at] "=&r"(at), [after] "=&r"(after), [rsp] "=&r"(rsp),
                       "+c"(rcx), "+b"(rbx)
                     :
                     : "r11", "memory");
    EXPECT_EQ(trap_last.count - before, 1);
    EXPECT_EQ(trap_last.vector, 3);
    EXPECT_EQ(trap_last.rip, after);
    EXPECT(trap_last.rip == at + 1);
    EXPECT_EQ(trap_last.rcx, 0x1234abcd5678ef01UL);
    EXPECT_EQ(trap_last.r11, after);
    EXPECT_EQ(trap_last.cs & 0xffff, FLAT_KERNEL_CS & ~3);
    EXPECT_EQ(trap_last.rsp, rsp);
    EXPECT_EQ(trap_last.ss & ~3UL, FLAT_KERNEL_SS & ~3);
    guest_printf("     frame cs 0x%lx rflags 0x%lx ss 0x%lx\n",
                 trap_last.cs, trap_last.rflags, trap_last.ss);
    EXPECT_EQ(rcx, 0x1234abcd5678ef01UL);
    EXPECT_EQ(rbx, 0x0badc0ffee0ddf00UL);
}

/* Loads from (READ) or stores to ADDR expecting #PF; returns the insn address. */
static unsigned long touch(unsigned long addr, int write)
{
    unsigned long at, val = 0;

    if (write)
        __asm__ volatile("leaq 2f(%%rip), %[at]\n\t" TRAP_PROBE_ASM("2: movq %[v], (%[a])")
                         : [at] "=&r"(at) : [a] "r"(addr), [v] "r"(val) : "r11", "memory");
    else
        __asm__ volatile("leaq 2f(%%rip), %[at]\n\t" TRAP_PROBE_ASM("2: movq (%[a]), %[v]")
                         : [at] "=&r"(at), [v] "+r"(val) : [a] "r"(addr) : "r11", "memory");
    return at;
}

/* Expects one #PF at AT with ERROR and CR2 == ADDR from the last touch. */
static void expect_pf(unsigned long before, unsigned long at, unsigned long error,
                      unsigned long addr)
{
    EXPECT_EQ(trap_last.count - before, 1);
    EXPECT_EQ(trap_last.vector, 14);
    EXPECT_EQ(trap_last.rip, at);
    EXPECT_EQ(trap_last.error, error);
    EXPECT_EQ(trap_last.cr2, addr);
}

/* #PF: not-present read and write, write to a read-only page. */
static void test_page_fault(void)
{
    unsigned long before, at;
    char *ro = pt_alloc();

    TEST("#PF in kernel mode, CR2 in vcpu_info");
    trap_shared_info = pt_map_shared_info();
    EXPECT(trap_shared_info != NULL);
    before = trap_last.count;
    at = touch(0x1000, 0);
    expect_pf(before, at, 0, 0x1000);
    before = trap_last.count;
    at = touch(0x2008, 1);
    expect_pf(before, at, 2, 0x2008);
    EXPECT_EQ(pt_map_ro(ro), 0);
    before = trap_last.count;
    at = touch((unsigned long)ro + 0x10, 1);
    expect_pf(before, at, 3, (unsigned long)ro + 0x10);
    EXPECT_EQ(pt_map_rw(ro), 0);
    ro[0x10] = 1;
    EXPECT_EQ(ro[0x10], 1);
}

/* #GP (non-canonical load), #UD (ud2), #DE (div by zero). */
static void test_gp_ud_de(void)
{
    unsigned long at, before, bad = 0x8000000000000000UL, zero = 0;

    TEST("#GP, #UD, #DE in kernel mode");
    before = trap_last.count;
    __asm__ volatile("leaq 2f(%%rip), %[at]\n\t" TRAP_PROBE_ASM("2: movq (%[a]), %[a]")
                     : [at] "=&r"(at), [a] "+r"(bad) : : "r11", "memory");
    EXPECT_EQ(trap_last.count - before, 1);
    EXPECT_EQ(trap_last.vector, 13);
    EXPECT_EQ(trap_last.error, 0);
    EXPECT_EQ(trap_last.rip, at);

    before = trap_last.count;
    __asm__ volatile("leaq 2f(%%rip), %[at]\n\t" TRAP_PROBE_ASM("2: ud2")
                     : [at] "=&r"(at) : : "r11", "memory");
    EXPECT_EQ(trap_last.count - before, 1);
    EXPECT_EQ(trap_last.vector, 6);
    EXPECT_EQ(trap_last.rip, at);

    before = trap_last.count;
    __asm__ volatile("leaq 2f(%%rip), %[at]\n\t" TRAP_PROBE_ASM("2: divq %[z]")
                     : [at] "=&r"(at) : [z] "r"(zero), "a"(1UL), "d"(0UL)
                     : "r11", "memory");
    EXPECT_EQ(trap_last.count - before, 1);
    EXPECT_EQ(trap_last.vector, 0);
    EXPECT_EQ(trap_last.rip, at);
}

/* set_trap_table reading from addresses the guest cannot read. */
static void test_hostile_table(void)
{
    TEST("set_trap_table with bad pointers");
    EXPECT_EQ(hyp_set_trap_table((void *)0xFFFF830000000000UL), -XEN_EFAULT);
    EXPECT_EQ(hyp_set_trap_table((void *)0x0000800000000000UL), -XEN_EFAULT);
    EXPECT_EQ(hyp_set_trap_table((void *)0x3000UL), -XEN_EFAULT);
    /* The table from before is still in force. */
    EXPECT_EQ(TRAP_PROBE("int3"), 1);
    EXPECT_EQ(trap_last.vector, 3);
}

/* Iret-hypercalls to the next instruction in kernel mode with RFLAGS. */
static void iret_self(unsigned long rflags)
{
    __asm__ volatile("mov %%rsp, %%r11\n\t"
                     "pushq %[ss]\n\t"
                     "pushq %%r11\n\t"
                     "pushq %[fl]\n\t"
                     "pushq %[cs]\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "jmp trap_iret\n"
                     "1:\n"
                     :
                     : [fl] "r"(rflags), [cs] "i"(FLAT_KERNEL_CS & ~3), [ss] "i"(FLAT_KERNEL_SS)
                     : "rax", "rcx", "r11", "memory");
}

static unsigned long mask_in_handler;

/* Trap 3: notes the event mask while the handler runs. */
static int note_mask(struct trap_frame *f)
{
    if (f->vector == 3)
        mask_in_handler = trap_shared_info->vcpu_info[0].evtchn_upcall_mask;
    return 0;
}

/* The upcall mask follows iret's RFLAGS.IF; delivery saves and sets it. */
static void test_event_mask(void)
{
    static const struct trap_info masking_int3[2] = {
        { .vector = 3, .flags = 3 | 4, .cs = FLAT_KERNEL_CS,
          .address = (unsigned long)trap_stub_3 },
        { 0 },
    };
    volatile vcpu_info_t *vi = &trap_shared_info->vcpu_info[0];

    TEST("event mask: iret RFLAGS.IF, bounce frame, trap flag bit 2");
    EXPECT_EQ(vi->evtchn_upcall_pending, 0);
    EXPECT_EQ(vi->evtchn_upcall_mask, 1);
    iret_self(0x202);
    EXPECT_EQ(vi->evtchn_upcall_mask, 0);
    trap_kernel_hook = note_mask;
    EXPECT_EQ(TRAP_PROBE("int3"), 1);
    EXPECT_EQ(trap_last.cs >> 32, 0);
    EXPECT_EQ(trap_last.rflags & 0x200, 0x200);
    EXPECT_EQ(mask_in_handler, 0);
    EXPECT_EQ(vi->evtchn_upcall_mask, 0);
    EXPECT_EQ(hyp_set_trap_table(masking_int3), 0);
    EXPECT_EQ(TRAP_PROBE("int3"), 1);
    EXPECT_EQ(trap_last.cs >> 32, 0);
    EXPECT_EQ(mask_in_handler, 1);
    EXPECT_EQ(vi->evtchn_upcall_mask, 0);
    iret_self(0x2);
    EXPECT_EQ(vi->evtchn_upcall_mask, 1);
    EXPECT_EQ(TRAP_PROBE("int3"), 1);
    EXPECT_EQ(trap_last.cs >> 32, 1);
    EXPECT_EQ(trap_last.rflags & 0x200, 0);
    trap_kernel_hook = NULL;
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    pt_pool_init(pool, 4);
    TEST("set_trap_table");
    EXPECT_EQ(trap_install(-1), 0);
    test_int3();
    test_page_fault();
    test_gp_ud_de();
    test_hostile_table();
    test_event_mask();
}
