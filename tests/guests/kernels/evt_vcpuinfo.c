/*
 * evt_vcpuinfo: VCPUOP_register_vcpu_info, which Linux calls for every vCPU
 * at boot. Hostile first: a NULL argument, vCPU 99, a frame we do not own,
 * one of our page tables (the current L4, typed and read-only) must be
 * refused with -EINVAL, an offset whose vcpu_info would cross the page end
 * (or lie past it) with -ENXIO, as Xen 4.17 does. Then a real
 * registration: the area takes over the shared_info slot's state (the
 * upcall mask stays set, the pvclock is valid and keeps advancing there),
 * events are flagged and delivered through it (evtchn_upcall_pending in the
 * new area, callback still entered), and a second registration is refused.
 */
#include "evt/evt.h"
#include "pt.h"

#define MS 1000000ULL

static unsigned char page[4096] __attribute__((aligned(4096)));

static long reg(unsigned long mfn, unsigned int offset, unsigned int vcpu)
{
    struct vcpu_register_vcpu_info r = { .mfn = mfn, .offset = offset };
    long rc = hyp_vcpu_op(VCPUOP_register_vcpu_info, vcpu, &r);

    guest_printf("     mfn %lx offset %u vcpu %u: %ld\n", mfn, offset, vcpu, rc);
    return rc;
}

void test_main(void)
{
    vcpu_info_t *vi;
    long a, b;
    uint64_t t0;

    if (!evt_setup("setup"))
        return;

    TEST("hostile: register_vcpu_info with bad arguments");
    EXPECT_EQ(hyp_vcpu_op(VCPUOP_register_vcpu_info, 0, NULL), -XEN_EFAULT);
    EXPECT_EQ(reg(pt_mfn_of(page), 0, 99), -XEN_ENOENT);
    EXPECT_EQ(reg(pt_foreign_mfn(), 0, 0), -XEN_EINVAL);
    EXPECT_EQ(reg(pt_cur_l4_mfn, 0, 0), -XEN_EINVAL);
    /* An area that would cross the page end: -ENXIO on Xen 4.17. */
    EXPECT_EQ(reg(pt_mfn_of(page), 4096 - sizeof(vcpu_info_t) + 8, 0), -XEN_ENXIO);
    EXPECT_EQ(reg(pt_mfn_of(page), 4095, 0), -XEN_ENXIO);
    EXPECT_EQ(reg(pt_mfn_of(page), 4096, 0), -XEN_ENXIO);
    EXPECT_EQ(evt_shared->vcpu_info[0].evtchn_upcall_mask, 1);  /* slot still in use */

    TEST("a real registration takes over the slot's state");
    EXPECT_EQ(evt_register_vcpu_info(0), 0);
    vi = evt_vcpu_info(0);
    EXPECT(vi != &evt_shared->vcpu_info[0]);
    EXPECT_EQ(vi->evtchn_upcall_mask, 1);
    EXPECT_EQ(vi->time.version & 1, 0);
    EXPECT(vi->time.tsc_to_system_mul != 0);
    t0 = evt_now();
    while (evt_now() < t0 + 20 * MS)
        hyp_sched_op(SCHEDOP_yield, NULL);
    EXPECT(evt_now() >= t0 + 20 * MS);
    EXPECT_EQ(reg(pt_mfn_of(page), 0, 0), -XEN_EINVAL);           /* twice */

    TEST("events flow through the registered area");
    a = evt_alloc_unbound(DOMID_SELF);
    b = evt_bind_interdomain(DOMID_SELF, (evtchn_port_t)a);
    EXPECT(a > 0 && b > 0);
    if (a <= 0 || b <= 0)
        return;
    evt_clear_pending((evtchn_port_t)b);      /* Xen's bind-time event */
    vi->evtchn_upcall_pending = 0;
    vi->evtchn_pending_sel = 0;
    EXPECT_EQ(evt_send((evtchn_port_t)a), 0);
    EXPECT_EQ(vi->evtchn_upcall_pending, 1);
    EXPECT(vi->evtchn_pending_sel != 0);
    EXPECT_EQ(evt_count[b], 0);
    unsigned long up = evt_upcalls[0];
    evt_enable();
    EXPECT_EQ(evt_count[b], 1);
    EXPECT(evt_upcalls[0] > up);
    EXPECT_EQ(vi->evtchn_upcall_pending, 0);
    EXPECT_EQ(evt_send((evtchn_port_t)a), 0);
    EXPECT_EQ(evt_count[b], 2);
    EXPECT_EQ(evt_last_frame[0].mask, 1);
    evt_disable();
}
