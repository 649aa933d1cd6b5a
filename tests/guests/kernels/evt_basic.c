/*
 * evt_basic: 2-level event channels in one domain, the way Linux uses them
 * and the way a hostile guest abuses them. An unbound port offered to
 * ourselves and bound back with bind_interdomain (loopback) carries events
 * both ways to our event callback (Xen's bounce frame, pending selector,
 * pending bitmap); an IPI port to vCPU 0 reaches ourselves; VIRQ_DEBUG binds
 * once and then fails with -EEXIST; a port masked in shared_info keeps its
 * event pending until EVTCHNOP_unmask delivers it, and so does the vCPU's
 * upcall mask; close makes send fail; EVTCHNOP_status reports each state.
 * Hostile: ports 0, 4096 and ~0, binding a port offered to another domain
 * or in another state, bad vCPUs and VIRQs, and vCPU ops on a vCPU that does
 * not exist. init_control (FIFO ABI) must fail so Linux falls back to
 * 2-level. Each op's structure is read to its own size, whatever the op: one
 * that ends a page before an unmapped one works, an unreadable one is
 * -EFAULT, and an unknown op is -ENOSYS before its argument is read. The error codes are those Xen 4.17 returns (tests/guests/README).
 */
#include "evt/evt.h"
#include "pt.h"

extern char _start[], guest_image_end[];   /* entry.S, guest.ld */

static const evtchn_port_t bad_ports[] = { 0, 4096, 0xffffffffu };

/* Two pages: ops are placed at the end of the first while the second is unmapped. */
static uint8_t edge[2][4096] __attribute__((aligned(4096)));

/* Checks that PORT's status is STATE; returns the status for more checks. */
static evtchn_status_t expect_status(evtchn_port_t port, uint32_t state)
{
    evtchn_status_t st;

    EXPECT_EQ(evt_status(DOMID_SELF, port, &st), 0);
    EXPECT_EQ(st.status, state);
    return st;
}

/* Loopback between an unbound port offered to ourselves and its binding. */
static void test_loopback(evtchn_port_t *a_out, evtchn_port_t *b_out)
{
    vcpu_info_t *vi = evt_vcpu_info(0);
    long a, b;
    unsigned long upcalls;
    evtchn_status_t st;

    TEST("loopback: alloc_unbound(self) + bind_interdomain(self)");
    a = evt_alloc_unbound(DOMID_SELF);
    EXPECT(a > 0);
    st = expect_status((evtchn_port_t)a, EVTCHNSTAT_unbound);
    EXPECT_EQ(st.u.unbound.dom, 0);
    b = evt_bind_interdomain(DOMID_SELF, (evtchn_port_t)a);
    EXPECT(b > 0 && b != a);
    st = expect_status((evtchn_port_t)a, EVTCHNSTAT_interdomain);
    EXPECT_EQ(st.u.interdomain.port, b);
    st = expect_status((evtchn_port_t)b, EVTCHNSTAT_interdomain);
    EXPECT_EQ(st.u.interdomain.port, a);
    EXPECT_EQ(st.vcpu, 0);
    /* Binding the same offered port again: it is no longer unbound. */
    EXPECT_EQ(evt_bind_interdomain(DOMID_SELF, (evtchn_port_t)a), -XEN_EINVAL);

    /* Xen marks the new local end pending at bind time (a notification
     * sent to the unbound port may have been lost): one event on b. */
    EXPECT(evt_is_pending((evtchn_port_t)b));
    EXPECT(!evt_is_pending((evtchn_port_t)a));

    TEST("loopback: send a -> upcall on b, send b -> upcall on a");
    EXPECT_EQ(vi->evtchn_upcall_mask, 1);     /* still masked since boot */
    upcalls = evt_upcalls[0];
    evt_enable();
    EXPECT_EQ(evt_count[b], 1);               /* the bind-time event */
    EXPECT(evt_upcalls[0] > upcalls);
    upcalls = evt_upcalls[0];
    EXPECT_EQ(evt_send((evtchn_port_t)a), 0);
    EXPECT_EQ(evt_count[b], 2);
    EXPECT_EQ(evt_count[a], 0);
    EXPECT(evt_upcalls[0] > upcalls);
    EXPECT_EQ(evt_send((evtchn_port_t)b), 0);
    EXPECT_EQ(evt_count[a], 1);
    EXPECT_EQ(evt_count[b], 2);

    TEST("the bounce frame of the upcall");
    {
        volatile struct evt_frame *f = &evt_last_frame[0];
        unsigned long here = (unsigned long)__builtin_frame_address(0);

        guest_printf("     rip %lx cs %lx rflags %lx rsp %lx ss %lx mask %u\n",
                     (unsigned long)f->rip, (unsigned long)f->cs, (unsigned long)f->rflags,
                     (unsigned long)f->rsp, (unsigned long)f->ss, f->mask);
        EXPECT(f->rip >= (unsigned long)_start && f->rip < (unsigned long)guest_image_end);
        EXPECT_EQ(f->cs & 0xffff, FLAT_KERNEL_CS & ~3);   /* RPL 0 shown */
        EXPECT_EQ(f->cs >> 32, 0);            /* saved upcall mask: was clear */
        EXPECT_EQ(f->ss & 0xffff, FLAT_KERNEL_SS);
        EXPECT(f->rflags & 0x200);            /* IF: events were enabled */
        EXPECT(f->rsp < here + 4096 && f->rsp > here - 4096);   /* our stack */
        EXPECT_EQ(f->mask, 1);                /* masked while in the callback */
    }
    EXPECT_EQ(vi->evtchn_upcall_pending, 0);
    EXPECT_EQ(vi->evtchn_upcall_mask, 0);     /* iret with IF=1 re-enabled */
    EXPECT(!evt_is_pending((evtchn_port_t)a) && !evt_is_pending((evtchn_port_t)b));
    for (int i = 0; i < 100; i++)
        evt_send((evtchn_port_t)a);
    EXPECT_EQ(evt_count[b], 102);
    *a_out = (evtchn_port_t)a;
    *b_out = (evtchn_port_t)b;
}

