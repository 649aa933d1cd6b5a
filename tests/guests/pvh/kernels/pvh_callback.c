/*
 * pvh_callback: how events reach a PVH guest, and the hypercalls Linux
 * makes to set that up (hypervisor/common/hvm_op.c, arch/x86/svm.c).
 *
 * Checks: XENVER_get_features shows a translated guest with the callback
 * vector and a safe pvclock, not the PV page-table features; hvm_op
 * get_param of the console ring (the reserved page after the store page,
 * above RAM) and its channel, STORE_PFN 0 (a boot-time domain has no
 * xenstore); VCPUOP_register_vcpu_info with a guest-physical frame (the
 * pvclock appears there, and the pending flag the registration raises);
 * HVM_PARAM_CALLBACK_IRQ set to a vector and read back; an event sent
 * while IF is clear waits (evtchn_upcall_pending) and is injected as that
 * vector the moment IF is set, once per pending flag; HLT sleeps until a
 * timer event and returns into the callback. Hostile: bad callback types
 * and vectors, an index past the end, parameters a guest may not set or
 * read, another domain, bad pointers, unknown HVMOPs, register_vcpu_info
 * twice or outside memory, VCPUOP_initialise: errors, nothing else.
 */
#include "pvh.h"
#include <xen/event_channel.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/vcpu.h>

#define CALLBACK_VECTOR 0xf3
#define CALLBACK_VIA    ((2ull << 56) | CALLBACK_VECTOR)

static struct vcpu_info vi_page[4096 / sizeof(struct vcpu_info)] __attribute__((aligned(4096)));

static long hvm_param(int op, uint16_t domid, uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = { .domid = domid, .index = index, .value = *value };
    long rc = hypercall3(__HYPERVISOR_hvm_op, (unsigned long)op, (unsigned long)&p, 0);
    *value = p.value;
    return rc;
}

static uint64_t get(uint32_t index)
{
    uint64_t v = 0x5a5a;
    EXPECT_EQ(hvm_param(HVMOP_get_param, DOMID_SELF, index, &v), 0);
    return v;
}

static void check_features(void)
{
    TEST("XENVER_get_features of a PVH domain");
    xen_feature_info_t fi = { .submap_idx = 0 };
    EXPECT_EQ(hyp_xen_version(XENVER_get_features, &fi), 0);
    EXPECT(fi.submap & (1u << XENFEAT_auto_translated_physmap));
    EXPECT(fi.submap & (1u << XENFEAT_hvm_callback_vector));
    EXPECT(fi.submap & (1u << XENFEAT_hvm_safe_pvclock));
    EXPECT(!(fi.submap & (1u << XENFEAT_mmu_pt_update_preserve_ad)));
}

static void check_params(void)
{
    TEST("hvm_op get_param: console ring and channel, no xenstore");
    const struct hvm_memmap_table_entry *m =
        (const void *)(unsigned long)pvh_start_info->memmap_paddr;
    EXPECT_EQ(get(HVM_PARAM_CONSOLE_PFN), (m[0].size >> 12) + 1);
    EXPECT(get(HVM_PARAM_CONSOLE_EVTCHN) > 0);
    EXPECT_EQ(get(HVM_PARAM_STORE_PFN), 0);
    EXPECT_EQ(get(HVM_PARAM_STORE_EVTCHN), 0);
    EXPECT_EQ(get(HVM_PARAM_CALLBACK_IRQ), 0);
}

static void check_hostile_params(void)
{
    static const uint64_t bad_via[] = {
        5,                              /* GSI 5: no interrupt controller behind it */
        (1ull << 56) | 0x1234,          /* PCI INTx */
        (3ull << 56) | 0x20,            /* type 3 */
        (2ull << 56) | 15,              /* an exception vector */
        (2ull << 56) | 0x1f3,           /* past 255 */
        (0xffull << 56) | 0x40,
    };
    uint64_t v;

    TEST("hostile: hvm_op garbage is refused");
    for (unsigned int i = 0; i < sizeof(bad_via) / sizeof(bad_via[0]); i++) {
        v = bad_via[i];
        EXPECT_EQ(hvm_param(HVMOP_set_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v), -XEN_EINVAL);
    }
    EXPECT_EQ(get(HVM_PARAM_CALLBACK_IRQ), 0);  /* nothing half-set */
    v = 0;
    EXPECT_EQ(hvm_param(HVMOP_get_param, DOMID_SELF, HVM_NR_PARAMS, &v), -XEN_EINVAL);
    EXPECT_EQ(hvm_param(HVMOP_get_param, DOMID_SELF, 0xffffffffu, &v), -XEN_EINVAL);
    v = 0x1000;
    EXPECT_EQ(hvm_param(HVMOP_set_param, DOMID_SELF, HVM_PARAM_STORE_PFN, &v), -XEN_EPERM);
    EXPECT_EQ(hvm_param(HVMOP_set_param, DOMID_SELF, HVM_PARAM_CONSOLE_PFN, &v), -XEN_EPERM);
    EXPECT_EQ(hvm_param(HVMOP_get_param, DOMID_SELF, HVM_PARAM_HPET_ENABLED, &v), -XEN_EPERM);
    EXPECT_EQ(hvm_param(HVMOP_get_param, 0, HVM_PARAM_CONSOLE_PFN, &v), -XEN_EPERM); /* dom0's */
    EXPECT_EQ(hypercall3(__HYPERVISOR_hvm_op, HVMOP_get_param, 0x700000000000ul, 0), -XEN_EFAULT);
    EXPECT_EQ(hypercall3(__HYPERVISOR_hvm_op, HVMOP_set_param, ~0ul, 0), -XEN_EFAULT);
    EXPECT_EQ(hypercall3(__HYPERVISOR_hvm_op, HVMOP_pagetable_dying, 0, 0), -XEN_ENOSYS);
    EXPECT_EQ(hypercall3(__HYPERVISOR_hvm_op, 0x7fffffff, 0, 0), -XEN_ENOSYS);
    EXPECT_EQ(hypercall3(__HYPERVISOR_hvm_op, ~0ul, 0, 0), -XEN_ENOSYS);
}

