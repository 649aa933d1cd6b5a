/*
 * pvh_smpprobe: a hostile two-vCPU PVH guest (run with --vcpus 2) against
 * the start-up protocol of its local APICs (hypervisor/arch/x86/vlapic.c
 * send_ipi, svm.c svm_vcpu_init_signal/svm_vcpu_startup_ipi), for what
 * pvh_smp leaves out.
 *
 * Checks: Startup IPIs to vCPU 0 itself (by id and by the self shorthand)
 * and INITs to a vCPU already down change nothing; an INIT/Startup IPI
 * storm (hundreds of pairs, some with a second Startup IPI in between)
 * leaves vCPU 1 up, started once per pair; vCPU 1 INITing itself goes down
 * before its next instruction and a Startup IPI starts it again; every
 * delivery mode with every shorthand, physical and logical, to ids nobody
 * has and to broadcast (INIT only where it cannot reach vCPU 0), and ICRs
 * with reserved bits (#GP), leave vCPU 0 running; both vCPUs flooding each
 * other with fixed and Startup IPIs at once, with interrupts off (IRR
 * only); the domain then ends while vCPU 1 keeps flooding; INITs that land
 * while vCPU 1 is taking a HLT exit (it halts in a loop with a vector
 * pending, so each HLT exits and returns): each must leave it down, the
 * exit dropped (handled, it made vCPU 1 blocked, so "up", and a wake-up
 * would have resumed the context the INIT discarded), and VCPUOP_up after
 * the INIT refused (it would resume that context too). The audit at death
 * (audit=on-death) must find every count right.
 */
#include "pvh.h"
#include <stdbool.h>
#include <xen/vcpu.h>

#define ICR             0x830u
#define MODE_FIXED      (0u << 8)
#define MODE_INIT       (5u << 8)
#define MODE_STARTUP    (6u << 8)
#define LOGICAL         (1u << 11)
#define ASSERT          (1u << 14)
#define SELF            (1u << 18)
#define ALL             (2u << 18)
#define ALL_BUT_SELF    (3u << 18)
#define DEST(id)        ((uint64_t)(id) << 32)

/* The stubs' pages (identity-mapped, below 1 MiB) and their Startup IPI vectors. */
#define STUB_U          0xa000ul        /* counts its starts, halts */
#define STUB_S          0xb000ul        /* INITs itself */
#define STUB_F          0xc000ul        /* floods vCPU 0 with IPIs */
#define STUB_H          0xd000ul        /* halts in a loop that never blocks */
#define VEC(page)       ((page) >> 12)
#define OFF_A           0x800
#define OFF_B           0x804
#define OFF_MODE        0x808

/*
 * Real-mode stubs, each copied to its page; DS = CS, interrupts off.
 * U: counts a start at OFF_A and halts. X (at S and F): enables its
 * x2APIC and sets OFF_A; then, with OFF_MODE 0 (S), sends INIT to APIC id
 * 1 (itself) and would set OFF_B; with OFF_MODE 1 (F), forever sends vCPU
 * 0 a fixed IPI 0x41 and a Startup IPI, itself a fixed IPI 0x43, and
 * counts rounds at OFF_B. H: enables its x2APIC, sends itself vector
 * 0x45 (pending for ever: interrupts stay off), counts a start at OFF_A,
 * then halts in a loop counting rounds at OFF_B (each HLT exits and, a
 * vector being pending, returns at once).
 */
