/*
 * multi_create_race (run with --vcpus 2 and its own image as --initrd; pvkit
 * only: PVKIT_DOMCTL_create_pv is pvkit's): the toolstack's buffers change
 * while create_pv reads them.
 *
 * vCPU 0 copies its initrd (this kernel's ELF) into a buffer and creates
 * domains from the copy, over and over, destroying each one built. Meanwhile
 * vCPU 1, which runs in parallel on another CPU and needs no hypercall to
 * write our memory, flips fields of the copy between their good value and a
 * bad one: e_phnum (0xffff), e_phoff (huge), a PT_LOAD's p_filesz, p_memsz
 * (1 GiB), p_paddr, p_offset (past the end) and p_type, the PT_NOTE
 * contents, segment bytes, and the command line's NUL (making it too long).
 * The hypervisor parses the headers, then re-reads them to load
 * (pv_kernel_load): whatever it sees, each create must end in 0, -EINVAL or
 * -EFAULT, a domain built must be destroyed whole, and after every round
 * the machine's free pages must be what they were before it. Finally, with
 * vCPU 1 stopped and the copy restored, a child is created and run to its
 * poweroff: the hypervisor is still sound.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include <elf.h>
#include "evt/evt.h"
#include "public/pvkit.h"
#include "create.h"

#define MS 1000000ULL
#define ROUNDS 600
#define CHILD_KB 4096
#define IMG_MAX (256u << 10)

static uint8_t img[IMG_MAX] __attribute__((aligned(4096)));
static char cmd[2048];
static volatile int stop, ap_ready;
static volatile unsigned long flips;

struct mutation {
    uint64_t off;               /* in img, or ~0: the command line's NUL */
    unsigned int size;          /* 1, 2, 4 or 8 */
    uint64_t bad;
};
static struct mutation muts[16];
static unsigned int nr_muts;

static void put(uint64_t off, unsigned int size, uint64_t v)
{
    uint8_t *p = off == ~0ull ? (uint8_t *)&cmd[sizeof("multi_create_race role=1") - 1] : &img[off];
    switch (size) {
    case 1: __atomic_store_n(p, (uint8_t)v, __ATOMIC_RELAXED); break;
    case 2: __atomic_store_n((uint16_t *)p, (uint16_t)v, __ATOMIC_RELAXED); break;
    case 4: __atomic_store_n((uint32_t *)p, (uint32_t)v, __ATOMIC_RELAXED); break;
    default: __atomic_store_n((uint64_t *)p, v, __ATOMIC_RELAXED); break;
    }
}

static uint64_t get(uint64_t off, unsigned int size)
{
    const uint8_t *p = off == ~0ull ? (uint8_t *)&cmd[sizeof("multi_create_race role=1") - 1]
                                    : &img[off];
    switch (size) {
    case 1: return *p;
    case 2: return *(const uint16_t *)p;
    case 4: return *(const uint32_t *)p;
    default: return *(const uint64_t *)p;
    }
}

static uint64_t good[16];

/* vCPU 1: flips every mutation between bad and good, with varying hold times. */
void evt_ap_main(unsigned long cpu)
{
    unsigned long seed = 12345;
    (void)cpu;
    __atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        unsigned int k = (unsigned int)(seed >> 33) % nr_muts;
        unsigned int hold = (unsigned int)(seed >> 20) % 300;
        put(muts[k].off, muts[k].size, muts[k].bad);
        for (unsigned int i = 0; i < hold; i++)
            __asm__ volatile("pause");
        put(muts[k].off, muts[k].size, good[k]);
        for (unsigned int i = 0; i < hold / 2; i++)
            __asm__ volatile("pause");
        flips++;
    }
    for (;;)
        hyp_sched_op(SCHEDOP_block, NULL);
}

static void add(uint64_t off, unsigned int size, uint64_t bad)
{
    muts[nr_muts] = (struct mutation){ off, size, bad };
    good[nr_muts] = get(off, size);
    nr_muts++;
}

static void create_op(struct xen_domctl *op)
{
    create_child_op(op, 0, CHILD_KB, cmd);
    create_args(op)->kernel = (uint64_t)img;
}

