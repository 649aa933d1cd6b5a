/*
 * multi_destroy_evtchn (the initial domain A = 0 and one --domu copy B = 1
 * with "role=1"; pvkit only): event channels and memory of a domain that is
 * being destroyed.
 *
 * Why: destroydomain closes the dying domain's ports (A's interdomain end
 * goes back to unbound), but while B stays dying (A still maps one of its
 * pages) its port table and memory accounting are still reachable by the
 * privileged domain: EVTCHNOP_alloc_unbound and XENMEM_increase_reservation
 * take a domain id. Xen refuses both for a dying domain: get_free_port()
 * returns -EINVAL when d->is_dying (xen/common/event_channel.c), and
 * assign_pages() refuses pages for a dying domain (xen/common/page_alloc.c),
 * so increase_reservation does 0 extents. Otherwise a dead domain grows new
 * ports (later bound to live domains) and new memory after its destruction
 * began.
 *
 * B binds an interdomain port to A's unbound port, the two exchange 20
 * events, B grants A a page, arms a 1 ms periodic timer and blocks in
 * SCHEDOP_poll on its port (60 s timeout). A maps B's page and destroys B
 * while B sleeps. Checks: destroy 0 and B dying; A's end is unbound (remote
 * 1) and send/close on it still work (0); alloc_unbound in the dying B
 * -EINVAL; bind_interdomain to B's old port -EINVAL; increase_reservation
 * for the dying B does 0 extents; after A unmaps, destroy frees B
 * (getdomaininfo -ESRCH, free pages back up by B's pages); then
 * alloc_unbound in B -ESRCH; A's event channels still work (loopback).
 *
 * pvkit: FAILS: alloc_unbound in the dying B returns 0 (a port is
 * allocated in the dead domain's table: event_channel.c alloc_unbound /
 * commit_new_port have no dying check) and increase_reservation for the
 * dying B allocates frames to it (memory_op.c populate has none either).
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
#define ROUNDS 20

struct shared {                 /* the page B grants A */
    volatile uint64_t a_port, b_port, ready;
};

static char pool[8][4096] __attribute__((aligned(4096)));
static struct shared page __attribute__((aligned(4096)));

static void role_b(void)
{
    struct grant_entry_v1 *table = (struct grant_entry_v1 *)pool[0];
    long a_port = evt_cmdline_num("aport", 1), port = -1;

    TEST("B: bind to A, exchange events, grant a page, sleep in poll");
    uint64_t end = evt_now() + TIMEOUT;
    while (evt_now() < end && (port = evt_bind_interdomain(0, (evtchn_port_t)a_port)) < 0)
        evt_sleep_ms(5);
    if (!EXPECT(port > 0))
        return;
    for (unsigned int i = 1; i <= ROUNDS; i++) {
        EXPECT_EQ(evt_wait((evtchn_port_t)port, i + 1, 2000 * MS), 1); /* +1: bind-time event */
        EXPECT_EQ(evt_send((evtchn_port_t)port), 0);
    }
    gnt_setup_expect(table);
    page.b_port = (uint64_t)port;
    gnt_permit(table, REF, 0, &page);
    struct vcpu_set_periodic_timer per = { .period_ns = 1 * MS };
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_set_periodic_timer, 0, &per), 0);
    page.ready = 1;
    evt_disable();
    evtchn_port_t p = (evtchn_port_t)port;
    end = evt_now() + 4 * TIMEOUT;
    while (evt_now() < end) {
        struct sched_poll poll = { .nr_ports = 1, .timeout = evt_now() + 60000 * MS };
        set_xen_guest_handle(poll.ports, &p);
        hyp_sched_op(SCHEDOP_poll, &poll);
        evt_clear_pending(p);
    }
}

