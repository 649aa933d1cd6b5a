/*
 * transport.h - what a backend needs from the platform: foreign grant
 * mapping and copy, interdomain event channels, and the store.
 *
 * Two implementations are chosen at run time by name:
 *   "xen"    - the management domain: Debian's libxengnttab, libxenevtchn
 *              and libxenstore talking to /dev/xen/{gntdev,evtchn,xenbus};
 *   "hosted" - a plain Linux host: each "domain" is a process whose memory
 *              is a memfd holding a v1 grant table (see hosted_layout.h),
 *              event channels are Unix datagram sockets, and the store is a
 *              xenstored reached over its Unix socket (XENSTORED_PATH).
 * A backend written against this interface runs unchanged on both.
 * Invariants: every mapping returned by pvk_grant_map is released by exactly
 * one pvk_grant_unmap with the same count; an event channel object is used
 * by one thread at a time (the queue that owns it), while grant calls may
 * come from any thread.
 */
#ifndef PVK_TRANSPORT_H
#define PVK_TRANSPORT_H

#include <stdint.h>
#include "proto/pvk_abi.h"

struct xs_handle;
struct pvk_transport;
struct pvk_evtchn;

/* One grant-copy segment between a local buffer and a foreign grant. */
struct pvk_copy_seg {
    uint8_t to_foreign;   /* 1: local -> foreign grant; 0: foreign -> local */
    domid_t domid;        /* granting domain */
    grant_ref_t ref;
    uint16_t offset;      /* within the granted page */
    uint16_t len;         /* offset + len <= PVK_PAGE_SIZE */
    void *local;
    int16_t status;       /* out: GNTST_okay or a GNTST_* error */
};

/*
 * Opens the named transport ("xen" or "hosted"); NULL with errno on error,
 * and then pvk_transport_failed_on() names what it failed on.
 */
struct pvk_transport *pvk_transport_open(const char *kind);
/*
 * The path or device the last failed pvk_transport_open or pvk_store_open
 * was about ("/dev/xen/gntdev", the hosted directory, the store socket,
 * ...); never NULL.  Meant for the one error line of a daemon's start-up.
 */
const char *pvk_transport_failed_on(void);
/*
 * The store socket libxenstore connects to: $XENSTORED_PATH, else
 * $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket.
 */
const char *pvk_store_socket_path(void);
/* Releases the transport; all mappings and channels must be gone. */
void pvk_transport_close(struct pvk_transport *t);
/* The name the transport was opened with. */
const char *pvk_transport_kind(const struct pvk_transport *t);
/* Domain id of the process the transport runs in (0 for dom0). */
domid_t pvk_transport_self(const struct pvk_transport *t);

/*
 * Maps `count` grants of `domid` at consecutive pages of one new mapping,
 * writable if `writable`.  Returns the address, or NULL with errno if any
 * grant is invalid (then nothing stays mapped).
 */
void *pvk_grant_map(struct pvk_transport *t, domid_t domid, uint32_t count,
                    const grant_ref_t *refs, int writable);
/* Unmaps a mapping made by pvk_grant_map. Returns 0 or -errno. */
int pvk_grant_unmap(struct pvk_transport *t, void *addr, uint32_t count);
/*
 * Performs `count` grant copies; each segment's status says whether it
 * happened.  Returns 0 if the batch ran (check statuses) or -errno.
 */
int pvk_grant_copy(struct pvk_transport *t, uint32_t count,
                   struct pvk_copy_seg *segs);

/* Binds to the frontend's unbound port; NULL with errno on error. */
struct pvk_evtchn *pvk_evtchn_bind(struct pvk_transport *t, domid_t domid,
                                   evtchn_port_t remote_port);
/* A pollable fd that becomes readable when the remote end notifies. */
int pvk_evtchn_fd(struct pvk_evtchn *ev);
/* Sends a notification to the remote end. */
void pvk_evtchn_notify(struct pvk_evtchn *ev);
/* Consumes pending notifications and re-arms the channel; call it only
 * after pvk_evtchn_fd polled readable. */
void pvk_evtchn_ack(struct pvk_evtchn *ev);
/* Closes the local end; the remote port reverts to unbound. */
void pvk_evtchn_unbind(struct pvk_evtchn *ev);

/*
 * Opens a store connection suited to the transport; NULL with errno, and
 * then pvk_transport_failed_on() names the socket (or device) tried.
 */
struct xs_handle *pvk_store_open(struct pvk_transport *t);

/*
 * A daemon's start-up: opens transport `kind` into *t and its store into
 * *xs.  Returns 0, or -1 after one error line naming the device or socket
 * that failed ("transport xen: /dev/xen/gntdev: ...", "cannot connect to
 * xenstore at PATH: ..."); then *t and *xs are NULL and nothing stays open.
 */
int pvk_connect(const char *kind, struct pvk_transport **t,
                struct xs_handle **xs);

#endif
