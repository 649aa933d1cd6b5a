/*
 * dom0: the initial domain's own store page and port, as Linux exposes them
 * to the store daemon (what C xenstored's xenbus_map / xenbus_evtchn read).
 *
 * Linux as the initial domain (xenbus_init, XS_LOCAL) allocates the store
 * page and an unbound event channel itself and exposes them through xenfs
 * as /proc/xen/xsd_kva (one mmap-able page) and /proc/xen/xsd_port (the
 * port, in decimal). Its xenbus stays idle until the store daemon first
 * signals that port. The daemon serves that ring as domain 0 through the
 * same path as every other domain (domain_connect_dom0; xen.c maps the
 * page with dom0_map).
 */
#ifndef XSL_DOM0_H
#define XSL_DOM0_H

#include <stdbool.h>
#include "wire.h"

/* Where xenfs is mounted on a Linux dom0. */
#define DOM0_XENFS "/proc/xen"

/* True if xenfs_dir/xsd_kva exists (we run in the initial domain). */
bool dom0_present(const char *xenfs_dir);
/* Read the port in xenfs_dir/xsd_port into *port. 0, or -errno (-EINVAL
 * if the file does not hold a port number). */
int dom0_port(const char *xenfs_dir, unsigned *port);
/* Map xenfs_dir/xsd_kva shared and writable into *intf. 0 or -errno. */
int dom0_map(const char *xenfs_dir, struct xenstore_domain_interface **intf);
/* Undo dom0_map. */
void dom0_unmap(struct xenstore_domain_interface *intf);

#endif
