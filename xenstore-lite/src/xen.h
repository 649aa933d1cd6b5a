/*
 * xen: the daemon's hypervisor (the hyp.h table) on a Xen-ABI host, with
 * Debian's libraries as C xenstored 4.17 uses them: libxengnttab maps a
 * domain's store page through its grant reference 1
 * (GNTTAB_RESERVED_XENSTORE), libxenforeignmemory maps the mfn instead when
 * the grant cannot be mapped, libxenevtchn binds the interdomain channels
 * and VIRQ_DOM_EXC (/dev/xen/evtchn's bind-virq), libxencall asks
 * XEN_DOMCTL_getdomaininfo. One libevent event watches the event-channel
 * descriptor: VIRQ_DOM_EXC runs domain_check, any other port serves its
 * domain's ring one bounded round; rings with more input are served again
 * from a second, internal event, so the loop stays fair across domains.
 * Built only where libxen-dev's headers are installed (XSL_HAVE_XEN);
 * elsewhere xen_open reports -ENOSYS.
 */
#ifndef XSL_XEN_H
#define XSL_XEN_H

#include <event2/event.h>
#include "xsd.h"

struct xen;

/* Open the hypervisor interfaces, bind VIRQ_DOM_EXC, watch events on base
 * and set d->hyp. Returns 0 with *out set; -ENOENT when there is no
 * /dev/xen/evtchn (not on Xen: the caller runs hosted); -ENOSYS if built
 * without libxen; another -errno (nothing left behind) otherwise. */
int xen_open(struct xsd *d, struct event_base *base, struct xen **out);
/* Disconnect every domain (domain_disconnect_all), unbind VIRQ_DOM_EXC,
 * close the interfaces and clear d->hyp. */
void xen_close(struct xen *x);

#endif
