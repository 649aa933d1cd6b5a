/*
 * physdev_op: the physical-device operations. Guests own no devices yet, so
 * the only one that means something is PHYSDEVOP_set_iopl, the virtual I/O
 * privilege level of the guest kernel (Linux sets 1). With a virtual IOPL of
 * at least 1 the guest kernel's CLI/STI are accepted as no-ops, as under Xen;
 * port I/O is still emulated (all-ones reads) since no port is assigned. All
 * other sub-ops return -ENOSYS, which Linux tolerates for a domU.
 */
#include "pvkit/guest_access.h"
#include "pvkit/hypercall.h"

long do_physdev_op(struct vcpu *v, const uint64_t args[5])
{
    switch (args[0]) {
    case PHYSDEVOP_set_iopl: {
        struct physdev_set_iopl op;
        if (copy_from_guest(&op, args[1], sizeof(op)))
            return -XEN_EFAULT;
        if (op.iopl > 3)
            return -XEN_EINVAL;
        v->iopl = op.iopl;
        return 0;
    }
    default:
        return -XEN_ENOSYS;
    }
}
