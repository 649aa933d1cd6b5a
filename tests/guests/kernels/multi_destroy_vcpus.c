/*
 * multi_destroy_vcpus (the initial domain A = 0 and one --domu copy B = 1
 * with "role=1" and --domu-vcpus 2; pvkit only): destroying a domain whose
 * vCPUs hold every per-vCPU thing the hypervisor references or writes must
 * give all of it back and never write the frames again.
 *
 * Why: destroydomain takes B's vCPUs off their CPUs and drops their
 * page-table, GDT and vcpu_info references (domctl.c release_vcpu), the LDT
 * window references go when a CPU switches away (ldt.c unmap_window), and
 * every frame nothing references is freed. A reference left behind keeps a
 * frame B's for ever (B never freed); a writer that still runs for the dead
 * domain (a guest timer firing VIRQ_TIMER into its shared_info, the
 * runstate area or pvclock written at a switch, an event raised in a
 * registered vcpu_info) writes a frame that already belongs to someone else.
 *
 * B brings up vCPU 1; each vCPU registers its vcpu_info (in B's data, not
 * shared_info) and a runstate area (one page), loads an LDT (FS = LDT
 * selector 0x0f, so its CPU's LDT window maps and types the page), installs
 * a GDT frame with set_gdt, sets a user L4 with NEW_USER_BASEPTR, and arms a
 * 1 ms periodic timer and a singleshot; vCPU 1 then blocks in SCHEDOP_poll
 * (60 s timeout) on an IPI port, vCPU 0 spins yielding. B publishes the
 * frames (vcpu_info, runstate, LDT, GDT, user L4, grant table) in a page it
 * grants A. A maps it, copies the list, unmaps it, reads B's shared_info
 * frame (getdomaininfo), gives back 9000 of its own frames, destroys the
 * live B. Checks: destroy 0; getdomaininfo(1) -ESRCH; free pages up by at
 * least B's pages; A's increase_reservation of 9000 gets every watched
 * frame back (none kept by a leaked reference); A fills them with a
 * pattern, waits 300 ms (B's 1 ms timer would have fired ~300 times), and
 * every watched frame still holds exactly the pattern.
 *
 * pvkit: passes (release_vcpu drops GDT/L4/vcpu_info; LDT windows unmapped
 * at the switch; timers, runstate and pvclock only touch running domains).
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "multi.h"
#include "pt.h"
#include "gnt.h"
#include <xen/grant_table.h>
#include <xen/memory.h>

#define MS 1000000ULL
#define TIMEOUT (20000 * MS)
#define REF 10
#define NR_GIVE 9000
#define DESC_DATA 0x00cff3000000ffffUL
#define MAGIC 0x4445535452595643ULL
#define NW 8

struct info {                   /* the page B grants A */
    volatile uint64_t magic;
    volatile uint64_t nr;
    volatile uint64_t mfn[NW];
    volatile uint64_t beat;
};

static char pool[8][4096] __attribute__((aligned(4096)));
static struct info info_page __attribute__((aligned(4096)));
static uint64_t ldt_page[512] __attribute__((aligned(4096)));
static uint64_t gdt_page[512] __attribute__((aligned(4096)));
static uint64_t user_l4[512] __attribute__((aligned(4096)));
static struct vcpu_runstate_info rs_page[4096 / sizeof(struct vcpu_runstate_info)]
    __attribute__((aligned(4096)));
static xen_pfn_t extents[NR_GIVE];
static volatile int ap_ready;
static volatile long ap_rc[8];

