/*
 * Event channels, 2-level ABI (docs/linux-pv-interface.md §5.2): the
 * pending and mask bitmaps live in the domain's shared_info, the per-vCPU
 * selector and upcall flags in its vcpu_info. A port is in one state at a
 * time: closed, unbound (waiting for a remote domain to bind it),
 * interdomain (connected to a remote port, or to the hypervisor itself for
 * the console), VIRQ or IPI. Port 0 is never allocated.
 */
#ifndef PVKIT_EVENT_H
#define PVKIT_EVENT_H

#include "pvkit/lib.h"

#define NR_EVTCHN_PORTS     1024

struct domain;
struct vcpu;

/* The hypervisor end of an interdomain channel (e.g. the console ring). */
typedef void xen_port_handler(struct domain *d);

struct evtchn {
    uint8_t state;              /* EVTCHNSTAT_* */
    uint16_t notify_vcpu;
    uint16_t remote_dom;        /* unbound: who may bind; interdomain: the peer */
    uint32_t remote_port;       /* interdomain: the peer's port (0: the hypervisor) */
    uint32_t virq;
    xen_port_handler *xen_handler; /* set when the hypervisor is the peer */
};

/* Marks a port pending and raises the upcall of its vCPU if it is not masked. */
void evtchn_set_pending(struct domain *d, unsigned int port);
/* Raises a VIRQ on a vCPU, if the guest bound it. */
void send_virq(struct vcpu *v, unsigned int virq);
/* Closes every port of d (peers' ends go back to unbound), as if d closed them. */
void evtchn_close_all(struct domain *d);
/* Allocates a port connected to a hypervisor handler; returns it, or -errno. */
int evtchn_alloc_xen_port(struct domain *d, xen_port_handler *handler);

/* A new unbound port of d that domain `remote` may bind: the port, or -errno. */
int evtchn_alloc_unbound_port(struct domain *d, uint16_t remote);
/* vcpu_event_pending (an upcall due) is inline in pvkit/domain.h, after struct vcpu. */

#endif
