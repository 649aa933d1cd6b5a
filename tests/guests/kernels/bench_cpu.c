/*
 * bench_cpu: PV CPU path latencies for make bench-hv (issue 3's benchmark).
 *
 * What it measures, and how (RDTSC; frequency and output in bench_common.h):
 *   - exception_bounce: an INT3 executed in guest-kernel mode is caught by
 *     the hypervisor, bounced to our trap-table handler (vector 3, DPL 3)
 *     with Xen's frame, and the handler returns through the iret hypercall
 *     (the framework's trapentry.S path). Average over BOUNCES round trips.
 *   - syscall_roundtrip: guest user mode (its own L4, NEW_USER_BASEPTR) runs
 *     a loop of SYSCALL instructions; each one enters the registered syscall
 *     callback on the kernel page table and stack, and the kernel returns to
 *     user mode through the iret hypercall. The loop's final SYSCALL (a
 *     different RAX) ends the excursion. Timed from the kernel around the
 *     whole excursion: the single entry/exit is amortised over SYSCALLS.
 * The counts are checked (every int3 reached the handler, every system call
 * reached the callback), then the framework's verdict and poweroff.
 */
#include "bench_common.h"
#include "traps.h"

#define BOUNCES   20000
#define SYSCALLS  20000
#define UCODE_VA  0x400000UL
#define USTACK_VA 0x401000UL
#define SYS_LOOP  0x5157UL
#define SYS_EXIT  0xe417UL

/* User program: RDI = iterations; SYSCALL(SYS_LOOP) that often, then exit. */
__asm__(".pushsection .text\n"
        ".globl bench_user_blob, bench_user_blob_end\n"
        "bench_user_blob:\n"
        "  mov %rdi, %rbx\n"
        "1: mov $0x5157, %eax\n"
        "  syscall\n"
        "  dec %rbx\n"
        "  jnz 1b\n"
        "  mov $0xe417, %eax\n"
        "  syscall\n"
        "  ud2\n"
        "bench_user_blob_end:\n"
        ".popsection\n");
extern char bench_user_blob[], bench_user_blob_end[];

static char pool[10][4096] __attribute__((aligned(4096)));
static char kstack[16384] __attribute__((aligned(16)));
static volatile unsigned long int3_count, sys_count;
static struct trap_frame exit_frame;

/* Counts kernel-mode int3s and resumes after them. */
static int kernel_hook(struct trap_frame *f)
{
    if (f->vector != 3)
        return 0;
    int3_count++;
    return 1;
}

/* Answers SYS_LOOP system calls; anything else ends the excursion. */
static void user_hook(struct trap_frame *f)
{
    if (f->vector == TRAP_SYSCALL && f->rax == SYS_LOOP) {
        sys_count++;
        f->cs = FLAT_USER_CS | 3;
        f->ss = FLAT_USER_SS | 3;
        return;
    }
    exit_frame = *f;
    trap_ctx_restore(&trap_user_ctx, 1);
}

/* Trap table, kernel stack, syscall callback, and a user L4 with the blob. */
static void setup(void)
{
    struct callback_register cb = { .type = CALLBACKTYPE_syscall,
                                    .flags = CALLBACKF_mask_events,
                                    .address = (unsigned long)trap_stub_syscall };
    char *code = pt_alloc();
    uint64_t *l1 = pt_alloc(), *l2 = pt_alloc(), *l3 = pt_alloc(), *l4 = pt_alloc();

    TEST("set-up: trap table, syscall callback, user address space");
    EXPECT_EQ(trap_install(-1), 0);
    EXPECT_EQ(hyp_stack_switch(FLAT_KERNEL_SS, (unsigned long)kstack + sizeof(kstack)), 0);
    EXPECT_EQ(hyp_callback_op(CALLBACKOP_register, &cb), 0);
    memcpy(code, bench_user_blob, (size_t)(bench_user_blob_end - bench_user_blob));
    l1[0] = pt_pte(code, PTE_P | PTE_US | PTE_A);
    l1[1] = pt_pte(pt_alloc(), PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
    l2[2] = pt_pte(l1, PTE_TABLE);
    l3[0] = pt_pte(l2, PTE_TABLE);
    l4[0] = pt_pte(l3, PTE_TABLE);
    EXPECT_EQ(pt_map_ro(l1), 0);
    EXPECT_EQ(pt_map_ro(l2), 0);
    EXPECT_EQ(pt_map_ro(l3), 0);
    EXPECT_EQ(pt_map_ro(l4), 0);
    EXPECT_EQ(pt_pin(4, l4), 0);
    EXPECT_EQ(hyp_mmuext1(MMUEXT_NEW_USER_BASEPTR, pt_mfn_of(l4)), 0);
}

/* Runs N int3s in kernel mode; returns the cycles. */
static uint64_t int3s(unsigned long n)
{
    uint64_t t0 = bench_rdtsc();

    for (unsigned long i = 0; i < n; i++)
        __asm__ volatile("int3" : : : "memory");
    return bench_rdtsc() - t0;
}

/* Exception bounce round trip. */
static void bench_bounce(void)
{
    uint64_t cyc;

    TEST("exception bounce (int3 -> handler -> iret)");
    trap_kernel_hook = kernel_hook;
    int3s(1000);
    int3_count = 0;
    cyc = int3s(BOUNCES);
    trap_kernel_hook = NULL;
    EXPECT_EQ(int3_count, BOUNCES);
    bench_report_cost("exception_bounce", cyc, BOUNCES);
}

/* Runs the user loop with N system calls; returns the cycles. */
static uint64_t user_loop(unsigned long n)
{
    uint64_t t0;

    exit_frame.vector = ~0UL;
    trap_user_hook = user_hook;
    t0 = bench_rdtsc();
    if (trap_ctx_save(&trap_user_ctx) == 0)
        trap_enter_user(UCODE_VA, USTACK_VA + 4096, n);
    return bench_rdtsc() - t0;
}

/* User -> kernel -> user system call round trip. */
static void bench_syscall(void)
{
    uint64_t cyc;

    TEST("system call round trip (user SYSCALL -> callback -> iret)");
    user_loop(1000);
    sys_count = 0;
    cyc = user_loop(SYSCALLS);
    trap_user_hook = NULL;
    EXPECT_EQ(exit_frame.vector, TRAP_SYSCALL);
    EXPECT_EQ(exit_frame.rax, SYS_EXIT);
    EXPECT_EQ(sys_count, SYSCALLS);
    bench_report_cost("syscall_roundtrip", cyc, SYSCALLS + 1);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    pt_pool_init(pool, 10);
    trap_shared_info = pt_map_shared_info();
    bench_tsc_init(trap_shared_info);
    setup();
    bench_bounce();
    bench_syscall();
}
