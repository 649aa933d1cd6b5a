/*
 * multi_create_foreign (run with --vcpus 2 and its own image as --initrd;
 * pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): the initial domain maps
 * frames of a domain still under construction (a privileged foreign
 * mapping, mmu_update with foreigndom = the building domain; its
 * shared_info frame comes from getdomaininfo, allowed while building) from
 * vCPU 1 while vCPU 0's create_pv goes on in pieces.
 *
 * Round A: vCPU 1 maps, writable, the frames the build has allocated so far
 * (shared_info S, the grant frame, then S+3.. which are the p2m pages and
 * the boot region: kernel, start_info, page tables) and lets the build
 * finish. The builder then writes every boot frame's type and counts
 * outright (mm/boot_tables.c set_frame_state), over the writable type and
 * the reference our mappings hold: a frame we map writable becomes a
 * validated page table of the new domain. Expected: no frame we still map
 * writable is a live page table of the new domain (we look for its L4,
 * which carries the hypervisor's L4 slots, and for its L1s, whose entries
 * name its own frames) -- a foreign writable mapping must keep the frame
 * from becoming a table (Xen: the type count keeps it PGT_writable_page and
 * the builder, libxc, is itself the one mapping it).
 *
 * Round B: vCPU 1 maps frames of the building domain the same way and then
 * destroys it (the build is abandoned: domain_build_abandon). vCPU 0's
 * create answers -ESRCH. Then vCPU 0 creates another domain of the same
 * size, built to the end. Expected: none of the frames we still map belongs
 * to that new domain (checked by trying a foreign mapping of each with the
 * new domain as owner): the abandoned domain's frames that another domain
 * maps must not be freed (Xen frees a page only when its last reference
 * goes; the domain stays dying until then).
 *
 * Found (pvkit at ae004f8): both fail. mmu.c foreign_domain accepts a
 * building domain; domain_build.c's set_frame_state overwrites our
 * references (round A: we keep a writable mapping of the new domain's L4
 * and L1s), and domain_free (domain.c), which domain_build_abandon uses,
 * zeroes every frame's counts and frees it whatever maps it (round B: our
 * mappings now reach the next domain's memory).
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "evt/evt.h"
#include "pt.h"
#include "public/pvkit.h"
#include "create.h"

#define MS 1000000ULL
#define CHILD_KB (64u << 10)
#define WIN 16                  /* frames mapped per round */
#define ID_A 11
#define ID_B 12
#define ID_C 13

static char win_a[WIN][4096] __attribute__((aligned(4096)));
static char win_b[WIN][4096] __attribute__((aligned(4096)));
static char scratch[4096] __attribute__((aligned(4096)));
static char pool[4][4096] __attribute__((aligned(4096)));

static volatile int ap_ready, go_round, ap_done;
/*
 * The child's layout (boot_layout.c): the same image as ours, so the same
 * kernel end; its p2m pages follow the kernel, then start_info, the store
 * and console pages, the boot page tables and the stack. The builder
 * writes the M2P as it allocates each pfn (in the first pieces), so the
 * child's frame of a pfn is the one whose M2P entry names it and that a
 * foreign mapping with the child as owner accepts. Window 0 maps
 * shared_info S, window i >= 1 the frame of pfn si_pfn + i - 1.
 */
static uint64_t child_si_pfn;
static volatile long ap_mapped, ap_destroy_rc = 1, ap_seen_building;
static volatile uint64_t ap_frame[WIN];    /* 0: not mapped */

/* Maps frame mfn of domain dom at our va, writable; pt_map_frame's twin, kept (timing race). */
static long map_foreign(void *va, uint64_t mfn, domid_t dom)
{
    mmu_update_t req = { .ptr = pt_entry_ma((unsigned long)va, 1),
                         .val = (mfn << 12) | PTE_DATA_RW | PTE_NX };
    long rc = hyp_mmu_update(&req, 1, NULL, dom);
    if (rc == 0)
        pt_invlpg((unsigned long)va);
    return rc;
}

