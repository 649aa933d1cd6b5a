/*
 * consfront.h - portable PV console frontend core (freestanding): the guest
 * side of a struct xencons_interface ring (xen/io/console.h), as Linux's
 * hvc_xen uses for the primary console.  The ring page and event channel are
 * handed over by the platform (start_info in a PV guest, the domain builder
 * grants the page as GNTTAB_RESERVED_CONSOLE); this core only moves bytes.
 * Invariants: the guest only advances out_prod and in_cons; indices are
 * free-running and masked with the ring size; a producer index from the
 * daemon that runs more than the ring size ahead is treated as "nothing to
 * read" rather than trusted.
 */
#ifndef PVF_CONSFRONT_H
#define PVF_CONSFRONT_H

#include "pvf_os.h"

struct consfront {
    const struct pvf_os *os;
    struct xencons_interface *intf;
    evtchn_port_t port;
};

/* Binds the core to an already granted ring page and allocated port. */
void consfront_init(struct consfront *c, const struct pvf_os *os,
                    struct xencons_interface *intf, evtchn_port_t port);
/* Queues up to len output bytes; returns how many fitted (may be 0). */
unsigned consfront_write(struct consfront *c, const char *buf, unsigned len);
/* Takes up to len input bytes; returns how many were read. */
unsigned consfront_read(struct consfront *c, char *buf, unsigned len);

#endif
