/*
 * user_mode: a PV kernel runs code in guest user mode and takes it back
 * through system calls and exceptions.
 *
 * Why: this is what makes a PV guest an operating system. The hypervisor
 * must switch to the user L4 and the user GS base on an iret with RPL 3,
 * and on every way back (SYSCALL, exception, INT n) switch to the kernel
 * L4 and kernel GS base and deliver on the stack_switch stack with Xen's
 * frame. User mode runs on its own L4, so kernel memory is simply absent.
 *
 * Set-up: a user L4 (NEW_USER_BASEPTR) maps a copy of user_blob (below) at
 * 4 MiB, a RW stack page after it and a RO page after that; the kernel L4
 * maps none of them. The syscall callback is registered with callback_op,
 * the kernel stack with stack_switch, trap 0x80 with DPL 3, GS_KERNEL and
 * GS_USER bases point at pages holding different markers.
 *
 * Checks: SYSCALL without a callback; SYSCALL reaches the callback on the
 * kernel stack, with RIP = RCX = the return address and R11 = user flags,
 * the kernel L4 active (the user page faults there) and the kernel GS base;
 * iret back to user mode delivers RAX and the user GS base is back (also
 * with VGCF_in_syscall in the iret flags); user
 * #PF (not present / write to RO) with the U bit and CR2; int $0x80 reaches
 * trap 0x80 with DPL 3 and is #GP(0x402) when 0x80 is not in the table
 * (with DPL 0 Xen 4.17 still delivers it: printed, not checked); int $0x81
 * is #GP; int3 reaches trap 3; cli, hlt and wrmsr at user level are #GP(0).
 * callback_op: unregistering the syscall callback is refused, a null one
 * makes SYSCALL #UD, set_callbacks installs it again; NMI register and
 * unregister, syscall32/sysenter register; unknown type/command, bad arg.
 */
#include "traps.h"
#include "pt.h"
#include "seg.h"

#define UCODE_VA  0x400000UL
#define USTACK_VA 0x401000UL
#define URO_VA    0x402000UL
#define UNMAP_VA  0x403000UL
#define SYS_MAGIC 0x5157UL
#define SYS_REPLY 0x600dUL
#define SYS_EXIT  0xe417UL
#define KGS_MAGIC 0x4b65726e656c4753UL
#define UGS_MAGIC 0x5573657247530000UL

enum { U_SYSCALL, U_PF_READ, U_PF_WRITE, U_INT80, U_CLI, U_HLT, U_WRMSR, U_INT3, U_INT81 };

/*
 * The user-mode program: position-independent, copied to UCODE_VA. RDI
 * selects the scenario; each faulting instruction has a global label so
 * the kernel knows the RIP to expect, and a ud2 after it in case it does
 * not fault. The syscall scenario calls twice: SYS_MAGIC (the kernel
 * returns SYS_REPLY), then SYS_EXIT with RBX = that reply and RDX = %gs:0.
 */
__asm__(".pushsection .text\n"
        ".globl user_blob, user_blob_end, u_sys1, u_sys1_end, u_sys2, u_pf_read, u_pf_write\n"
        ".globl u_int80, u_int80_end, u_cli, u_hlt, u_wrmsr, u_int3_end, u_int81\n"
        "user_blob:\n"
        "  cmp $1, %edi; je 1f\n"
        "  cmp $2, %edi; je 2f\n"
        "  cmp $3, %edi; je 3f\n"
        "  cmp $4, %edi; je 4f\n"
        "  cmp $5, %edi; je 5f\n"
        "  cmp $6, %edi; je 6f\n"
        "  cmp $7, %edi; je 7f\n"
        "  cmp $8, %edi; je 8f\n"
        "  mov $0x5157, %eax\n"
        "u_sys1: syscall\n"
        "u_sys1_end: mov %rax, %rbx\n"
        "  mov %gs:0, %rdx\n"
        "  mov $0xe417, %eax\n"
        "u_sys2: syscall\n"
        "  ud2\n"
        "1: mov $0x403000, %eax\n"
        "u_pf_read: movb (%rax), %al\n"
        "  ud2\n"
        "2: mov $0x402000, %eax\n"
        "u_pf_write: movb $1, (%rax)\n"
        "  ud2\n"
        "3:\n"
        "u_int80: int $0x80\n"
        "u_int80_end: ud2\n"
        "4:\n"
        "u_cli: cli\n"
        "  ud2\n"
        "5:\n"
        "u_hlt: hlt\n"
        "  ud2\n"
        "6: mov $0xc0000100, %ecx; xor %eax, %eax; xor %edx, %edx\n"
        "u_wrmsr: wrmsr\n"
        "  ud2\n"
        "7: int3\n"
        "u_int3_end: ud2\n"
        "8:\n"
        "u_int81: int $0x81\n"
        "  ud2\n"
        "user_blob_end:\n"
        ".popsection\n");

