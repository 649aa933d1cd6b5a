/*
 * multi_domctl (the initial domain A = 0 and one --domu copy B = 1 with
 * "role=1"; pvkit only): the privileged domain controls another's life, as a
 * toolstack does with Xen's domctl and sysctl.
 *
 * B grants A a page and counts a heartbeat in it until A writes "stop";
 * then B checks that an unprivileged domain may use none of domctl, sysctl
 * and platform_op (-EPERM even for an unreadable argument or a wrong
 * interface version: privilege is checked first), and powers off. A, meanwhile: reads both domains with
 * getdomaininfo (ids, vCPUs, pages, running/blocked; the next id at or
 * after the one asked for, -ESRCH past the last); pauses B (the heartbeat
 * stands still for 300 ms, getdomaininfo says paused), unpauses it (the
 * heartbeat moves again); refuses pausing or destroying itself, unpausing a
 * domain not paused, a wrong interface version (-EACCES, also from sysctl
 * and platform_op), an unreadable argument (-EFAULT from each), an unknown
 * command (-ENOSYS), domain 999 (-ESRCH); stops B and waits for
 * VIRQ_DOM_EXC, after which getdomaininfo shows B shut down (poweroff).
 * A then destroys B while still mapping B's granted page: B stays, dying
 * (a frame another domain maps is not freed); after A unmaps, destroying
 * again frees B: getdomaininfo no longer finds it and sysctl physinfo's
 * free pages grew by at least B's pages.
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "multi.h"
#include "pt.h"
#include "gnt.h"
#include <xen/grant_table.h>
#include <xen/platform.h>

#define MS 1000000ULL
#define TIMEOUT (20000 * MS)
#define REF 10
#define HV_VA 0xFFFF830000000000UL /* in the hypervisor's range: no guest may read it */

/* The three control hypercalls, each refused alike to an unprivileged domain. */
static const unsigned long control_nrs[] = { __HYPERVISOR_domctl, __HYPERVISOR_sysctl,
                                             __HYPERVISOR_platform_op };

/* Issues platform_op settime64 (to the epoch plus one second) at interface version ver. */
static long settime(uint32_t ver)
{
    struct xen_platform_op p = { .cmd = XENPF_settime64, .interface_version = ver,
                                 .u.settime64 = { .secs = 1 } };
    return hypercall3(__HYPERVISOR_platform_op, (unsigned long)&p, 0, 0);
}

struct beat {                   /* the page B grants A */
    volatile uint64_t count;
    volatile uint8_t stop;
};

static char pool[8][4096] __attribute__((aligned(4096)));
static uint8_t page[4096] __attribute__((aligned(4096)));

static void role_b(void)
{
    struct beat *b = (struct beat *)page;
    struct grant_entry_v1 *table = (struct grant_entry_v1 *)pool[0];
    struct xen_domctl op;

    TEST("B: grant the heartbeat page to A and beat until told to stop");
    gnt_setup_expect(table);
    gnt_permit(table, REF, 0, page);
    uint64_t end = evt_now() + 4 * TIMEOUT;
    while (!b->stop && evt_now() < end) {
        b->count++;
        hyp_sched_op(SCHEDOP_yield, NULL);
    }
    EXPECT(b->stop);

    TEST("B: no domctl or sysctl for an unprivileged domain");
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 0, &op), -XEN_EPERM);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 0, &op), -XEN_EPERM);
    struct xen_sysctl s = { .cmd = XEN_SYSCTL_physinfo,
                            .interface_version = XEN_SYSCTL_INTERFACE_VERSION };
    EXPECT_EQ(hyp_sysctl(&s), -XEN_EPERM);
    EXPECT_EQ(settime(XENPF_INTERFACE_VERSION), -XEN_EPERM);

    TEST("B: -EPERM before the argument is read or its version checked");
    for (unsigned i = 0; i < sizeof(control_nrs) / sizeof(control_nrs[0]); i++)
        EXPECT_EQ(hypercall3(control_nrs[i], HV_VA, 0, 0), -XEN_EPERM);
    s.interface_version = 1;
    EXPECT_EQ(hyp_sysctl(&s), -XEN_EPERM);
    EXPECT_EQ(settime(1), -XEN_EPERM);
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_getdomaininfo, .interface_version = 1 };
    EXPECT_EQ(hyp_domctl(&op), -XEN_EPERM);
}

