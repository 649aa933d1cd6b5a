/*
 * evt_close_moved (run with --vcpus 2): closing a port frees exactly what
 * it held, whichever vCPU its events went to.
 *
 * A global VIRQ (VIRQ_CONSOLE) is bound on vCPU 0, moved to vCPU 1 with
 * EVTCHNOP_bind_vcpu and closed: binding it again must work (a hypervisor
 * that clears the VIRQ slot of the vCPU the port notifies, not of vCPU 0
 * where the binding lives, leaves a stale slot: -EEXIST, and the VIRQ would
 * be raised on whatever port reuses the number). The same after moving it to
 * vCPU 1 and back. A per-vCPU VIRQ (VIRQ_DEBUG) bound on vCPU 1 and closed
 * frees vCPU 1's slot and leaves vCPU 0's binding alone. A port closed while
 * its event is pending does not hand that event to the next port allocated
 * with its number (Xen clears the pending bit on close). vCPU 1 stays down:
 * binding to a vCPU needs it to exist, not to run. Error codes and results
 * are those of Xen 4.17 (tests/guests/README).
 */
#include "evt/evt.h"

/* Binds VIRQ on vCPU 0 and checks its status; returns the port or -errno. */
static long bind_and_check(uint32_t virq, uint32_t vcpu)
{
    evtchn_status_t st;
    long p = evt_bind_virq(virq, vcpu);

    EXPECT(p > 0);
    if (p <= 0)
        return p;
    EXPECT_EQ(evt_status(DOMID_SELF, (evtchn_port_t)p, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_virq);
    EXPECT_EQ(st.u.virq, virq);
    EXPECT_EQ(st.vcpu, vcpu);
    return p;
}

/* bind_and_check, then closes the port again (one more check) if it bound. */
static void bind_check_close(uint32_t virq, uint32_t vcpu)
{
    long p = bind_and_check(virq, vcpu);

    if (p > 0)
        EXPECT_EQ(evt_close((evtchn_port_t)p), 0);
}

static void test_global_virq_moved(void)
{
    evtchn_status_t st;
    long p, q;

    TEST("global VIRQ bound on vCPU 0, moved to vCPU 1, closed, bound again");
    p = bind_and_check(VIRQ_CONSOLE, 0);
    if (p <= 0)
        return;
    EXPECT_EQ(evt_bind_virq(VIRQ_CONSOLE, 0), -XEN_EEXIST);
    EXPECT_EQ(evt_bind_vcpu((evtchn_port_t)p, 1), 0);
    EXPECT_EQ(evt_status(DOMID_SELF, (evtchn_port_t)p, &st), 0);
    EXPECT_EQ(st.vcpu, 1);
    EXPECT_EQ(evt_bind_virq(VIRQ_CONSOLE, 0), -XEN_EEXIST);   /* still bound */
    EXPECT_EQ(evt_close((evtchn_port_t)p), 0);
    q = evt_bind_virq(VIRQ_CONSOLE, 0);
    guest_printf("     rebind after close: %ld (first port %ld)\n", q, p);
    EXPECT(q > 0);
    if (q <= 0)
        return;

    TEST("moved to vCPU 1 and back, closed, bound again");
    EXPECT_EQ(evt_bind_vcpu((evtchn_port_t)q, 1), 0);
    EXPECT_EQ(evt_bind_vcpu((evtchn_port_t)q, 0), 0);
    EXPECT_EQ(evt_close((evtchn_port_t)q), 0);
    bind_check_close(VIRQ_CONSOLE, 0);
}

static void test_per_vcpu_virq_other_vcpu(void)
{
    long d0, d1;

    TEST("VIRQ_DEBUG on vCPU 1 closed: vCPU 1's slot freed, vCPU 0's kept");
    d0 = bind_and_check(VIRQ_DEBUG, 0);
    d1 = bind_and_check(VIRQ_DEBUG, 1);
    if (d0 <= 0 || d1 <= 0)
        return;
    EXPECT_EQ(evt_bind_vcpu((evtchn_port_t)d1, 0), -XEN_EINVAL);  /* per-vCPU */
    EXPECT_EQ(evt_close((evtchn_port_t)d1), 0);
    EXPECT_EQ(evt_bind_virq(VIRQ_DEBUG, 0), -XEN_EEXIST);
    bind_check_close(VIRQ_DEBUG, 1);
    EXPECT_EQ(evt_close((evtchn_port_t)d0), 0);
    bind_check_close(VIRQ_DEBUG, 0);
}

static void test_pending_cleared_on_close(void)
{
    long p, q;
    unsigned int c;

    TEST("a port closed while pending: the next port with its number starts clean");
    p = evt_bind_ipi(0);
    EXPECT(p > 0);
    if (p <= 0)
        return;
    evt_mask((evtchn_port_t)p);
    EXPECT_EQ(evt_send((evtchn_port_t)p), 0);
    EXPECT(evt_is_pending((evtchn_port_t)p));
    EXPECT_EQ(evt_close((evtchn_port_t)p), 0);
    guest_printf("     pending after close: %d\n", evt_is_pending((evtchn_port_t)p));
    EXPECT(!evt_is_pending((evtchn_port_t)p));
    evt_clear_mask_bit((evtchn_port_t)p);
    c = evt_count[p];
    q = evt_bind_ipi(0);
    EXPECT_EQ(q, p);           /* the lowest free port: the same number */
    if (q <= 0)
        return;
    EXPECT_EQ(evt_unmask((evtchn_port_t)q), 0);
    EXPECT_EQ(evt_count[q], c);
    EXPECT_EQ(evt_send((evtchn_port_t)q), 0);
    EXPECT_EQ(evt_count[q], c + 1);
    EXPECT_EQ(evt_close((evtchn_port_t)q), 0);
}

void test_main(void)
{
    if (!evt_setup("setup: shared_info, event callback, two vCPUs"))
        return;
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 1, NULL), 0);
    evt_enable();
    test_global_virq_moved();
    test_per_vcpu_virq_other_vcpu();
    test_pending_cleared_on_close();
}