/* Port mask and vCPU upcall mask hold an event back until unmasked. */
static void test_masks(evtchn_port_t a, evtchn_port_t b)
{
    vcpu_info_t *vi = evt_vcpu_info(0);
    unsigned int before = evt_count[b];

    TEST("port mask: pending while masked, delivered by EVTCHNOP_unmask");
    evt_mask(b);
    EXPECT_EQ(evt_send(a), 0);
    EXPECT_EQ(evt_count[b], before);
    EXPECT(evt_is_pending(b));
    EXPECT_EQ(evt_send(a), 0);                /* already pending: merged */
    EXPECT_EQ(evt_unmask(b), 0);
    EXPECT(!evt_is_masked(b));
    EXPECT_EQ(evt_count[b], before + 1);
    EXPECT(!evt_is_pending(b));

    TEST("upcall mask: event waits in evtchn_upcall_pending");
    evt_disable();
    EXPECT_EQ(evt_send(a), 0);
    EXPECT_EQ(evt_count[b], before + 1);
    EXPECT_EQ(vi->evtchn_upcall_pending, 1);
    EXPECT(evt_is_pending(b));
    evt_enable();
    EXPECT_EQ(evt_count[b], before + 2);
    EXPECT_EQ(vi->evtchn_upcall_pending, 0);
}