extern const uint8_t stub_u[], stub_u_end[], stub_x[], stub_x_end[], stub_h[], stub_h_end[];
__asm__(
    ".pushsection .rodata.smp_stubs, \"a\"\n"
    ".code16\n"
    /* Interrupts off, DS = CS, the x2APIC software-enabled (SVR 0x1ff); EDX 0 after. */
    ".macro stub_enable_apic\n"
    "    cli\n"
    "    mov %cs, %ax\n"
    "    mov %ax, %ds\n"
    "    mov $0x80f, %ecx\n"
    "    mov $0x1ff, %eax\n"
    "    xor %edx, %edx\n"
    "    wrmsr\n"
    ".endm\n"
    "stub_u:\n"
    "    cli\n"
    "    mov %cs, %ax\n"
    "    mov %ax, %ds\n"
    "    lock incl 0x800\n"
    "1:  hlt\n"
    "    jmp 1b\n"
    "stub_u_end:\n"
    "stub_x:\n"
    "    stub_enable_apic\n"
    "    movl $1, 0x800\n"
    "    mov $0x830, %ecx\n"
    "    cmpl $0, 0x808\n"
    "    jne 2f\n"
    "    mov $0x4500, %eax\n"
    "    mov $1, %edx\n"
    "    wrmsr\n"
    "    movl $1, 0x804\n"
    "1:  hlt\n"
    "    jmp 1b\n"
    "2:  mov $0x41, %eax\n"
    "    xor %edx, %edx\n"
    "    wrmsr\n"
    "    mov $0x60c, %eax\n"
    "    wrmsr\n"
    "    mov $0x40043, %eax\n"
    "    wrmsr\n"
    "    lock incl 0x804\n"
    "    jmp 2b\n"
    "stub_x_end:\n"
    "stub_h:\n"
    "    stub_enable_apic\n"
    "    mov $0x83f, %ecx\n"
    "    mov $0x45, %eax\n"
    "    wrmsr\n"
    "    lock incl 0x800\n"
    "1:  hlt\n"
    "    lock incl 0x804\n"
    "    jmp 1b\n"
    "stub_h_end:\n"
    ".code64\n"
    ".popsection\n");

/* The word at physical page + off (computed out of the compiler's sight: low addresses are fine here). */
static volatile uint32_t *word(unsigned long page, unsigned int off)
{
    volatile uint32_t *w;
    __asm__("lea (%1,%2), %0" : "=r"(w) : "r"(page), "r"((unsigned long)off));
    return w;
}

static long is_up(unsigned int id)
{
    return hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_is_up, id, 0);
}

static long icr(uint64_t value)
{
    return pvh_wrmsr(ICR, value);
}

static uint64_t rdtsc(void)
{
    return __builtin_ia32_rdtsc();
}

#define LONG_WAIT   20000000000ull   /* several seconds of TCG time */
#define SHORT_WAIT  300000000ull

/* Spins until *w >= want or about `ticks` TSC ticks went by; the value last read. */
static uint32_t wait_for(volatile uint32_t *w, uint32_t want, uint64_t ticks)
{
    uint64_t end = rdtsc() + ticks;
    while (*w < want && rdtsc() < end)
        __asm__ volatile("pause");
    return *w;
}

/* Spins until vCPU 1's VCPUOP_is_up is `want` or the wait ends; the last answer. */
static long wait_up(long want, uint64_t ticks)
{
    uint64_t end = rdtsc() + ticks;
    long up;
    while ((up = is_up(1)) != want && rdtsc() < end)
        __asm__ volatile("pause");
    return up;
}

static void place(unsigned long page, const uint8_t *from, const uint8_t *to, uint32_t mode)
{
    memcpy((void *)page, from, (size_t)(to - from));
    *word(page, OFF_A) = *word(page, OFF_B) = 0;
    *word(page, OFF_MODE) = mode;
}

/* INIT and a Startup IPI to vCPU 1 at page; how many of the two trapped (none should). */
static unsigned int start(unsigned long page)
{
    return (icr(MODE_INIT | ASSERT | DEST(1)) != PVH_NO_TRAP) +
           (icr(MODE_STARTUP | VEC(page) | DEST(1)) != PVH_NO_TRAP);
}