/* vCPU 1: for round r (1: A, 2: B) waits for the building domain and maps its frames. */
static void ap_round(int r)
{
    domid_t id = r == 1 ? ID_A : ID_B;
    char (*win)[4096] = r == 1 ? win_a : win_b;
    struct xen_domctl op;
    uint64_t end = evt_now() + 20000 * MS, s = 0;

    while (evt_now() < end) {
        op = (struct xen_domctl){ .cmd = XEN_DOMCTL_getdomaininfo, .domain = id,
                                  .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
        if (hyp_domctl(&op) == 0 && op.domain == id) {
            s = op.u.getdomaininfo.shared_info_frame;
            break;
        }
    }
    /* Busy with another domctl: it is still building. */
    ap_seen_building = dctl(XEN_DOMCTL_pausedomain, id, &op) == -XEN_EBUSY;
    uint64_t max_mfn = (uint64_t)hyp_memory_op(XENMEM_maximum_ram_page, NULL) + 1;
    if (max_mfn > MACH2PHYS_NR_ENTRIES)
        max_mfn = MACH2PHYS_NR_ENTRIES;
    long n = 0;
    for (unsigned int i = 0; s && i < WIN; i++) {
        ap_frame[i] = 0;
    }
    /*
     * Round B: only shared_info, then the destroy while the build goes on.
     * Round A: if the build ends during a pass (the first mappings succeed),
     * one more pass maps the windows that pass had already tried.
     */
    unsigned int passes = r == 1 ? 200 : 1;
    for (unsigned int pass = 0; s && pass < passes && n < WIN; pass++) {
        long before = n;
        for (unsigned int k = 0; k < WIN; k++) {
            /* The boot page tables (windows 4-8) first: they are typed by the last piece. */
            unsigned int i = r == 2 ? 0 : k < 5 ? k + 4 : k < 9 ? k - 5 : k;
            if (r == 2 && k)
                break;
            if (ap_frame[i])
                continue;
            if (i == 0) {
                if (map_foreign(win[i], s, id) == 0) {
                    ap_frame[i] = s;
                    n++;
                }
                continue;
            }
            /* The builder writes the M2P as it allocates: the child's frame of the pfn. */
            for (uint64_t mfn = 0; mfn < max_mfn; mfn++)
                if (GUEST_M2P[mfn] == child_si_pfn + i - 1 && map_foreign(win[i], mfn, id) == 0) {
                    ap_frame[i] = mfn;
                    n++;
                    break;
                }
        }
        if (before == 0 && n > 0 && passes < pass + 2)
            passes = pass + 2;
    }
    ap_mapped = n;
    if (r == 2)
        ap_destroy_rc = dctl(XEN_DOMCTL_destroydomain, id, &op);
}

void evt_ap_main(unsigned long cpu)
{
    (void)cpu;
    __atomic_store_n(&ap_ready, 1, __ATOMIC_SEQ_CST);
    for (int r = 1; r <= 2; r++) {
        while (__atomic_load_n(&go_round, __ATOMIC_ACQUIRE) < r)
            __asm__ volatile("pause");
        ap_round(r);
        __atomic_store_n(&ap_done, r, __ATOMIC_SEQ_CST);
    }
    for (;;)
        hyp_sched_op(SCHEDOP_block, NULL);
}

static void create_op(struct xen_domctl *op, domid_t id)
{
    create_child_op(op, id, CHILD_KB, "multi_create_foreign role=1");
}

/* Does page p (one of our windows) look like a PV L4 (the hypervisor's slots, as ours)? */
static int looks_like_l4(const uint64_t *p, const uint64_t *our_l4)
{
    for (unsigned int i = 256; i < 272; i++)
        if (our_l4[i] && p[i] == our_l4[i])
            return 1;
    return 0;
}

void test_main(void)
{
    if (evt_cmdline_num("role", 0) == 1) {
        guest_printf("multi_create_foreign child\n");
        guest_shutdown(SHUTDOWN_poweroff);
    }
    TEST("setup: vCPU 1 up");
    EXPECT_EQ(evt_init(), 0);
    if (!evt_shared || !EXPECT(guest_start_info->mod_len > 4096))
        return;
    pt_pool_init(pool, 4);
    /* Touch the windows so their L1 entries exist and are ours. */
    for (unsigned int i = 0; i < WIN; i++)
        win_a[i][0] = win_b[i][0] = 1;
    EXPECT_EQ(evt_start_ap(1, &ap_ready), 0);
    if (!ap_ready)
        return;
    const uint64_t *our_l4 = pt_va_of_mfn(pt_cur_l4_mfn);
    {
        const start_info_t *si = guest_start_info;
        uint64_t base = (uint64_t)si->pt_base - ((uint64_t)si->pt_base & 0x3fffffffull);
        uint64_t our_si = ((uint64_t)si - base) >> 12;
        uint64_t kend = our_si - (si->nr_pages * 8 + 4095) / 4096 - (si->mod_len + 4095) / 4096;
        child_si_pfn = kend + ((uint64_t)CHILD_KB / 4 * 8 + 4095) / 4096;
        guest_printf("     our start_info at pfn %lx, the child's expected at %lx\n",
                     (unsigned long)our_si, (unsigned long)child_si_pfn);
    }
    EXPECT(our_l4 != NULL);
    struct xen_domctl op;

    TEST("A: frames we map writable while the domain is built never become its tables");
    create_op(&op, ID_A);
    __atomic_store_n(&go_round, 1, __ATOMIC_SEQ_CST);
    long rc = hyp_domctl(&op);
    evt_wait_flag(&ap_done, 20000 * MS);
    guest_printf("     create %ld; vCPU 1 mapped %ld frames of the building domain (saw it "
                 "building: %ld)\n", rc, ap_mapped, ap_seen_building);
    EXPECT_EQ(rc, 0);
    if (ap_mapped == 0) /* refused: a building domain is unreachable (pvkit since 765b559) */
        guest_printf("     every foreign mapping of the building domain was refused\n");
    else
        EXPECT(ap_frame[1] && guest_strstr((const char *)win_a[1], "xen-3.0-x86_64") != NULL);
    unsigned int l4s = 0, tables = 0;
    for (unsigned int i = 0; i < WIN && our_l4; i++) {
        if (!ap_frame[i])
            continue;
        const uint64_t *p = (const uint64_t *)win_a[i];
        if (looks_like_l4(p, our_l4)) {
            l4s++;
            guest_printf("     frame %lx, mapped writable by us, is d%u's L4\n",
                         (unsigned long)ap_frame[i], ID_A);
        }
        /* An L1 of the boot map: present entries whose frames are the ones we mapped. */
        unsigned int hits = 0;
        for (unsigned int k = 0; k < 512; k++)
            if ((p[k] & PTE_P) && ((p[k] & PTE_MFN) >> 12) - ap_frame[0] < (uint64_t)CHILD_KB)
                hits++;
        if (hits > 8 && !looks_like_l4(p, our_l4)) {
            tables++;
            guest_printf("     frame %lx, mapped writable by us, is a table of d%u (%u entries)\n",
                         (unsigned long)ap_frame[i], ID_A, hits);
        }
    }
    guest_printf("     %u of our writable windows hold d%u's L4, %u hold a table naming its frames\n",
                 l4s, ID_A, tables);
    EXPECT_EQ(l4s, 0);
    EXPECT_EQ(tables, 0);

    TEST("A: destroying it keeps (dying) the frames we still map");
    uint64_t free_a = free_pages();
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, ID_A, &op), 0);
    long gi = dctl(XEN_DOMCTL_getdomaininfo, ID_A, &op);
    int dying = gi == 0 && op.domain == ID_A && (op.u.getdomaininfo.flags & XEN_DOMINF_dying);
    guest_printf("     free pages %lu -> %lu (d%u had %u pages); d%u %s\n", (unsigned long)free_a,
                 (unsigned long)free_pages(), ID_A, CHILD_KB / 4, ID_A,
                 dying ? "stays dying" : "is gone");
    EXPECT(dying);

    TEST("B: destroying the building domain keeps the frames we map; another domain gets none");
    uint64_t free0 = free_pages();
    create_op(&op, ID_B);
    __atomic_store_n(&go_round, 2, __ATOMIC_SEQ_CST);
    rc = hyp_domctl(&op);
    uint64_t end = evt_now() + 20000 * MS;
    while (__atomic_load_n(&ap_done, __ATOMIC_ACQUIRE) < 2 && evt_now() < end)
        evt_sleep_ms(5);
    guest_printf("     create %ld, vCPU 1 mapped %ld frames then destroyed it: %ld\n", rc,
                 ap_mapped, ap_destroy_rc);
    EXPECT_EQ(rc, -XEN_ESRCH);
    EXPECT_EQ(ap_destroy_rc, 0);
    uint64_t free1 = free_pages();
    guest_printf("     free pages %lu before, %lu after the abandon (%ld mapped by us)\n",
                 (unsigned long)free0, (unsigned long)free1, ap_mapped);
    create_op(&op, ID_C);
    EXPECT_EQ(hyp_domctl(&op), 0);
    unsigned int now_c = 0;
    for (unsigned int i = 0; i < WIN; i++)
        if (ap_frame[i] && map_foreign(scratch, ap_frame[i], ID_C) == 0)
            now_c++;
    guest_printf("     %u frames we still map are now d%u's\n", now_c, ID_C);
    EXPECT_EQ(now_c, 0);
}
