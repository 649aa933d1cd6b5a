/*
 * mmu_wrpt: writable-pagetable emulation — direct stores into a read-only,
 * pinned L1 that the hypervisor turns into validated PTE updates.
 *
 * Why: Linux 6.1 writes live PTEs natively in four instruction forms
 * (MOV for set_pte during early boot, XCHG in ptep_get_and_clear, LOCK AND
 * byte in ptep_set_wrprotect at every fork, LOCK BTR in page aging), and
 * with one CPU it rewrites every LOCK prefix into DS. Each store faults
 * because L1 pages are mapped read-only; with VMASST_TYPE_writable_pagetables
 * the hypervisor must emulate it exactly (result in memory, registers and
 * flags) after validating the new entry like mmu_update, and deliver a #PF
 * to the guest when the new entry would be illegal.
 *
 * Checks: with the assist disabled Xen 4.17 still emulates; enabled: MOV
 * m64,r64 and MOV m64,imm32 install/clear a mapping (readable through the
 * VA); XCHG installs and returns the old entry; LOCK AND m8,0xfd clears RW
 * (a write through the VA then faults); LOCK BTR m64,5 clears A with CF =
 * old A; the DS-prefixed AND and BTR and a DS MOV do the same. Hostile:
 * stores that would map a page table RW or an unowned frame → #PF (P|W,
 * CR2 = the entry), entry unchanged.
 */
#include "traps.h"
#include "pt.h"

#define TEST_VA (GUEST_VIRT_BASE + (64UL << 20))

static char pool[8][4096] __attribute__((aligned(4096)));
static uint64_t *l1;
static char *data;

/* The VA that entry I of the test L1 maps. */
static volatile char *va_of(int i)
{
    return (volatile char *)(TEST_VA + ((unsigned long)i << 12));
}

/* MFN, P and RW of an entry: what must match after an emulated store. */
static uint64_t core(uint64_t e)
{
    return e & (PTE_MFN | PTE_P | PTE_RW);
}

/* MOV m64,r64 into entry I (emulated, or a #PF); returns traps taken. */
static unsigned long store(int i, uint64_t v)
{
    unsigned long before = trap_last.count;

    __asm__ volatile(TRAP_PROBE_ASM("movq %1, (%0)") : : "r"(&l1[i]), "r"(v) : "r11", "memory");
    trap_resume = 0;
    return trap_last.count - before;
}

/* Reads through VA expecting a #PF; 1 if exactly one arrived. */
static int read_faults(volatile char *va)
{
    return TRAP_PROBE_RAX("movb (%%rax), %%al", (unsigned long)va) == 1 && trap_last.vector == 14;
}

/* Writes through VA expecting a #PF; 1 if exactly one arrived. */
static int write_faults(volatile char *va)
{
    return TRAP_PROBE_RAX("movb %%al, (%%rax)", (unsigned long)va) == 1 && trap_last.vector == 14;
}

/* A fresh pinned L1 hooked into the builder's L2 at TEST_VA. */
static void setup(void)
{
    TEST("set-up: a pinned, read-only L1 in use");
    l1 = pt_alloc();
    data = pt_alloc();
    data[0] = 'D';
    EXPECT_EQ(pt_map_ro(l1), 0);
    EXPECT_EQ(pt_pin(1, l1), 0);
    EXPECT_EQ(pt_mmu1(pt_entry_ma(TEST_VA, 2), pt_pte(l1, PTE_TABLE)), 0);
}

/* Xen 4.17 emulates even with the assist disabled (Linux relies on the
 * emulation whatever vm_assist returned). */
static void test_assist_off(void)
{
    TEST("store with writable_pagetables disabled");
    EXPECT_EQ(hyp_vm_assist(VMASST_CMD_disable, VMASST_TYPE_writable_pagetables), 0);
    EXPECT_EQ(store(1, pt_pte(data, PTE_DATA_RW)), 0);
    EXPECT_EQ(core(l1[1]), pt_pte(data, PTE_P | PTE_RW));
    EXPECT_EQ(va_of(1)[0], 'D');
    EXPECT_EQ(store(1, 0), 0);
    EXPECT_EQ(l1[1], 0);
    EXPECT_EQ(pt_invlpg((unsigned long)va_of(1)), 0);
}