static void check_vcpu_info(void)
{
    TEST("VCPUOP_register_vcpu_info at a guest frame");
    struct vcpu_register_vcpu_info r = { .mfn = ~0ull >> 12, .offset = 64 };
    EXPECT_EQ(hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0,
                         (unsigned long)&r), -XEN_EINVAL);   /* no such frame */
    r.mfn = ((unsigned long)vi_page - GUEST_VIRT_BASE) >> 12;
    EXPECT_EQ(hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0,
                         (unsigned long)&r), 0);
    struct vcpu_info *vi = &vi_page[1];
    EXPECT(vi->time.version >= 2 && !(vi->time.version & 1));
    EXPECT(vi->time.tsc_to_system_mul != 0);
    EXPECT_EQ(vi->evtchn_upcall_pending, 1);     /* rescan everything: raised by the move */
    EXPECT_EQ(hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0,
                         (unsigned long)&r), -XEN_EINVAL);   /* once only */
    static struct vcpu_guest_context ctx;
    EXPECT_EQ(hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 0, (unsigned long)&ctx),
              -XEN_ENOSYS);
    EXPECT_EQ(hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 1, 0), -XEN_ENOENT);
    EXPECT_EQ(hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 0, 0), 1);
}

static void check_upcalls(void)
{
    struct vcpu_info *vi = &vi_page[1];
    uint64_t v = CALLBACK_VIA;

    TEST("HVM_PARAM_CALLBACK_IRQ: the vector, read back");
    pvh_upcall_vector = CALLBACK_VECTOR;
    pvh_upcall_flag = &vi->evtchn_upcall_pending;
    EXPECT_EQ(hvm_param(HVMOP_set_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v), 0);
    EXPECT_EQ(get(HVM_PARAM_CALLBACK_IRQ), CALLBACK_VIA);

    TEST("a pending upcall is injected as the vector once IF is set");
    EXPECT_EQ(vi->evtchn_upcall_pending, 1);     /* still, from the registration */
    EXPECT_EQ(pvh_irq_count[CALLBACK_VECTOR], 0);
    pvh_irq_window();
    EXPECT_EQ(pvh_irq_count[CALLBACK_VECTOR], 1);
    EXPECT_EQ(vi->evtchn_upcall_pending, 0);
    pvh_irq_window();
    EXPECT_EQ(pvh_irq_count[CALLBACK_VECTOR], 1); /* cleared: not again */
    vi->evtchn_pending_sel = 0;                   /* as a handler would, having scanned */

    TEST("an event channel sent to ourselves raises the upcall");
    struct evtchn_bind_ipi ipi = { .vcpu = 0 };
    EXPECT_EQ(hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, (unsigned long)&ipi, 0), 0);
    struct evtchn_unmask unmask = { .port = ipi.port };
    EXPECT_EQ(hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_unmask, (unsigned long)&unmask, 0), 0);
    struct evtchn_send send = { .port = ipi.port };
    EXPECT_EQ(hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&send, 0), 0);
    EXPECT_EQ(vi->evtchn_upcall_pending, 1);
    EXPECT_EQ(pvh_irq_count[CALLBACK_VECTOR], 1); /* IF clear: waits */
    pvh_irq_window();
    EXPECT_EQ(pvh_irq_count[CALLBACK_VECTOR], 2);
    EXPECT_EQ(pvh_irq_last, CALLBACK_VECTOR);
    vi->evtchn_pending_sel = 0;

    TEST("HLT sleeps until a timer event, which comes in through the callback");
    struct evtchn_bind_virq bind = { .virq = VIRQ_TIMER, .vcpu = 0 };
    EXPECT_EQ(hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, (unsigned long)&bind, 0), 0);
    unmask.port = bind.port;
    EXPECT_EQ(hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_unmask, (unsigned long)&unmask, 0), 0);
    uint64_t now = vi->time.system_time;
    EXPECT_EQ(hypercall3(__HYPERVISOR_set_timer_op, now + 3000000, 0, 0), 0);   /* 3 ms */
    EXPECT_EQ(pvh_halt_until(CALLBACK_VECTOR, 3, 100), 3);

    TEST("callback off: events no longer injected");
    v = 0;
    EXPECT_EQ(hvm_param(HVMOP_set_param, DOMID_SELF, HVM_PARAM_CALLBACK_IRQ, &v), 0);
    EXPECT_EQ(hypercall3(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&send, 0), 0);
    vi->evtchn_upcall_pending = 1;
    pvh_irq_window();
    EXPECT_EQ(pvh_irq_count[CALLBACK_VECTOR], 3);
}

void test_main(void)
{
    check_features();
    check_params();
    check_hostile_params();
    check_vcpu_info();
    check_upcalls();
}