static void role_a(void)
{
    struct xen_domctl op;
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)pool[1],
                                        .flags = GNTMAP_host_map, .ref = REF, .dom = 1 };
    long port = evt_cmdline_num("aport", 1);
    evtchn_status_t es;

    TEST("A: exchange events with B");
    EXPECT_EQ(evt_alloc_unbound(1), port);   /* B binds this number (our first port) */
    uint64_t t = evt_now() + TIMEOUT;
    while (evt_now() < t && evt_status(DOMID_SELF, (evtchn_port_t)port, &es) == 0 &&
           es.status != EVTCHNSTAT_interdomain)
        evt_sleep_ms(2);
    EXPECT_EQ(es.status, EVTCHNSTAT_interdomain);
    for (unsigned int i = 1; i <= ROUNDS; i++) {
        EXPECT_EQ(evt_send((evtchn_port_t)port), 0);
        if (!EXPECT_EQ(evt_wait((evtchn_port_t)port, i, 2000 * MS), 1))
            return;
    }
    uint64_t end = evt_now() + TIMEOUT;
    while (evt_now() < end) {
        map.status = 0;
        if (hyp_grant_table_op(GNTTABOP_map_grant_ref, &map, 1) == 0 && map.status == GNTST_okay)
            break;
        evt_sleep_ms(5);
    }
    if (!EXPECT_EQ(map.status, GNTST_okay))
        return;
    const struct shared *sh = (const struct shared *)pool[1];
    while (!sh->ready && evt_now() < end)
        evt_sleep_ms(1);
    EXPECT_EQ(sh->ready, 1);
    uint64_t b_port = sh->b_port;
    evt_sleep_ms(20);       /* B asleep in its poll */
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), 0);
    uint64_t b_pages = op.u.getdomaininfo.tot_pages;
    uint64_t free0 = free_pages();

    TEST("A: destroy B asleep in SCHEDOP_poll (left dying: we map its page)");
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), 0);
    EXPECT(op.u.getdomaininfo.flags & XEN_DOMINF_dying);

    TEST("A: our end after B's death");
    EXPECT_EQ(evt_status(DOMID_SELF, (evtchn_port_t)port, &es), 0);
    EXPECT_EQ(es.status, EVTCHNSTAT_unbound);
    EXPECT_EQ(es.u.unbound.dom, 1);
    EXPECT_EQ(evt_send((evtchn_port_t)port), 0);

    TEST("A: nothing new for the dying B (Xen: get_free_port, assign_pages refuse)");
    struct evtchn_alloc_unbound au = { .dom = 1, .remote_dom = 0 };
    long rc = hyp_evtchn_op(EVTCHNOP_alloc_unbound, &au);
    if (rc == 0)
        guest_printf("     dying B got port %u\n", au.port);
    EXPECT_EQ(rc, -XEN_EINVAL);
    struct evtchn_bind_interdomain bi = { .remote_dom = 1, .remote_port = (uint32_t)b_port };
    EXPECT_EQ(hyp_evtchn_op(EVTCHNOP_bind_interdomain, &bi), -XEN_EINVAL);
    xen_pfn_t ext[16];
    struct xen_memory_reservation r = { .nr_extents = 16, .extent_order = 0, .domid = 1 };
    set_xen_guest_handle(r.extent_start, ext);
    EXPECT_EQ(hyp_memory_op(XENMEM_increase_reservation, &r), 0);
    EXPECT_EQ(evt_close((evtchn_port_t)port), 0);

    TEST("A: unmap B's page; destroy frees B");
    gnt_unmap_expect(pool[1], map.handle);
    EXPECT_EQ(pt_map_rw(pool[1]), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 1, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 1, &op), -XEN_ESRCH);
    expect_pages_back(free0, b_pages);
    au = (struct evtchn_alloc_unbound){ .dom = 1, .remote_dom = 0 };
    EXPECT_EQ(hyp_evtchn_op(EVTCHNOP_alloc_unbound, &au), -XEN_ESRCH);

    TEST("A: our event channels still work");
    long lp = evt_alloc_unbound(0);
    EXPECT(lp > 0);
    long bp = evt_bind_interdomain(0, (evtchn_port_t)lp);
    EXPECT(bp > 0);
    unsigned int before = evt_count[lp];
    EXPECT_EQ(evt_send((evtchn_port_t)bp), 0);
    EXPECT_EQ(evt_wait((evtchn_port_t)lp, before + 1, 1000 * MS), 1);
}

void test_main(void)
{
    if (multi_setup(pool[4], 4))
        multi_roles(1, role_a, role_b);
}