extern char user_blob[], user_blob_end[], u_sys1[], u_sys1_end[], u_sys2[], u_pf_read[],
    u_pf_write[], u_int80[], u_int80_end[], u_cli[], u_hlt[], u_wrmsr[], u_int3_end[],
    u_int81[];

static char pool[12][4096] __attribute__((aligned(4096)));
static char kstack[16384] __attribute__((aligned(16)));
static uint64_t *kgs_page, *ustack_page;
static struct trap_frame sys_frame, exit_frame;
static unsigned long sys_kernel_gs, sys_user_page_faults, sys_frame_addr;

/* The user VA of a label inside user_blob. */
static unsigned long uva(const char *label)
{
    return UCODE_VA + (unsigned long)(label - user_blob);
}

/* Builds and pins the user L4 and installs it with NEW_USER_BASEPTR. */
static void build_user_space(void)
{
    char *code = pt_alloc();
    uint64_t *l1 = pt_alloc(), *l2, *l3, *l4;

    TEST("set-up: user L4, callbacks, stacks, GS bases");
    ustack_page = pt_alloc();
    memcpy(code, user_blob, (size_t)(user_blob_end - user_blob));
    ustack_page[0] = UGS_MAGIC;
    l1[0] = pt_pte(code, PTE_P | PTE_US | PTE_A);
    l1[1] = pt_pte(ustack_page, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
    l1[2] = pt_pte(pt_alloc(), PTE_P | PTE_US | PTE_A);
    EXPECT_EQ(pt_map_ro(l1), 0);
    l2 = pt_alloc();
    l2[2] = pt_pte(l1, PTE_TABLE);
    EXPECT_EQ(pt_map_ro(l2), 0);
    l3 = pt_alloc();
    l3[0] = pt_pte(l2, PTE_TABLE);
    EXPECT_EQ(pt_map_ro(l3), 0);
    l4 = pt_alloc();
    l4[0] = pt_pte(l3, PTE_TABLE);
    EXPECT_EQ(pt_map_ro(l4), 0);
    EXPECT_EQ(pt_pin(4, l4), 0);
    EXPECT_EQ(hyp_mmuext1(MMUEXT_NEW_USER_BASEPTR, pt_mfn_of(l4)), 0);
}

/* Stack, GS bases, trap table (0x80 with DPL 3) and shared_info. */
static void setup_kernel_side(void)
{
    kgs_page = pt_alloc();
    kgs_page[0] = KGS_MAGIC;
    EXPECT_EQ(trap_install(3), 0);
    EXPECT_EQ(hyp_stack_switch(FLAT_KERNEL_SS, (unsigned long)kstack + sizeof(kstack)), 0);
    EXPECT_EQ(hyp_set_segment_base(SEGBASE_GS_KERNEL, (unsigned long)kgs_page), 0);
    EXPECT_EQ(hyp_set_segment_base(SEGBASE_GS_USER, USTACK_VA), 0);
    EXPECT_EQ(read_gs0(), KGS_MAGIC);
    trap_shared_info = pt_map_shared_info();
    EXPECT(trap_shared_info != NULL);
}

/* Registers the syscall callback. */
static long register_syscall(void)
{
    struct callback_register cb = { .type = CALLBACKTYPE_syscall,
                                    .flags = CALLBACKF_mask_events,
                                    .address = (unsigned long)trap_stub_syscall };

    return hyp_callback_op(CALLBACKOP_register, &cb);
}

/* 1 if reading VA faults (from kernel mode). */
static int read_faults(unsigned long va)
{
    unsigned long before = trap_last.count;

    __asm__ volatile(TRAP_PROBE_ASM("movb (%0), %%al") : : "r"(va) : "rax", "r11", "memory");
    trap_resume = 0;
    return trap_last.count == before + 1 && trap_last.vector == 14;
}

static int reply_in_syscall;

/* Returns to user mode at RIP/RSP/RFLAGS with RAX through an iret whose
 * flags carry VGCF_in_syscall (RCX and R11 are then not restored). */
static void __attribute__((noreturn)) iret_in_syscall(unsigned long rip, unsigned long rsp,
                                                      unsigned long rflags, unsigned long rax)
{
    __asm__ volatile("pushq %[ss]\n\tpushq %[rsp]\n\tpushq %[fl]\n\tpushq %[cs]\n\t"
                     "pushq %[rip]\n\tpushq %[flags]\n\tpushq $0\n\tpushq $0\n\t"
                     "pushq %[rax]\n\tmov %[nr], %%eax\n\tsyscall\n\tud2"
                     :
                     : [ss] "i"(FLAT_USER_SS | 3), [rsp] "r"(rsp), [fl] "r"(rflags),
                       [cs] "i"(FLAT_USER_CS | 3), [rip] "r"(rip), [flags] "i"(VGCF_in_syscall),
                       [rax] "r"(rax), [nr] "i"(__HYPERVISOR_iret)
                     : "memory");
    __builtin_unreachable();
}

/* Handles traps from user mode: answers SYS_MAGIC, ends the run otherwise. */
static void user_hook(struct trap_frame *f)
{
    if (f->vector == TRAP_SYSCALL && f->rax == SYS_MAGIC && reply_in_syscall)
        iret_in_syscall(f->rcx, f->rsp, f->r11, SYS_REPLY);
    if (f->vector == TRAP_SYSCALL && f->rax == SYS_MAGIC) {
        sys_frame = *f;
        sys_frame_addr = (unsigned long)f;
        sys_kernel_gs = read_gs0();
        sys_user_page_faults = read_faults(UCODE_VA);
        f->rax = SYS_REPLY;
        f->cs = FLAT_USER_CS | 3;
        f->ss = FLAT_USER_SS | 3;
        return;
    }
    exit_frame = *f;
    trap_ctx_restore(&trap_user_ctx, 1);
}

/* Runs SCENARIO in user mode until it traps back; returns the vector. */
static unsigned long user_run(int scenario)
{
    trap_user_hook = user_hook;
    exit_frame.vector = ~0UL;
    if (trap_ctx_save(&trap_user_ctx) == 0)
        trap_enter_user(UCODE_VA, USTACK_VA + 4096, (unsigned long)scenario);
    guest_printf("     scenario %d: vector %lu error 0x%lx rip 0x%lx cs 0x%lx\n",
                 scenario, exit_frame.vector, exit_frame.error, exit_frame.rip, exit_frame.cs);
    return exit_frame.vector;
}

/* SYSCALL before and after registering the callback. */
static void test_syscall(void)
{
    TEST("SYSCALL from user mode");
    EXPECT_EQ(user_run(U_SYSCALL), 6);
    EXPECT_EQ(exit_frame.rip, uva(u_sys1));
    EXPECT_EQ(register_syscall(), 0);
    EXPECT_EQ(user_run(U_SYSCALL), TRAP_SYSCALL);
    guest_printf("     first syscall frame: rip 0x%lx rcx 0x%lx r11 0x%lx cs 0x%lx rflags 0x%lx "
                 "rsp 0x%lx ss 0x%lx\n", sys_frame.rip, sys_frame.rcx, sys_frame.r11,
                 sys_frame.cs, sys_frame.rflags, sys_frame.rsp, sys_frame.ss);
    EXPECT_EQ(sys_frame.rip, uva(u_sys1_end));
    EXPECT_EQ(sys_frame.rcx, uva(u_sys1_end));
    EXPECT(sys_frame.r11 & 2);
    EXPECT_EQ(sys_frame.rsp, USTACK_VA + 4096);
    EXPECT(sys_frame_addr >= (unsigned long)kstack &&
           sys_frame_addr < (unsigned long)kstack + sizeof(kstack));
    EXPECT_EQ(sys_kernel_gs, KGS_MAGIC);
    EXPECT(sys_user_page_faults);
    EXPECT_EQ(exit_frame.rip, uva(u_sys2) + 2);
    EXPECT_EQ(exit_frame.rbx, SYS_REPLY);
    EXPECT_EQ(exit_frame.rdx, UGS_MAGIC);
    EXPECT_EQ(read_gs0(), KGS_MAGIC);
    reply_in_syscall = 1;
    EXPECT_EQ(user_run(U_SYSCALL), TRAP_SYSCALL);
    EXPECT_EQ(exit_frame.rip, uva(u_sys2) + 2);
    EXPECT_EQ(exit_frame.rbx, SYS_REPLY);
    EXPECT_EQ(exit_frame.rdx, UGS_MAGIC);
    reply_in_syscall = 0;
}

/* User page faults: U bit and CR2. */
static void test_user_pf(void)
{
    TEST("#PF from user mode");
    EXPECT_EQ(user_run(U_PF_READ), 14);
    EXPECT_EQ(exit_frame.error, 4);
    EXPECT_EQ(trap_last.cr2, UNMAP_VA);
    EXPECT_EQ(exit_frame.rip, uva(u_pf_read));
    EXPECT_EQ(exit_frame.cs & 0xffff, FLAT_USER_CS | 3);
    EXPECT_EQ(exit_frame.rsp, USTACK_VA + 4096);
    EXPECT_EQ(user_run(U_PF_WRITE), 14);
    EXPECT_EQ(exit_frame.error, 7);
    EXPECT_EQ(trap_last.cr2, URO_VA);
    EXPECT_EQ(exit_frame.rip, uva(u_pf_write));
    EXPECT(exit_frame.rsp != 0);
}

/* int $0x80 with DPL 3, with DPL 0 (printed only), unregistered; int $0x81; int3. */
static void test_soft_ints(void)
{
    static const struct trap_info dpl0[2] = {
        { .vector = 0x80, .flags = 0, .cs = FLAT_KERNEL_CS, .address = (unsigned long)trap_stub_128 },
        { 0 },
    };

    TEST("int $0x80, int $0x81, int3 from user mode");
    EXPECT_EQ(user_run(U_INT80), 0x80);
    EXPECT_EQ(exit_frame.rip, uva(u_int80_end));
    EXPECT_EQ(hyp_set_trap_table(dpl0), 0);
    guest_printf("     with trap 0x80 at DPL 0 (Xen 4.17's int80 fast path ignores the DPL):\n");
    user_run(U_INT80);
    EXPECT_EQ(hyp_set_trap_table(NULL), 0);
    EXPECT_EQ(trap_install(-1), 0);
    EXPECT_EQ(user_run(U_INT80), 13);
    EXPECT_EQ(exit_frame.error, 0x80 * 8 + 2);
    EXPECT_EQ(exit_frame.rip, uva(u_int80));
    EXPECT_EQ(user_run(U_INT81), 13);
    /* IDT-sourced #GP; QEMU TCG reports index 0x81 scaled by 16 (0x812). */
    EXPECT_EQ(exit_frame.error & 3, 2);
    EXPECT(exit_frame.error >> 3 == 0x81 || exit_frame.error >> 4 == 0x81);
    EXPECT_EQ(exit_frame.rip, uva(u_int81));
    EXPECT_EQ(user_run(U_INT3), 3);
    EXPECT_EQ(exit_frame.rip, uva(u_int3_end));
}

/* Privileged instructions at user level. */
static void test_privileged(void)
{
    TEST("cli, hlt, wrmsr in user mode");
    EXPECT_EQ(user_run(U_CLI), 13);
    EXPECT_EQ(exit_frame.rip, uva(u_cli));
    EXPECT_EQ(user_run(U_HLT), 13);
    EXPECT_EQ(exit_frame.rip, uva(u_hlt));
    EXPECT_EQ(user_run(U_WRMSR), 13);
    EXPECT_EQ(exit_frame.rip, uva(u_wrmsr));
    EXPECT_EQ(exit_frame.error, 0);
}

/* callback_op register/unregister, set_callbacks, seen from user SYSCALL. */
static void test_callback_ops(void)
{
    struct callback_unregister un = { .type = CALLBACKTYPE_syscall };
    struct callback_register cb = { .type = CALLBACKTYPE_syscall, .address = 0 };
    long rc;

    TEST("callback_op and set_callbacks");
    rc = hyp_callback_op(CALLBACKOP_unregister, &un);
    guest_printf("     unregister syscall: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    EXPECT_EQ(hyp_callback_op(CALLBACKOP_register, &cb), 0);
    EXPECT_EQ(user_run(U_SYSCALL), 6);              /* null callback: #UD */
    EXPECT_EQ(hypercall3(__HYPERVISOR_set_callbacks, 0, 0, (unsigned long)trap_stub_syscall), 0);
    EXPECT_EQ(user_run(U_SYSCALL), TRAP_SYSCALL);
    EXPECT_EQ(exit_frame.rbx, SYS_REPLY);
    cb = (struct callback_register){ .type = CALLBACKTYPE_nmi,
                                     .address = (unsigned long)trap_stub_syscall };
    EXPECT_EQ(hyp_callback_op(CALLBACKOP_register, &cb), 0);
    un.type = CALLBACKTYPE_nmi;
    EXPECT_EQ(hyp_callback_op(CALLBACKOP_unregister, &un), 0);
    cb.type = CALLBACKTYPE_syscall32;
    EXPECT_EQ(hyp_callback_op(CALLBACKOP_register, &cb), 0);
    cb.type = CALLBACKTYPE_sysenter;
    EXPECT_EQ(hyp_callback_op(CALLBACKOP_register, &cb), 0);
    cb.type = 99;
    rc = hyp_callback_op(CALLBACKOP_register, &cb);
    guest_printf("     register type 99: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_ENOSYS);
    un.type = 99;
    EXPECT_EQ(hyp_callback_op(CALLBACKOP_unregister, &un), -XEN_ENOSYS);
    EXPECT_EQ(hyp_callback_op(99, &cb), -XEN_ENOSYS);
    EXPECT_EQ(hyp_callback_op(CALLBACKOP_register, (void *)0xFFFF830000000000UL), -XEN_EFAULT);
    EXPECT_EQ(user_run(U_SYSCALL), TRAP_SYSCALL);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    pt_pool_init(pool, 12);
    setup_kernel_side();
    build_user_space();
    test_syscall();
    test_user_pf();
    test_soft_ints();
    test_privileged();
    test_callback_ops();
}
