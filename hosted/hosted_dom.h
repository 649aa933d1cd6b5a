/*
 * hosted_dom.h - a "hosted domain": the frontend side of the hosted
 * transport.  It turns the current process into domain `domid` whose
 * memory is a memfd with a v1 grant table (hosted_layout.h, beside it),
 * and provides the struct pvf_os glue the portable frontend cores run on:
 * pages from that memfd, grants in that table, event channels as Unix
 * datagram sockets, the store through libxenstore over XENSTORED_PATH.
 * One hosted domain per process; not thread-safe (one frontend thread).
 */
#ifndef PVF_HOSTED_DOM_H
#define PVF_HOSTED_DOM_H

#include "pvf_os.h"

struct hosted_dom;

/*
 * Creates domain `domid` with `nr_pages` pages; NULL with errno.  Without
 * `with_store` the store calls of the glue fail (unit tests that wire a
 * frontend to a backend queue directly need no store).
 */
struct hosted_dom *hosted_dom_create(domid_t domid, unsigned nr_pages,
                                     int with_store);
/* Removes the domain's files and releases everything. */
void hosted_dom_destroy(struct hosted_dom *d);
/* The glue table for frontend cores. */
const struct pvf_os *hosted_dom_os(struct hosted_dom *d);
/* Waits up to `ms` for any event channel notification; 1 if one came. */
int hosted_dom_wait(struct hosted_dom *d, int ms);
/*
 * Does the domain builder's part of the primary console: a ring page
 * granted to domain 0 as GNTTAB_RESERVED_CONSOLE, an unbound port, and the
 * keys console/{ring-ref,port,type} under the domain's home.  0 or -errno.
 */
int hosted_dom_console(struct hosted_dom *d, struct xencons_interface **intf,
                       evtchn_port_t *port);
/* The store handle (for tests that write toolstack keys). */
struct xs_handle *hosted_dom_xs(struct hosted_dom *d);
/* Grant table entry `ref` (for tests that forge grants). */
grant_entry_v1_t *hosted_dom_grant_entry(struct hosted_dom *d, grant_ref_t ref);

#endif
