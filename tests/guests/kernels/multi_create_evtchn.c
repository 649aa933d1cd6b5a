/*
 * multi_create_evtchn (run with --vcpus 2 and its own image as --initrd;
 * pvkit only: PVKIT_DOMCTL_create_pv is pvkit's): the initial domain binds
 * an event channel to a domain still under construction, and the build is
 * abandoned.
 *
 * While vCPU 0's create_pv goes on in pieces, vCPU 1 allocates an unbound
 * port in the building domain for us (EVTCHNOP_alloc_unbound with its id,
 * which a privileged caller may name), binds our end to it
 * (bind_interdomain), and destroys the building domain (the build is
 * abandoned; vCPU 0's create answers -ESRCH).
 *
 * Expected, as when any domain goes (Xen's domain_kill closes every port,
 * and a peer's end goes back to unbound): our port is no longer
 * interdomain-bound to the vanished domain; and once another domain is
 * created with the same id, a send on our port must not raise an event in
 * it (read from its shared_info, which we map read-only).
 *
 * Found (pvkit at ae004f8): domain_build_abandon frees the domain with
 * domain_free (domain.c), which closes none of its ports: our end stays
 * interdomain-bound to (id, port), and the next domain with that id gets
 * our events on its port of that number (its console port).
 */
#include "domctl.h" /* first: it defines __XEN_TOOLS__ */
#include "evt/evt.h"
#include "pt.h"
#include "public/pvkit.h"
#include "create.h"

#define MS 1000000ULL
#define CHILD_KB (64u << 10)
#define ID 31

static char win[4096] __attribute__((aligned(4096)));
static char pool[4][4096] __attribute__((aligned(4096)));
static volatile int ap_ready, go, ap_done;
static volatile long ap_port = -1, ap_local = -1, ap_destroy = 1;

void evt_ap_main(unsigned long cpu)
{
    (void)cpu;
    struct xen_domctl op;

    create_ap_ready_go(&ap_ready, &go);
    if (create_poll_domain(ID, 20000 * MS, &op)) {
        struct evtchn_alloc_unbound au = { .dom = ID, .remote_dom = 0 };
        if (hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound,
                       (unsigned long)&au, 0) == 0)
            ap_port = au.port;
        if (ap_port > 0)
            ap_local = evt_bind_interdomain(ID, (evtchn_port_t)ap_port);
        ap_destroy = dctl(XEN_DOMCTL_destroydomain, ID, &op);
    }
    create_ap_finish(&ap_done);
}

static void create_op(struct xen_domctl *op)
{
    create_child_op(op, ID, CHILD_KB, "multi_create_evtchn role=1");
}

void test_main(void)
{
    if (!create_parent_start("multi_create_evtchn child", "setup: vCPU 1 up", pool, 4))
        return;
    win[0] = 1;
    EXPECT_EQ(evt_start_ap(1, &ap_ready), 0);
    if (!ap_ready)
        return;
    struct xen_domctl op;

    TEST("a channel bound to a building domain that is then destroyed");
    uint64_t free0 = free_pages();
    create_op(&op);
    __atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
    long rc = hyp_domctl(&op);
    evt_wait_flag(&ap_done, 20000 * MS);
    guest_printf("     create %ld; vCPU 1: port %ld of d%u, ours %ld, destroy %ld\n", rc, ap_port,
                 ID, ap_local, ap_destroy);
    EXPECT_EQ(rc, -XEN_ESRCH);
    EXPECT_EQ(ap_destroy, 0);
    EXPECT_EQ(free_pages(), free0);
    if (ap_port < 0) { /* refused: a building domain is unreachable (pvkit since 765b559) */
        EXPECT(ap_local < 0);
        return;
    }
    if (!EXPECT(ap_local > 0))
        return;
    evtchn_status_t st;
    EXPECT_EQ(evt_status(DOMID_SELF, (evtchn_port_t)ap_local, &st), 0);
    guest_printf("     our port %ld: status %u (dom %u)\n", ap_local, st.status,
                 st.status == EVTCHNSTAT_interdomain ? st.u.interdomain.dom : st.u.unbound.dom);
    EXPECT(st.status != EVTCHNSTAT_interdomain);

    TEST("a new domain with the same id gets no event from our old port");
    create_op(&op);
    EXPECT_EQ(hyp_domctl(&op), 0);
    EXPECT_EQ(dctl(XEN_DOMCTL_getdomaininfo, ID, &op), 0);
    mmu_update_t req = { .ptr = pt_entry_ma((unsigned long)win, 1),
                         .val = (op.u.getdomaininfo.shared_info_frame << 12) | PTE_DATA_RO | PTE_NX };
    EXPECT_EQ(hyp_mmu_update(&req, 1, NULL, ID), 0);
    pt_invlpg((unsigned long)win);
    const volatile shared_info_t *s = (const volatile shared_info_t *)win;
    unsigned long bit = 1ul << (ap_port % 64);
    int before = (s->evtchn_pending[ap_port / 64] & bit) != 0;
    evt_send((evtchn_port_t)ap_local);
    int after = (s->evtchn_pending[ap_port / 64] & bit) != 0;
    guest_printf("     d%u's port %ld pending before our send %d, after %d\n", ID, ap_port, before,
                 after);
    EXPECT(before || !after);
    /* The child is left paused: the machine powers off with us. */
}
