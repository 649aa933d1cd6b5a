/*
 * dom0: serving the initial domain's own kernel through its store ring, as
 * C xenstored's dom0_init does.
 *
 * Linux as the initial domain (xenbus_init, XS_LOCAL) allocates the store
 * page and an unbound event channel itself and exposes them through xenfs
 * as /proc/xen/xsd_kva (one mmap-able page) and /proc/xen/xsd_port (the
 * port, in decimal). Its xenbus stays idle until the store daemon first
 * signals that port. The daemon maps the page, binds an interdomain event
 * channel to (domain 0, xsd_port) with libxenevtchn and serves the page
 * with the ring transport (ring.c) as domain 0. Built only where
 * libxenevtchn is available (XSL_HAVE_XENEVTCHN); elsewhere dom0_ring_start
 * reports -ENOSYS.
 */
#ifndef XSL_DOM0_H
#define XSL_DOM0_H

#include <event2/event.h>
#include "xsd.h"

/* Where xenfs is mounted on a Linux dom0. */
#define DOM0_XENFS "/proc/xen"

struct dom0_ring;

/* Serve the ring that xenfs_dir/xsd_kva and xenfs_dir/xsd_port describe on
 * base: map the page, bind the event channel, attach the ring as domain 0,
 * serve what the kernel already queued and signal it so that its xenbus
 * starts. Returns 0 with *out set; -ENOENT if there is no xsd_kva (not the
 * initial domain, or xenfs not mounted); -ENOSYS if built without
 * libxenevtchn; another -errno if the ring exists but could not be served
 * (nothing is left behind then). */
int dom0_ring_start(struct xsd *d, struct event_base *base, const char *xenfs_dir,
		    struct dom0_ring **out);
/* Stop serving: detach the ring, unbind the port, unmap the page. */
void dom0_ring_stop(struct dom0_ring *r);

#endif
