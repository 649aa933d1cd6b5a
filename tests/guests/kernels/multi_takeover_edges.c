/*
 * multi_takeover_edges (its own image as --initrd; pvkit only:
 * PVKIT_DOMCTL_console_takeover and PVKIT_DOMCTL_create_pv are pvkit's):
 * console takeover of created (never-run) children in the states a
 * toolstack meets, and their destruction afterwards.
 *
 *   - a child taken over: the answer names create_pv's console frame and
 *     port; its port is unbound for us; asked again, the same; its ring
 *     (grant 0) maps; our binding of its port, closed, leaves it unbound for
 *     us again; destroyed, every page comes back (the hypervisor's hold on
 *     the ring was dropped once, by the takeover, and never again);
 *   - a child shut down (remote_shutdown) then taken over: 0, destroyed, all
 *     pages back;
 *   - a child taken over, our end bound, then destroyed while we still map
 *     its ring: it stays dying, a takeover of it is -EINVAL, our port goes
 *     back to unbound; after the unmap it goes with all its pages;
 *   - a takeover of a missing domain is -ESRCH.
 * Free pages are compared with the figure before, less our maptrack page
 * (allocated by our first grant mapping and kept).
 *
 * Holds on pvkit at ae004f8 (the first run's off-by-one was that maptrack page).
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "create.h"
#include "pt.h"
#include "gnt.h"
#include <xen/grant_table.h>

static char pool[4][4096] __attribute__((aligned(4096)));
static char ringwin[4096] __attribute__((aligned(4096)));

static long create(domid_t id, struct pvkit_domctl_create_pv *out)
{
    struct xen_domctl op = { .cmd = PVKIT_DOMCTL_create_pv, .domain = id,
                             .interface_version = XEN_DOMCTL_INTERFACE_VERSION };
    struct pvkit_domctl_create_pv *c = (struct pvkit_domctl_create_pv *)&op.u;
    c->kernel = guest_start_info->mod_start;
    c->kernel_size = guest_start_info->mod_len;
    c->cmdline = (uint64_t)"multi_takeover_edges role=1";
    c->mem_kb = 8192;
    c->max_vcpus = 1;
    long rc = hyp_domctl(&op);
    *out = *c;
    return rc;
}

static long takeover(domid_t id, uint64_t *mfn, uint32_t *port)
{
    struct xen_domctl op;
    long rc = dctl(PVKIT_DOMCTL_console_takeover, id, &op);
    struct pvkit_domctl_console_takeover *t = (struct pvkit_domctl_console_takeover *)&op.u;
    *mfn = t->ring_mfn;
    *port = t->port;
    return rc;
}

static int port_state(domid_t id, uint32_t port, uint32_t *remote)
{
    evtchn_status_t st;
    if (evt_status(id, port, &st))
        return -1;
    *remote = st.status == EVTCHNSTAT_unbound ? st.u.unbound.dom : st.u.interdomain.dom;
    return (int)st.status;
}

void test_main(void)
{
    create_child_exit("multi_takeover_edges child");
    if (!evt_setup("setup"))
        return;
    pt_pool_init(pool, 4);
    ringwin[0] = 1;
    struct xen_domctl op;
    struct pvkit_domctl_create_pv c;
    uint64_t mfn = 0;
    uint32_t port = 0, remote = 0;
    uint64_t free0 = free_pages();

    TEST("a never-run child taken over, bound, unbound, destroyed: all pages back");
    EXPECT_EQ(create(51, &c), 0);
    EXPECT_EQ(takeover(51, &mfn, &port), 0);
    EXPECT_EQ(mfn, c.console_mfn);
    EXPECT_EQ(port, c.console_port);
    EXPECT_EQ(port_state(51, port, &remote), EVTCHNSTAT_unbound);
    EXPECT_EQ(remote, 0);
    EXPECT_EQ(takeover(51, &mfn, &port), 0);
    EXPECT_EQ(mfn, c.console_mfn);
    struct gnttab_map_grant_ref map = { .host_addr = (unsigned long)ringwin,
                                        .flags = GNTMAP_host_map,
                                        .ref = GNTTAB_RESERVED_CONSOLE, .dom = 51 };
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_map_grant_ref, &map, 1), 0);
    EXPECT_EQ(map.status, GNTST_okay);
    EXPECT_EQ(map.dev_bus_addr >> 12, c.console_mfn);
    gnt_unmap_expect(ringwin, map.handle);
    long lp = evt_bind_interdomain(51, port);
    EXPECT(lp > 0);
    EXPECT_EQ(port_state(51, port, &remote), EVTCHNSTAT_interdomain);
    EXPECT_EQ(evt_close((evtchn_port_t)lp), 0);
    EXPECT_EQ(port_state(51, port, &remote), EVTCHNSTAT_unbound);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 51, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 51, &op) == 0 && op.domain == 51, 0);
    free0--; /* our first grant mapping allocated our maptrack page, kept */
    EXPECT_EQ(free_pages(), free0);

    TEST("a child shut down, then taken over, destroyed: all pages back");
    EXPECT_EQ(create(52, &c), 0);
    struct sched_remote_shutdown rs = { .domain_id = 52, .reason = SHUTDOWN_crash };
    EXPECT_EQ(hyp_sched_op(SCHEDOP_remote_shutdown, &rs), 0);
    EXPECT_EQ(takeover(52, &mfn, &port), 0);
    EXPECT_EQ(mfn, c.console_mfn);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 52, &op), 0);
    EXPECT_EQ(free_pages(), free0);

    TEST("taken over, bound, destroyed while its ring is mapped: dying, -EINVAL, then gone");
    EXPECT_EQ(create(53, &c), 0);
    EXPECT_EQ(takeover(53, &mfn, &port), 0);
    lp = evt_bind_interdomain(53, port);
    EXPECT(lp > 0);
    map = (struct gnttab_map_grant_ref){ .host_addr = (unsigned long)ringwin,
                                         .flags = GNTMAP_host_map,
                                         .ref = GNTTAB_RESERVED_CONSOLE, .dom = 53 };
    EXPECT_EQ(hyp_grant_table_op(GNTTABOP_map_grant_ref, &map, 1), 0);
    EXPECT_EQ(map.status, GNTST_okay);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 53, &op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, 53, &op), 0);
    EXPECT(op.domain == 53 && (op.u.getdomaininfo.flags & XEN_DOMINF_dying));
    EXPECT_EQ(takeover(53, &mfn, &port), -XEN_EINVAL);
    EXPECT_EQ(port_state(DOMID_SELF, (uint32_t)lp, &remote), EVTCHNSTAT_unbound);
    gnt_unmap_expect(ringwin, map.handle);
    EXPECT_EQ(evt_close((evtchn_port_t)lp), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_destroydomain, 53, &op), 0);
    EXPECT(dctl(XEN_DOMCTL_getdomaininfo, 53, &op) != 0 || op.domain != 53);
    EXPECT_EQ(free_pages(), free0);

    TEST("a takeover of a missing domain: -ESRCH");
    EXPECT_EQ(takeover(54, &mfn, &port), -XEN_ESRCH);
    EXPECT_EQ(pt_map_rw(ringwin), 0);
}