static long evt_dom_exc = -1;


void test_main(void)
{
    create_child_exit("multi_create_race child");
    TEST("setup: a copy of our image, the fields to flip, vCPU 1 up");
    EXPECT_EQ(evt_init(), 0);
    uint64_t len = guest_start_info->mod_len;
    if (!evt_shared || !EXPECT(len > 4096 && len <= IMG_MAX))
        return;
    memcpy(img, (const void *)guest_start_info->mod_start, len);
    memset(cmd, 'x', sizeof(cmd) - 1);
    memcpy(cmd, "multi_create_race role=1", sizeof("multi_create_race role=1"));
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    uint64_t load = 0, note = 0;
    for (unsigned int i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff) + i;
        uint64_t at = eh->e_phoff + i * sizeof(*ph);
        if (ph->p_type == PT_LOAD && !load)
            load = at;
        if (ph->p_type == PT_NOTE && !note)
            note = ph->p_offset;
    }
    if (!EXPECT(load && note))
        return;
    const Elf64_Phdr *lp = (const Elf64_Phdr *)(img + load);
    add(offsetof(Elf64_Ehdr, e_phnum), 2, 0xffff);
    add(offsetof(Elf64_Ehdr, e_phoff), 8, 0xfffffffffffff000ull);
    add(load + offsetof(Elf64_Phdr, p_filesz), 8, 0x7fffffffull);
    add(load + offsetof(Elf64_Phdr, p_memsz), 8, 1ull << 30);
    add(load + offsetof(Elf64_Phdr, p_paddr), 8, lp->p_paddr + (64ull << 20));
    add(load + offsetof(Elf64_Phdr, p_offset), 8, len - 8);
    add(load + offsetof(Elf64_Phdr, p_type), 4, PT_NOTE);
    add(note, 8, 0xffffffffffffffffull);
    add(note + 12, 4, 0x41414141);
    add(lp->p_offset + 64, 8, 0xcccccccccccccccc);
    add(~0ull, 1, 'x');
    add(offsetof(Elf64_Ehdr, e_phnum), 2, 1);
    evt_dom_exc = create_watch_children();
    EXPECT_EQ(evt_start_ap(1, &ap_ready), 0);
    if (!ap_ready)
        return;

    TEST("create from a buffer vCPU 1 keeps changing: 0, -EINVAL or -EFAULT, no page lost");
    struct xen_domctl op;
    uint64_t free0 = free_pages();
    unsigned int ok = 0, einval = 0, efault = 0, other = 0, destroy_bad = 0, leaks = 0;
    long other_rc = 0;
    for (unsigned int r = 0; r < ROUNDS; r++) {
        create_op(&op);
        long rc = hyp_domctl(&op);
        if (rc == 0) {
            ok++;
            destroy_bad += dctl(XEN_DOMCTL_destroydomain, op.domain, &op) != 0;
        } else if (rc == -XEN_EINVAL) {
            einval++;
        } else if (rc == -XEN_EFAULT) {
            efault++;
        } else {
            other++;
            other_rc = rc;
        }
        leaks += free_pages() != free0;
    }
    __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
    guest_printf("     %u rounds, %lu flips: %u built, %u -EINVAL, %u -EFAULT, %u other (%ld)\n",
                 ROUNDS, flips, ok, einval, efault, other, other_rc);
    EXPECT_EQ(other, 0);
    EXPECT_EQ(destroy_bad, 0);
    EXPECT_EQ(leaks, 0);
    EXPECT(ok > 0 && einval > 0);
    EXPECT_EQ(free_pages(), free0);

    TEST("afterwards: a child from the restored image runs to its poweroff");
    evt_sleep_ms(10);
    memcpy(img, (const void *)guest_start_info->mod_start, len);
    cmd[sizeof("multi_create_race role=1") - 1] = 0;
    create_op(&op);
    EXPECT_EQ(hyp_domctl(&op), 0);
    domid_t id = op.domain;
    EXPECT_EQ(create_run_to_shutdown(evt_dom_exc, id), SHUTDOWN_poweroff);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, id, &op), 0);
    EXPECT_EQ(free_pages(), free0);
    evt_disable();
}
