/*
 * cpu_df_entry: the guest's direction flag set on every way in to the
 * hypervisor. Its copies to and from the guest are string instructions
 * (REP MOVS), which run backwards with DF set: past the start of the
 * buffer, over whatever lies below (the hypervisor's stack, the guest's
 * memory). The SYSCALL entry relies on SFMASK to clear DF (no CLD there);
 * exceptions clear it in their common entry.
 *
 * With DF set (STD right before the instruction that enters): a count-1
 * mmu_update (a 16-byte request copied in, `done` copied out) must apply
 * exactly its request and write exactly `done`, the words around both
 * unchanged; xen_version(XENVER_extraversion) must copy out the same 16
 * bytes as with DF clear, the guard words around the buffer unchanged; and
 * after the hypercall DF is still set (SYSRET/IRET give back the guest's
 * RFLAGS). A #UD (UD2) with DF set bounces with RFLAGS.DF set in the frame
 * and the right RIP, and the iret back restores DF set.
 */
#include "traps.h"
#include "pt.h"

#define RFLAGS_DF 0x400UL
#define GUARD 0x5a5a5a5a5a5a5a5aUL

static char pool[4][4096] __attribute__((aligned(4096)));

/* Guarded buffers: the hypervisor must touch `mid` only. */
static struct {
    uint64_t below[4];
    char mid[16];
    uint64_t above[4];
} ver;
static struct {
    uint64_t below[4];
    mmu_update_t req;
    unsigned int done, pad;
    uint64_t above[4];
} mu;

static unsigned long rflags_now(void)
{
    unsigned long f;
    __asm__ volatile("pushfq; popq %0" : "=r"(f));
    return f;
}

/* A 4-argument hypercall by SYSCALL with DF set; RFLAGS after it in *after. */
static long hypercall4_df(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3,
                          unsigned long a4, unsigned long *after)
{
    register unsigned long r10 __asm__("r10") = a4;
    register unsigned long r8 __asm__("r8") = 0;
    long rax = (long)nr;
    unsigned long f;

    __asm__ volatile("std\n\tsyscall\n\tpushfq\n\tpopq %[f]\n\tcld"
                     : "+a"(rax), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8),
                       [f] "=r"(f)
                     :
                     : "rcx", "r11", "memory");
    *after = f;
    return rax;
}

static int guards_intact(const uint64_t *below, const uint64_t *above)
{
    for (unsigned int i = 0; i < 4; i++)
        if (below[i] != GUARD || above[i] != GUARD)
            return 0;
    return 1;
}

static void fill_guards(uint64_t *below, uint64_t *above)
{
    for (unsigned int i = 0; i < 4; i++)
        below[i] = above[i] = GUARD;
}

static void test_hypercalls(void)
{
    char want[16];
    unsigned long after = 0;
    uint64_t *t = pt_alloc();
    void *data = pt_alloc();

    TEST("xen_version(extraversion) with DF set: the same 16 bytes, nothing around them");
    for (unsigned int i = 0; i < 16; i++)
        want[i] = ver.mid[i] = 0;
    EXPECT_EQ(hypercall3(__HYPERVISOR_xen_version, XENVER_extraversion, (unsigned long)want, 0), 0);
    fill_guards(ver.below, ver.above);
    EXPECT_EQ(hypercall4_df(__HYPERVISOR_xen_version, XENVER_extraversion,
                            (unsigned long)ver.mid, 0, 0, &after), 0);
    EXPECT(guards_intact(ver.below, ver.above));
    EXPECT_EQ(guest_memcmp(ver.mid, want, sizeof(want)), 0);
    EXPECT(after & RFLAGS_DF);

    TEST("a count-1 mmu_update with DF set: its request applied, done written, nothing else");
    EXPECT_EQ(pt_map_ro(t), 0);
    EXPECT_EQ(pt_pin(1, t), 0);
    fill_guards(mu.below, mu.above);
    mu.req.ptr = pt_ma_of(&t[7]);
    mu.req.val = pt_pte(data, PTE_DATA_RO);
    mu.done = 0;
    mu.pad = 0x12345678;
    EXPECT_EQ(hypercall4_df(__HYPERVISOR_mmu_update, (unsigned long)&mu.req, 1,
                            (unsigned long)&mu.done, DOMID_SELF, &after), 0);
    guest_printf("     entry 0x%lx done %u, t[6] 0x%lx t[8] 0x%lx\n", (unsigned long)t[7], mu.done,
                 (unsigned long)t[6], (unsigned long)t[8]);
    EXPECT(guards_intact(mu.below, mu.above));
    EXPECT_EQ(mu.done, 1);
    EXPECT_EQ(mu.pad, 0x12345678);
    /* the bits both hypervisors store as given (Xen adds G and its bit 52) */
    EXPECT_EQ(t[7] & (PTE_MFN | PTE_P | PTE_RW), mu.req.val & (PTE_MFN | PTE_P | PTE_RW));
    EXPECT_EQ(t[6], 0);
    EXPECT_EQ(t[8], 0);
    EXPECT(after & RFLAGS_DF);
    EXPECT_EQ(pt_mmu1(pt_ma_of(&t[7]), 0), 0);
    EXPECT_EQ(pt_unpin(t), 0);
    EXPECT_EQ(pt_map_rw(t), 0);
}

static void test_exception(void)
{
    unsigned long after, rip;

    TEST("#UD with DF set: bounced with DF in the frame and the right RIP; DF set after the iret");
    __asm__ volatile("leaq 2f(%%rip), %[rip]\n\tstd\n\t" TRAP_PROBE_ASM("2: ud2")
                     "pushfq\n\tpopq %[f]\n\tcld"
                     : [rip] "=&r"(rip), [f] "=r"(after) : : "r11", "memory");
    trap_resume = 0;
    EXPECT_EQ(trap_last.vector, 6);
    EXPECT_EQ(trap_last.rip, rip);
    EXPECT(trap_last.rflags & RFLAGS_DF);
    EXPECT(after & RFLAGS_DF);
    EXPECT(!(rflags_now() & RFLAGS_DF));
}

void test_main(void)
{
    pt_pool_init(pool, 4);
    EXPECT_EQ(trap_install(-1), 0);
    test_hypercalls();
    test_exception();
}
