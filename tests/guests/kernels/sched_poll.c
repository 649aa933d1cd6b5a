/*
 * sched_poll: SCHEDOP_poll's limits, as PV spinlocks and hostile guests hit
 * them. With events masked: a timeout already in the past returns at once;
 * the same port listed 128 times (Xen's maximum) is accepted and waits for
 * the timeout, 129 ports are refused with -EINVAL; a list that holds a
 * closed port, or a port past the end, is refused; a port that is already
 * pending makes the poll return at once even with no timeout; nr_ports 0
 * with a timeout just sleeps until it. Codes as Xen 4.17 returns them.
 */
#include "evt/evt.h"

#define MS 1000000ULL
#define LATE_BOUND (400 * MS)

static evtchn_port_t ports[129];

static long poll(unsigned int n, uint64_t timeout)
{
    struct sched_poll p = { .nr_ports = n, .timeout = timeout };

    set_xen_guest_handle(p.ports, ports);
    return hyp_sched_op(SCHEDOP_poll, &p);
}

void test_main(void)
{
    uint64_t t0, t1;
    long a, b, closed;

    if (!evt_setup("setup: a quiet port and a loopback pair"))
        return;
    a = evt_alloc_unbound(DOMID_SELF);
    b = evt_bind_interdomain(DOMID_SELF, (evtchn_port_t)a);
    closed = evt_bind_ipi(0);
    EXPECT(a > 0 && b > 0 && closed > 0);
    if (a <= 0 || b <= 0 || closed <= 0)
        return;
    EXPECT_EQ(evt_close((evtchn_port_t)closed), 0);
    evt_clear_pending((evtchn_port_t)b);
    evt_clear_pending((evtchn_port_t)a);

    TEST("a past timeout returns at once");
    ports[0] = (evtchn_port_t)a;
    t0 = evt_now();
    EXPECT_EQ(poll(1, t0 - MS), 0);
    t1 = evt_now();
    EXPECT(t1 - t0 < LATE_BOUND);

    TEST("nr_ports 0 with a timeout sleeps until it");
    t0 = evt_now();
    long rc = poll(0, t0 + 10 * MS);
    t1 = evt_now();
    guest_printf("     nr_ports 0: %ld after %lu us\n", rc, (unsigned long)((t1 - t0) / 1000));
    EXPECT_EQ(rc, 0);
    EXPECT(t1 >= t0 + 10 * MS);

    TEST("128 ports are accepted, 129 refused");
    for (int i = 0; i < 129; i++)
        ports[i] = (evtchn_port_t)a;
    t0 = evt_now();
    EXPECT_EQ(poll(128, t0 + 5 * MS), 0);
    EXPECT(evt_now() >= t0 + 5 * MS);
    EXPECT_EQ(poll(129, evt_now() + 5 * MS), -XEN_EINVAL);

    TEST("a closed port or one past the end in the list");
    ports[0] = (evtchn_port_t)a;
    ports[1] = (evtchn_port_t)closed;
    rc = poll(2, evt_now() + 5 * MS);
    guest_printf("     closed port in the list: %ld\n", rc);
    EXPECT_EQ(rc, -XEN_EINVAL);
    ports[1] = 4096;
    EXPECT_EQ(poll(2, evt_now() + 5 * MS), -XEN_EINVAL);

    TEST("an already pending port returns at once, no timeout");
    EXPECT_EQ(evt_send((evtchn_port_t)a), 0);     /* b pending, events masked */
    ports[0] = (evtchn_port_t)a;
    ports[1] = (evtchn_port_t)b;
    t0 = evt_now();
    EXPECT_EQ(poll(2, 0), 0);
    EXPECT(evt_now() - t0 < LATE_BOUND);
    EXPECT(evt_is_pending((evtchn_port_t)b));
    evt_enable();
    EXPECT_EQ(evt_count[b], 1);
    evt_disable();
}
