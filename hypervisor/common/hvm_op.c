/*
 * hvm_op for PVH domains, on themselves only: HVMOP_set_param and
 * HVMOP_get_param of the parameters Linux reads or sets as a PVH domU.
 *
 * Set: HVM_PARAM_CALLBACK_IRQ, type 2 (a vector, 16-255) or 0 (none);
 * the vector is injected while a vCPU's evtchn_upcall_pending is set
 * (arch/x86/svm.c). The GSI, PCI INTx and PPI types are refused (-EINVAL:
 * there is no emulated interrupt controller behind them). Every other
 * parameter is the toolstack's: -EPERM, as Xen refuses them to a guest.
 * Get: CALLBACK_IRQ, STORE_PFN/EVTCHN, CONSOLE_PFN/EVTCHN (0 when the
 * domain has none; a domain built without a store channel has no xenstore
 * to talk to, so its STORE_PFN reads 0 too); others -EPERM. An index past HVM_NR_PARAMS is -EINVAL,
 * another domain -EPERM, every other HVMOP -ENOSYS. Hypervisor lock held.
 */
#include "pvkit/hypercall.h"
#include "pvkit/domain.h"
#include "pvkit/guest_access.h"
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>

#define CALLBACK_TYPE_SHIFT 56

/* HVM_PARAM_CALLBACK_IRQ := value. 0 or -errno. */
static long set_callback(struct domain *d, uint64_t value)
{
    uint64_t type = value >> CALLBACK_TYPE_SHIFT, vector = value & ((1ull << CALLBACK_TYPE_SHIFT) - 1);
    if (value == 0) {
        d->callback_vector = 0;
        return 0;
    }
    if (type != HVM_PARAM_CALLBACK_TYPE_VECTOR || vector < 16 || vector > 255)
        return -XEN_EINVAL;
    d->callback_vector = (uint8_t)vector;
    return 0;
}

/* The value of param index, or -EPERM if the guest may not read it. */
static long get_param(const struct domain *d, uint32_t index, uint64_t *value)
{
    switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
        *value = d->callback_vector ?
                 ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << CALLBACK_TYPE_SHIFT) | d->callback_vector : 0;
        return 0;
    case HVM_PARAM_STORE_PFN:   /* no channel, no xenstore: 0 says so (Linux then skips xenbus) */
        *value = d->store_port ? d->store_gfn : 0;
        return 0;
    case HVM_PARAM_STORE_EVTCHN: *value = d->store_port; return 0;
    case HVM_PARAM_CONSOLE_PFN: *value = d->console_gfn; return 0;
    case HVM_PARAM_CONSOLE_EVTCHN: *value = d->console_gfn ? d->console_port : 0; return 0;
    default: return -XEN_EPERM;
    }
}

/* HVMOP_set_param / HVMOP_get_param with the xen_hvm_param at guest address arg. */
static long param_op(struct vcpu *v, bool set, uint64_t arg)
{
    struct xen_hvm_param p;
    struct domain *d = v->domain;
    long rc;

    if (copy_from_guest(&p, arg, sizeof(p)))
        return -XEN_EFAULT;
    if (p.domid != DOMID_SELF && p.domid != d->id)
        return -XEN_EPERM;
    if (p.index >= HVM_NR_PARAMS)
        return -XEN_EINVAL;
    if (set)
        return p.index == HVM_PARAM_CALLBACK_IRQ ? set_callback(d, p.value) : -XEN_EPERM;
    if ((rc = get_param(d, p.index, &p.value)))
        return rc;
    return copy_to_guest(arg, &p, sizeof(p)) ? -XEN_EFAULT : 0;
}

long do_hvm_op(struct vcpu *v, const uint64_t args[5])
{
    switch (args[0]) {
    case HVMOP_set_param:
    case HVMOP_get_param:
        return param_op(v, args[0] == HVMOP_set_param, args[1]);
    default:
        return -XEN_ENOSYS;
    }
}