/* Everything a vCPU can make the hypervisor hold; results in ap_rc[cpu*4..]. */
static long hold_everything(unsigned int cpu)
{
    long rc;
    struct vcpu_register_runstate_memory_area rs = { .addr.v = &rs_page[cpu] };
    unsigned long gdt_mfn = pt_mfn_of(gdt_page);
    struct mmuext_op ldt = { .cmd = MMUEXT_SET_LDT, .arg1.linear_addr = (unsigned long)ldt_page,
                             .arg2.nr_ents = 4 };
    struct vcpu_set_periodic_timer per = { .period_ns = 1 * MS };
    struct vcpu_set_singleshot_timer ss = { .timeout_abs_ns = evt_now() + 40 * MS };

    if ((rc = evt_register_vcpu_info(cpu)))
        return 100 + rc;
    if ((rc = hyp_vcpu_op(VCPUOP_register_runstate_memory_area, cpu, &rs)))
        return 200 + rc;
    if ((rc = hyp_mmuext_op(&ldt, 1, NULL, DOMID_SELF)))
        return 300 + rc;
    __asm__ volatile("mov %0, %%fs" : : "r"(0x0f) : "memory");
    if ((rc = hyp_set_gdt(&gdt_mfn, 16)))
        return 400 + rc;
    if ((rc = hyp_mmuext1(MMUEXT_NEW_USER_BASEPTR, pt_mfn_of(user_l4))))
        return 500 + rc;
    if ((rc = hyp_vcpu_op(VCPUOP_set_periodic_timer, cpu, &per)))
        return 600 + rc;
    if ((rc = hyp_vcpu_op(VCPUOP_set_singleshot_timer, cpu, &ss)))
        return 700 + rc;
    return 0;
}

void evt_ap_main(unsigned long cpu)
{
    long port = evt_bind_ipi((uint32_t)cpu);
    ap_rc[cpu] = hold_everything((unsigned int)cpu);
    if (port <= 0)
        ap_rc[cpu] = 800 + port;
    ap_ready = 1;
    evtchn_port_t p = (evtchn_port_t)(port > 0 ? port : 1);
    for (;;) {  /* events masked: poll until destroyed */
        struct sched_poll poll = { .nr_ports = 1, .timeout = evt_now() + 60000 * MS };
        set_xen_guest_handle(poll.ports, &p);
        hyp_sched_op(SCHEDOP_poll, &poll);
    }
}

static void role_b(void)
{
    struct grant_entry_v1 *table = (struct grant_entry_v1 *)pool[0];

    TEST("B: hold LDT, GDT, user L4, vcpu_info, runstate, timers on 2 vCPUs; grant A the list");
    xen_pfn_t frame = gnt_setup_expect(table);
    ldt_page[1] = DESC_DATA;
    EXPECT_EQ(pt_map_ro(ldt_page), 0);
    EXPECT_EQ(pt_map_ro(gdt_page), 0);
    EXPECT_EQ(pt_map_ro(user_l4), 0);
    EXPECT_EQ(evt_start_ap(1, &ap_ready), 0);
    EXPECT_EQ(ap_rc[1], 0);
    evt_disable();  /* the callback would read the old vcpu_info until evt_vi is set */
    long rc0 = hold_everything(0);
    evt_enable();
    EXPECT_EQ(rc0, 0);
    evt_timer_port();   /* VIRQ_TIMER bound on vCPU 0: the timer writes shared_info */
    info_page.mfn[0] = pt_mfn_of(evt_vcpu_info(0));
    info_page.mfn[1] = pt_mfn_of(evt_vcpu_info(1));
    info_page.mfn[2] = pt_mfn_of(rs_page);
    info_page.mfn[3] = pt_mfn_of(ldt_page);
    info_page.mfn[4] = pt_mfn_of(gdt_page);
    info_page.mfn[5] = pt_mfn_of(user_l4);
    info_page.mfn[6] = frame;
    info_page.nr = 7;
    gnt_permit(table, REF, 0, &info_page);
    __atomic_store_n(&info_page.magic, MAGIC, __ATOMIC_SEQ_CST);
    uint64_t end = evt_now() + 4 * TIMEOUT;
    while (evt_now() < end) {
        info_page.beat++;
        hyp_sched_op(SCHEDOP_yield, NULL);
    }
}