static void check_ignored(void)
{
    TEST("Startup IPIs to ourselves, INITs to a vCPU already down: nothing");
    EXPECT_EQ(icr(MODE_STARTUP | VEC(STUB_U) | DEST(0)), PVH_NO_TRAP);
    EXPECT_EQ(icr(MODE_STARTUP | SELF | VEC(STUB_U)), PVH_NO_TRAP);
    unsigned int trapped = 0;
    for (unsigned int i = 0; i < 300; i++)
        trapped += icr(MODE_INIT | ASSERT | DEST(1)) != PVH_NO_TRAP;
    EXPECT_EQ(trapped, 0);
    EXPECT_EQ(wait_for(word(STUB_U, OFF_A), 1, SHORT_WAIT), 0);
    EXPECT_EQ(is_up(1), 0);
    EXPECT_EQ(is_up(0), 1);
}

static void check_storm(void)
{
    TEST("an INIT/Startup IPI storm: vCPU 1 up at the end, started once per pair at most");
    const unsigned int pairs = 400;
    unsigned int trapped = 0;
    for (unsigned int i = 0; i < pairs; i++) {
        trapped += start(STUB_U);
        if (i % 3 == 0)
            trapped += icr(MODE_STARTUP | VEC(STUB_S) | DEST(1)) != PVH_NO_TRAP;
    }
    EXPECT_EQ(trapped, 0);
    EXPECT(wait_for(word(STUB_U, OFF_A), 1, LONG_WAIT) >= 1);
    EXPECT(*word(STUB_U, OFF_A) <= pairs);
    EXPECT_EQ(*word(STUB_S, OFF_A), 0);        /* a Startup IPI to a started vCPU: ignored */
    EXPECT_EQ(wait_up(1, LONG_WAIT), 1);
    guest_printf("  %u starts for %u pairs\n", *word(STUB_U, OFF_A), pairs);
}

static void check_self_init(void)
{
    TEST("vCPU 1 INITs itself: down before its next instruction, restarted by a Startup IPI");
    EXPECT_EQ(start(STUB_S), 0);
    EXPECT_EQ(wait_for(word(STUB_S, OFF_A), 1, LONG_WAIT), 1);
    EXPECT_EQ(wait_up(0, LONG_WAIT), 0);
    EXPECT_EQ(*word(STUB_S, OFF_B), 0);
    uint32_t before = *word(STUB_U, OFF_A);
    EXPECT_EQ(icr(MODE_STARTUP | VEC(STUB_U) | DEST(1)), PVH_NO_TRAP);
    EXPECT_EQ(wait_for(word(STUB_U, OFF_A), before + 1, LONG_WAIT), before + 1);
    EXPECT_EQ(wait_up(1, LONG_WAIT), 1);
}

/* True if an INIT by this ICR could reach vCPU 0 (us): not sent. */
static bool reaches_us(uint32_t low, uint32_t dest)
{
    uint32_t shorthand = low & (3u << 18);
    if (shorthand == SELF || shorthand == ALL)
        return true;
    if (shorthand == ALL_BUT_SELF)
        return false;
    if (dest == 0xffffffffu)
        return true;
    return (low & LOGICAL) ? (dest >> 16) == 0 && (dest & 1) : dest == 0;
}

static void check_garbage(void)
{
    TEST("every delivery mode, shorthand and destination kind; reserved bits #GP");
    static const uint32_t dests[] = { 1, 5, 0xff, 0xffffffffu, 0x00010002u, 0xffff0000u };
    unsigned long sent = 0, gp = 0, other = 0;
    for (uint32_t mode = 0; mode < 8; mode++)
        for (uint32_t sh = 0; sh < 4; sh++)
            for (uint32_t logical = 0; logical < 2; logical++)
                for (unsigned int d = 0; d < sizeof(dests) / sizeof(dests[0]); d++) {
                    uint32_t low = (mode << 8) | (sh << 18) | (logical ? LOGICAL : 0) | ASSERT |
                                   (mode == 6 ? VEC(STUB_U) : 0x30 + mode);
                    if (mode == 5 && reaches_us(low, dests[d]))
                        continue;
                    long r = icr(DEST(dests[d]) | low);
                    other += r != PVH_NO_TRAP && r != PVH_GP;
                    sent++;
                    gp += r == PVH_GP;
                }
    EXPECT_EQ(icr(DEST(1) | (1u << 20) | 0x30), PVH_GP);
    EXPECT_EQ(icr(DEST(1) | (1u << 13) | 0x30), PVH_GP);
    EXPECT_EQ(icr(DEST(1) | (0xffful << 20) | MODE_INIT | ASSERT), PVH_GP);
    EXPECT_EQ(icr(~0ul), PVH_GP);
    guest_printf("  %lu ICRs, %lu #GP\n", sent, gp);
    EXPECT(gp > 0 && gp < sent);
    EXPECT_EQ(other, 0);
    EXPECT_EQ(is_up(0), 1);
}