/* Waits until B's heartbeat has moved (true) or TIMEOUT. */
static int beat_moves(volatile struct beat *b)
{
    uint64_t c = b->count, end = evt_now() + TIMEOUT;
    while (b->count == c && evt_now() < end)
        hyp_sched_op(SCHEDOP_yield, NULL);
    return b->count != c;
}

static void role_a(void)
{
    struct xen_domctl op;
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)pool[1],
                                        .flags = GNTMAP_host_map, .ref = REF, .dom = 1 };
    volatile struct beat *b = (volatile struct beat *)pool[1];
    long virq_port = evt_bind_virq(VIRQ_DOM_EXC, 0);

    TEST("A: getdomaininfo of both domains");
    EXPECT(virq_port > 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 0, &op), 0);
    EXPECT_EQ(op.domain, 0);
    EXPECT_EQ(op.u.getdomaininfo.nr_online_vcpus, 1);
    EXPECT(op.u.getdomaininfo.tot_pages > 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), 0);
    EXPECT_EQ(op.domain, 1);
    EXPECT_EQ(op.u.getdomaininfo.flags & (XEN_DOMINF_dying | XEN_DOMINF_shutdown), 0);
    uint64_t b_pages = op.u.getdomaininfo.tot_pages;
    guest_printf("     B: %lu pages, flags 0x%x\n", (unsigned long)b_pages,
                 op.u.getdomaininfo.flags);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 2, &op), -XEN_ESRCH);

    TEST("A: map B's heartbeat; pause and unpause B");
    uint64_t end = evt_now() + TIMEOUT;
    gnt_map_retry(&map, end);
    if (!EXPECT_EQ(map.status, GNTST_okay))
        return;
    EXPECT(beat_moves(b));
    EXPECT_EQ(dctl(XEN_DOMCTL_pausedomain, 1, &op), 0);
    evt_sleep_ms(20); /* B's vCPU leaves its CPU */
    uint64_t c = b->count;
    evt_sleep_ms(300);
    EXPECT_EQ(b->count, c);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), 0);
    EXPECT(op.u.getdomaininfo.flags & XEN_DOMINF_paused);
    EXPECT_EQ(dctl(XEN_DOMCTL_unpausedomain, 1, &op), 0);
    EXPECT(beat_moves(b));

    TEST("A: hostile domctls");
    EXPECT_EQ(dctl(XEN_DOMCTL_pausedomain, 0, &op), -XEN_EINVAL);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 0, &op), -XEN_EINVAL);
    EXPECT_EQ(dctl(XEN_DOMCTL_unpausedomain, 1, &op), -XEN_EINVAL);   /* not paused */
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 999, &op), -XEN_ESRCH);
    EXPECT_EQ(dctl(12345, 1, &op), -XEN_ENOSYS);
    op = (struct xen_domctl){ .cmd = XEN_DOMCTL_getdomaininfo, .interface_version = 1 };
    EXPECT_EQ(hyp_domctl(&op), -XEN_EACCES);
    struct xen_sysctl s = { .cmd = XEN_SYSCTL_physinfo, .interface_version = 1 };
    EXPECT_EQ(hyp_sysctl(&s), -XEN_EACCES);
    EXPECT_EQ(settime(1), -XEN_EACCES);
    for (unsigned i = 0; i < sizeof(control_nrs) / sizeof(control_nrs[0]); i++)
        EXPECT_EQ(hypercall3(control_nrs[i], HV_VA, 0, 0), -XEN_EFAULT);

    TEST("A: B shuts down; VIRQ_DOM_EXC; destroy frees it once unmapped");
    unsigned int seen = evt_count[virq_port];
    b->stop = 1;
    EXPECT(evt_wait((evtchn_port_t)virq_port, seen + 1, TIMEOUT));
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), 0);
    EXPECT(op.u.getdomaininfo.flags & XEN_DOMINF_shutdown);
    EXPECT_EQ((op.u.getdomaininfo.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask,
              SHUTDOWN_poweroff);
    uint64_t free0 = free_pages();
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), 0);     /* still there: we map a page */
    EXPECT_EQ(op.domain, 1);
    EXPECT(op.u.getdomaininfo.flags & XEN_DOMINF_dying);
    gnt_unmap_expect(pool[1], map.handle);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), -XEN_ESRCH);
    expect_pages_back(free0, b_pages);
    EXPECT_EQ(pt_map_rw(pool[1]), 0);
}

void test_main(void)
{
    if (multi_setup(pool[4], 4))
        multi_roles(1, role_a, role_b);
}