static void role_a(void)
{
    struct xen_domctl op;
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)pool[1],
                                        .flags = GNTMAP_host_map | GNTMAP_readonly,
                                        .ref = REF, .dom = 1 };
    const xen_pfn_t *p2m = (const xen_pfn_t *)guest_start_info->mfn_list;
    unsigned long nr = guest_start_info->nr_pages;
    const struct info *in = (const struct info *)pool[1];
    uint64_t watch[NW + 1];
    unsigned int nw = 0;

    TEST("A: read B's list of held frames");
    uint64_t end = evt_now() + TIMEOUT;
    while (evt_now() < end) {
        map.status = 0;
        if (hyp_grant_table_op(GNTTABOP_map_grant_ref, &map, 1) == 0 && map.status == GNTST_okay) {
            if (__atomic_load_n(&in->magic, __ATOMIC_SEQ_CST) == MAGIC)
                break;
            struct gnttab_unmap_grant_ref un = { .host_addr = (unsigned long)pool[1],
                                                 .handle = map.handle };
            hyp_grant_table_op(GNTTABOP_unmap_grant_ref, &un, 1);
            map.status = GNTST_general_error;
        }
        evt_sleep_ms(5);
    }
    if (!EXPECT_EQ(map.status, GNTST_okay))
        return;
    for (uint64_t i = 0; i < in->nr && i < NW; i++) {
        int dup = 0;
        for (unsigned int j = 0; j < nw; j++)
            dup |= watch[j] == in->mfn[i];
        if (!dup)
            watch[nw++] = in->mfn[i];
    }
    gnt_unmap_expect(pool[1], map.handle);
    EXPECT_EQ(pt_map_rw(pool[1]), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), 0);
    watch[nw++] = op.u.getdomaininfo.shared_info_frame;
    uint64_t b_pages = op.u.getdomaininfo.tot_pages;
    EXPECT_EQ(op.u.getdomaininfo.nr_online_vcpus, 2);
    guest_printf("     B: %lu pages, %u frames watched\n", (unsigned long)b_pages, nw);

    TEST("A: give back memory, destroy the live B");
    for (unsigned long i = 0; i < NR_GIVE; i++)
        extents[i] = p2m[nr - 1 - i];
    EXPECT_EQ(hyp_self_reservation(XENMEM_decrease_reservation, extents, NR_GIVE), NR_GIVE);
    uint64_t free0 = free_pages();
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), -XEN_ESRCH);
    uint64_t free1 = free_pages();
    guest_printf("     free pages %lu -> %lu\n", (unsigned long)free0, (unsigned long)free1);
    EXPECT(free1 >= free0 + b_pages);

    TEST("A: take B's frames back; nothing writes them");
    long got = hyp_self_reservation(XENMEM_increase_reservation, extents, NR_GIVE);
    EXPECT_EQ(got, NR_GIVE);
    uint64_t *s = (uint64_t *)pool[2];
    unsigned int found = 0;
    long at[NW + 1];
    for (unsigned int w = 0; w < nw; w++) {
        at[w] = -1;
        for (long i = 0; i < got; i++)
            if (extents[i] == watch[w])
                at[w] = i;
        if (at[w] < 0)
            guest_printf("     watched frame %u (%lx) not given back\n", w,
                         (unsigned long)watch[w]);
        found += at[w] >= 0;
    }
    EXPECT_EQ(found, nw);
    /* Fill each in turn through one mapping (pass 0), then wait, then check each (pass 1). */
    unsigned int changed = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass)
            evt_sleep_ms(300);
        for (unsigned int w = 0; w < nw; w++) {
            if (at[w] < 0)
                continue;
            EXPECT_EQ(hyp_update_va_mapping((unsigned long)s, (watch[w] << 12) | PTE_DATA_RW,
                                            UVMF_INVLPG), 0);
            for (int i = 0; i < 512; i++) {
                if (!pass) {
                    s[i] = 0x5a5a5a5a00000000ULL | w;
                } else if (s[i] != (0x5a5a5a5a00000000ULL | w)) {
                    guest_printf("     frame %u (%lx) written at byte %d: %lx\n", w,
                                 (unsigned long)watch[w], i * 8, (unsigned long)s[i]);
                    changed++;
                    break;
                }
            }
        }
    }
    EXPECT_EQ(changed, 0);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)s, 0, UVMF_INVLPG), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), -XEN_ESRCH);
}

void test_main(void)
{
    if (multi_setup(pool[4], 4))
        multi_roles(1, role_a, role_b);
}