/* MOV m64,r64 and MOV m64,imm32; XCHG. */
static void test_mov_xchg(void)
{
    uint64_t old;

    TEST("MOV and XCHG into a live L1");
    EXPECT_EQ(hyp_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
    EXPECT_EQ(store(1, pt_pte(data, PTE_DATA_RW)), 0);
    guest_printf("     entry after MOV: 0x%lx\n", (unsigned long)l1[1]);
    EXPECT_EQ(core(l1[1]), pt_pte(data, PTE_P | PTE_RW));
    EXPECT_EQ(va_of(1)[0], 'D');
    __asm__ volatile("movq $0, (%0)" : : "r"(&l1[1]) : "memory");
    EXPECT_EQ(l1[1], 0);
    EXPECT_EQ(pt_invlpg((unsigned long)va_of(1)), 0);
    EXPECT(read_faults(va_of(1)));
    old = pt_pte(data, PTE_DATA_RO);
    __asm__ volatile("xchgq %0, (%1)" : "+r"(old) : "r"(&l1[2]) : "memory");
    EXPECT_EQ(old, 0);
    EXPECT_EQ(core(l1[2]), pt_pte(data, PTE_P));
    EXPECT_EQ(va_of(2)[0], 'D');
    old = 0;
    __asm__ volatile("xchgq %0, (%1)" : "+r"(old) : "r"(&l1[2]) : "memory");
    EXPECT_EQ(core(old), pt_pte(data, PTE_P));
    EXPECT_EQ(l1[2], 0);
    __asm__ volatile(".byte 0x3e; movq %0, (%1)" : : "r"(pt_pte(data, PTE_DATA_RO)), "r"(&l1[4])
                     : "memory");
    EXPECT_EQ(core(l1[4]), pt_pte(data, PTE_P));
}

/* LOCK/DS AND m8,0xfd clears RW of entry I. */
static void check_and(int i, int ds)
{
    EXPECT_EQ(store(i, pt_pte(data, PTE_DATA_RW)), 0);
    va_of(i)[1] = 1;
    if (ds)
        __asm__ volatile(".byte 0x3e; andb $0xfd, (%0)" : : "r"(&l1[i]) : "memory", "cc");
    else
        __asm__ volatile("lock andb $0xfd, (%0)" : : "r"(&l1[i]) : "memory", "cc");
    EXPECT_EQ(core(l1[i]), pt_pte(data, PTE_P));
    EXPECT_EQ(pt_invlpg((unsigned long)va_of(i)), 0);
    EXPECT_EQ(va_of(i)[1], 1);
    EXPECT(write_faults(va_of(i)));
    EXPECT_EQ(trap_last.error, 3);
}

/* LOCK/DS BTR m64,5 clears A of entry I; returns CF. */
static int do_btr(int i, int ds)
{
    unsigned char cf;

    if (ds)
        __asm__ volatile(".byte 0x3e; btrq $5, (%1); setc %0" : "=r"(cf) : "r"(&l1[i])
                         : "memory", "cc");
    else
        __asm__ volatile("lock btrq $5, (%1); setc %0" : "=r"(cf) : "r"(&l1[i]) : "memory", "cc");
    return cf;
}

/* AND and BTR, locked and DS-prefixed. */
static void test_and_btr(void)
{
    TEST("LOCK/DS AND m8,imm8 and BTR m64,imm8 into a live L1");
    check_and(5, 0);
    check_and(6, 1);
    for (int ds = 0; ds < 2; ds++) {
        EXPECT_EQ(store(7, pt_pte(data, PTE_DATA_RO)), 0);
        EXPECT_EQ(l1[7] & PTE_A, PTE_A);
        EXPECT_EQ(do_btr(7, ds), 1);
        EXPECT_EQ(l1[7] & PTE_A, 0);
        EXPECT_EQ(core(l1[7]), pt_pte(data, PTE_P));
        EXPECT_EQ(do_btr(7, ds), 0);
    }
}

/* Stores that would create an illegal entry reach the guest as #PF. */
static void test_hostile(void)
{
    uint64_t before = l1[8];

    TEST("hostile direct stores");
    EXPECT_EQ(store(8, pt_pte(l1, PTE_DATA_RW)), 1);
    EXPECT_EQ(trap_last.vector, 14);
    EXPECT_EQ(trap_last.error, 3);
    EXPECT_EQ(trap_last.cr2, (unsigned long)&l1[8]);
    EXPECT_EQ(l1[8], before);
    EXPECT_EQ(store(8, ((uint64_t)pt_cur_l4_mfn << 12) | PTE_DATA_RW), 1);
    EXPECT_EQ(trap_last.vector, 14);
    EXPECT_EQ(store(8, ((uint64_t)pt_foreign_mfn() << 12) | PTE_DATA_RO), 1);
    EXPECT_EQ(trap_last.vector, 14);
    EXPECT_EQ(l1[8], before);
    EXPECT_EQ(store(4, ((uint64_t)pt_foreign_mfn() << 12) | PTE_DATA_RO), 1);
    EXPECT_EQ(core(l1[4]), pt_pte(data, PTE_P));
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    pt_pool_init(pool, 8);
    EXPECT_EQ(trap_install(-1), 0);
    trap_shared_info = pt_map_shared_info();
    EXPECT(trap_shared_info != NULL);
    setup();
    test_assist_off();
    test_mov_xchg();
    test_and_btr();
    test_hostile();
}
