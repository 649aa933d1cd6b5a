/*
 * pvk_abi.h - single entry point to the Xen public headers for pvkit's
 * split-driver code (backends, frontends, tests).
 *
 * The ring macros of xen/io/ring.h need the includer to supply xen_mb(),
 * xen_rmb() and xen_wmb(); we supply them as C11 sequentially-consistent / acquire /
 * release fences, which is correct on x86-64 and any other C11 target, and
 * works both hosted and freestanding.  Every struct and constant of the
 * protocol comes from the installed headers; nothing is copied here.
 * Invariant: this is the only file that includes the xen/io headers directly.
 */
#ifndef PVK_ABI_H
#define PVK_ABI_H

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif

#include <stddef.h>
#include <stdint.h>

#ifndef xen_mb
#define xen_mb()  __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif
#ifndef xen_rmb
#define xen_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#endif
#ifndef xen_wmb
#define xen_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

#include <xen/xen.h>
#include <xen/errno.h>
#include <xen/grant_table.h>
#include <xen/event_channel.h>
#include <xen/io/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>
#include <xen/io/console.h>
#include <xen/io/xenbus.h>
#include <xen/io/protocols.h>

/* The page size every grant and ring of the x86-64 PV ABI is made of. */
#define PVK_PAGE_SIZE 4096u
#define PVK_SECTOR_SIZE 512u
#define PVK_SECTORS_PER_PAGE (PVK_PAGE_SIZE / PVK_SECTOR_SIZE)

/* Largest ring order either end negotiates (XENBUS_MAX_RING_GRANT_ORDER). */
#define PVK_MAX_RING_ORDER 4u
#define PVK_MAX_RING_PAGES (1u << PVK_MAX_RING_ORDER)

/* Segment descriptors held by one indirect page. */
#define PVK_SEGS_PER_INDIRECT_PAGE \
    (PVK_PAGE_SIZE / sizeof(struct blkif_request_segment))

/* Indirect segments blkback offers, as Linux's blkback does. */
#define PVK_BLK_MAX_INDIRECT_SEGS 256u

#endif