/* IPI to ourselves, VIRQ_DEBUG twice, close semantics. */
static void test_ipi_virq_close(evtchn_port_t a, evtchn_port_t b)
{
    long ipi, dbg;
    evtchn_status_t st;

    TEST("bind_ipi to vCPU 0, send to self");
    ipi = evt_bind_ipi(0);
    EXPECT(ipi > 0);
    st = expect_status((evtchn_port_t)ipi, EVTCHNSTAT_ipi);
    EXPECT_EQ(st.vcpu, 0);
    EXPECT_EQ(evt_send((evtchn_port_t)ipi), 0);
    EXPECT_EQ(evt_count[ipi], 1);
    EXPECT_EQ(evt_last_cpu[ipi], 0);

    TEST("bind_virq VIRQ_DEBUG, then again -> -EEXIST");
    dbg = evt_bind_virq(VIRQ_DEBUG, 0);
    EXPECT(dbg > 0);
    st = expect_status((evtchn_port_t)dbg, EVTCHNSTAT_virq);
    EXPECT_EQ(st.u.virq, VIRQ_DEBUG);
    EXPECT_EQ(evt_bind_virq(VIRQ_DEBUG, 0), -XEN_EEXIST);
    EXPECT_EQ(evt_send((evtchn_port_t)dbg), -XEN_EINVAL);   /* VIRQs are not sendable */

    TEST("close, then send -> -EINVAL; status closed; close again");
    EXPECT_EQ(evt_close((evtchn_port_t)ipi), 0);
    EXPECT_EQ(evt_send((evtchn_port_t)ipi), -XEN_EINVAL);
    expect_status((evtchn_port_t)ipi, EVTCHNSTAT_closed);
    EXPECT_EQ(evt_close((evtchn_port_t)ipi), -XEN_EINVAL);
    EXPECT_EQ(evt_close((evtchn_port_t)dbg), 0);
    EXPECT(evt_bind_virq(VIRQ_DEBUG, 0) > 0);                /* free again */

    TEST("closing one end of the loopback leaves the other unbound");
    EXPECT_EQ(evt_close(a), 0);
    st = expect_status(b, EVTCHNSTAT_unbound);
    EXPECT_EQ(st.u.unbound.dom, 0);
    EXPECT_EQ(evt_send(b), 0);                /* dropped silently */
    EXPECT_EQ(evt_count[a], 1);
    EXPECT_EQ(evt_close(b), 0);
}