static void check_flood(void)
{
    TEST("both vCPUs flood each other with fixed and Startup IPIs");
    EXPECT_EQ(start(STUB_F), 0);
    EXPECT_EQ(wait_for(word(STUB_F, OFF_A), 1, LONG_WAIT), 1);
    unsigned int trapped = 0;
    for (unsigned int i = 0; i < 1500; i++)
        trapped += (icr(MODE_FIXED | 0x42 | DEST(1)) != PVH_NO_TRAP) +
                   (icr(MODE_STARTUP | VEC(STUB_U) | DEST(1)) != PVH_NO_TRAP) +
                   (icr(MODE_FIXED | ALL | 0x44) != PVH_NO_TRAP);
    EXPECT_EQ(trapped, 0);
    uint32_t rounds = *word(STUB_F, OFF_B);
    EXPECT(wait_for(word(STUB_F, OFF_B), rounds + 10, LONG_WAIT) >= rounds + 10);
    EXPECT_EQ(is_up(1), 1);
    EXPECT_EQ(is_up(0), 1);
    guest_printf("  vCPU 1 at %u rounds; ending the domain while it floods\n", *word(STUB_F, OFF_B));
}

static void check_init_mid_exit(void)
{
    TEST("INITs landing while vCPU 1 takes HLT exits: it is down after each, not blocked");
    const unsigned int rounds = 200;
    unsigned int trapped = 0, left_up = 0;
    for (unsigned int i = 0; i < rounds; i++) {
        uint32_t starts = *word(STUB_H, OFF_A);
        trapped += start(STUB_H);
        if (wait_for(word(STUB_H, OFF_A), starts + 1, LONG_WAIT) != starts + 1)
            break;
        uint32_t halts = *word(STUB_H, OFF_B);
        wait_for(word(STUB_H, OFF_B), halts + 1 + i % 7, LONG_WAIT);
        trapped += icr(MODE_INIT | ASSERT | DEST(1)) != PVH_NO_TRAP;
        /* Give the exit vCPU 1 may have been taking time to be handled, then look. */
        wait_for(word(STUB_H, OFF_MODE), 1, SHORT_WAIT / 4);
        left_up += is_up(1) != 0;
    }
    guest_printf("  %u starts for %u rounds, %u halts; left up after the INIT: %u\n",
                 *word(STUB_H, OFF_A), rounds, *word(STUB_H, OFF_B), left_up);
    EXPECT_EQ(trapped, 0);
    EXPECT_EQ(*word(STUB_H, OFF_A), rounds);
    EXPECT_EQ(left_up, 0);
    TEST("VCPUOP_up after an INIT: -EINVAL (only a Startup IPI starts it again), still down");
    EXPECT_EQ(hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_up, 1, 0), -XEN_EINVAL);
    EXPECT_EQ(is_up(1), 0);
    EXPECT_EQ(*word(STUB_H, OFF_A), rounds);
}

void test_main(void)
{
    place(STUB_U, stub_u, stub_u_end, 0);
    place(STUB_S, stub_x, stub_x_end, 0);
    place(STUB_F, stub_x, stub_x_end, 1);
    place(STUB_H, stub_h, stub_h_end, 0);
    check_ignored();
    check_storm();
    check_self_init();
    check_garbage();
    check_init_mid_exit();
    check_flood();
}