/* Ports, domains, vCPUs and VIRQs that are not ours or do not exist. */
static void test_hostile(void)
{
    evtchn_status_t st;
    long offered, other;

    TEST("hostile: ports 0, 4096, ~0");
    for (unsigned int i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++) {
        evtchn_port_t p = bad_ports[i];

        guest_printf("     port %u\n", p);
        EXPECT_EQ(evt_send(p), -XEN_EINVAL);
        EXPECT_EQ(evt_close(p), -XEN_EINVAL);
        EXPECT_EQ(evt_unmask(p), p ? -XEN_EINVAL : 0);
        EXPECT_EQ(evt_bind_vcpu(p, 0), -XEN_EINVAL);
        EXPECT_EQ(evt_bind_interdomain(DOMID_SELF, p), -XEN_EINVAL);
    }
    EXPECT_EQ(evt_status(DOMID_SELF, 0, &st), 0);
    EXPECT_EQ(st.status, EVTCHNSTAT_closed);
    EXPECT_EQ(evt_status(DOMID_SELF, 4096, &st), -XEN_EINVAL);
    EXPECT_EQ(evt_status(DOMID_SELF, 0xffffffffu, &st), -XEN_EINVAL);

    TEST("hostile: binding ports not offered to us");
    offered = evt_alloc_unbound(7);           /* offered to domain 7 */
    EXPECT(offered > 0);
    EXPECT_EQ(evt_bind_interdomain(DOMID_SELF, (evtchn_port_t)offered), -XEN_EINVAL);
    st = expect_status((evtchn_port_t)offered, EVTCHNSTAT_unbound);
    EXPECT_EQ(st.u.unbound.dom, 7);
    EXPECT_EQ(evt_send((evtchn_port_t)offered), 0);   /* unbound: dropped */
    EXPECT_EQ(evt_close((evtchn_port_t)offered), 0);
    EXPECT_EQ(evt_bind_interdomain(DOMID_SELF, 300), -XEN_EINVAL);  /* free port */
    EXPECT_EQ(evt_bind_interdomain(5, 1), -XEN_ESRCH);             /* no such domain */
    other = evt_bind_ipi(0);
    EXPECT(other > 0);
    EXPECT_EQ(evt_bind_interdomain(DOMID_SELF, (evtchn_port_t)other), -XEN_EINVAL);
    EXPECT_EQ(evt_bind_vcpu((evtchn_port_t)other, 0), -XEN_EINVAL); /* IPI: fixed vCPU */
    EXPECT_EQ(evt_close((evtchn_port_t)other), 0);

    TEST("hostile: bad vCPUs and VIRQs");
    EXPECT_EQ(evt_bind_virq(VIRQ_TIMER, 99), -XEN_ENOENT);
    EXPECT_EQ(evt_bind_virq(VIRQ_TIMER, 0xffffffffu), -XEN_ENOENT);
    EXPECT_EQ(evt_bind_virq(NR_VIRQS, 0), -XEN_EINVAL);
    EXPECT_EQ(evt_bind_virq(0xffffffffu, 0), -XEN_EINVAL);
    EXPECT_EQ(evt_bind_ipi(99), -XEN_ENOENT);
    offered = evt_alloc_unbound(DOMID_SELF);
    EXPECT(offered > 0);
    EXPECT_EQ(evt_bind_vcpu((evtchn_port_t)offered, 99), -XEN_ENOENT);
    EXPECT_EQ(evt_bind_vcpu((evtchn_port_t)offered, 0), 0);
    EXPECT_EQ(evt_close((evtchn_port_t)offered), 0);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_is_up, 99, NULL), -XEN_ENOENT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_up, 99, NULL), -XEN_ENOENT);
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_stop_singleshot_timer, 99, NULL), -XEN_ENOENT);

    TEST("hostile: unknown event_channel_op and init_control");
    struct evtchn_init_control ic = { 0 };
    /* pvkit has no FIFO ABI: -ENOSYS; Xen 4.17 has one and refuses the
     * zeroed control block with -EINVAL. Linux falls back on either. */
    long rc = hyp_evtchn_op(EVTCHNOP_init_control, &ic);
    guest_printf("     init_control: %ld\n", rc);
    EXPECT(rc == -XEN_ENOSYS || rc == -XEN_EINVAL);
    EXPECT_EQ(hyp_evtchn_op(99, &ic), -XEN_ENOSYS);
    EXPECT_EQ(hyp_evtchn_op(99, NULL), -XEN_ENOSYS);   /* unknown: the argument is not read */
    EXPECT_EQ(hyp_evtchn_op(EVTCHNOP_send, NULL), -XEN_EFAULT);

    TEST("hostile: each op read to its own size; unreadable ones -EFAULT");
    static const int ops[] = { EVTCHNOP_bind_interdomain, EVTCHNOP_bind_virq, EVTCHNOP_close,
                               EVTCHNOP_send, EVTCHNOP_status, EVTCHNOP_alloc_unbound,
                               EVTCHNOP_bind_ipi, EVTCHNOP_bind_vcpu, EVTCHNOP_unmask };
    for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        EXPECT_EQ(hyp_evtchn_op(ops[i], (void *)0xFFFF830000000000UL), -XEN_EFAULT);
    long ipi = evt_bind_ipi(0);
    EXPECT(ipi > 0);
    EXPECT_EQ(hyp_update_va_mapping((unsigned long)edge[1], 0, UVMF_INVLPG), 0);
    struct evtchn_send *snd = (struct evtchn_send *)(edge[0] + 4096 - sizeof(*snd));
    snd->port = (evtchn_port_t)ipi;
    EXPECT_EQ(hyp_evtchn_op(EVTCHNOP_send, snd), 0);
    /* status is 24 bytes: from 4 before the end it reaches the unmapped page */
    struct evtchn_status *far = (struct evtchn_status *)(edge[0] + 4096 - 4);
    EXPECT_EQ(hyp_evtchn_op(EVTCHNOP_status, far), -XEN_EFAULT);
    struct evtchn_close *cl = (struct evtchn_close *)(edge[0] + 4096 - sizeof(*cl));
    cl->port = (evtchn_port_t)ipi;
    EXPECT_EQ(hyp_evtchn_op(EVTCHNOP_close, cl), 0);
    EXPECT_EQ(pt_map_rw(edge[1]), 0);
}

/* The kernel's checks (contract in guest.h). */
void test_main(void)
{
    evtchn_port_t a = 0, b = 0;

    if (!evt_setup("setup: map shared_info, register the event callback"))
        return;
    test_loopback(&a, &b);
    test_masks(a, b);
    test_ipi_virq_close(a, b);
    test_hostile();
    evt_disable();
}
