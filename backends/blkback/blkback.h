/*
 * blkback.h - internal interfaces of pvkit-blkback.
 *
 * Structure: the xenbus-backend core (../core/xbback.h) runs the daemon,
 * finds the vbds and drives their state machine; blkback adds only the
 * block protocol: main.c (options), vbd.c (the vbd class: backing file,
 * probe and connect keys), and one `struct vbd_queue` thread per ring
 * (queue.c: ring consumer, grant mapping through pcache.c, asynchronous I/O
 * with io_uring).  Only the queue thread touches its ring, its io_uring and
 * its persistent-grant cache; the main thread only starts and stops queues.
 * A queue that detects a frontend protocol violation it cannot answer with
 * an error response (garbage ring indices) calls xbb_dev_fail, and the core
 * drops the device (state Closing) while every other device keeps being
 * served.
 */
#ifndef PVK_BLKBACK_H
#define PVK_BLKBACK_H

#include <sys/uio.h>
#include <liburing.h>

#include "core/xbback.h"
#include "proto/blkreq.h"

/* Process-wide options beside the core's. */
struct blkback {
    struct xbb_backend core;    /* core.max_queues: rings per disk offered */
    unsigned max_ring_order;
    unsigned max_indirect;      /* 0 disables indirect segments */
    unsigned max_persistent;    /* persistent grants per disk at most, 0 = off */
};

/* Persistent grant cache: gref -> page mapped writable, per queue. */
struct pcache_ent {
    grant_ref_t gref;
    void *page;                 /* NULL = free slot */
};
struct pcache {
    struct pcache_ent *ents;    /* open addressing, capacity power of 2 */
    unsigned cap, used, max;
};

/* One request between decode and response. */
struct inflight {
    uint64_t id;
    uint8_t op;                 /* operation echoed in the response */
    int16_t status;
    unsigned pending;           /* io_uring completions still expected */
    uint64_t expect;            /* bytes the data op must transfer */
    void *batch;                /* non-persistent mapping to release */
    uint32_t batch_count;
    struct iovec iov[PVK_BLK_MAX_INDIRECT_SEGS];
    struct inflight *next_free;
};

struct vbd_queue {
    struct vbd *vbd;
    unsigned idx;
    unsigned nr_ring_pages;
    grant_ref_t ring_refs[PVK_MAX_RING_PAGES];
    evtchn_port_t port;
    void *sring;
    blkif_back_ring_t ring;
    struct pvk_evtchn *ev;
    struct io_uring uring;
    struct xbb_thread th;
    struct pcache pc;
    struct inflight *slots, *free;
    unsigned nr_slots, busy;
    struct blkreq req;          /* decode scratch */
    struct blkreq deferred;     /* a flush waiting for earlier requests */
    struct inflight *deferred_slot;
};

struct vbd {
    struct xbb_dev dev;         /* dev.id: the virtual device number */
    int fd;                     /* backing file or block device */
    int is_blkdev;
    struct blkreq_limits lim;
    unsigned phys_sector;
    int cdrom;                  /* frontend's device-type is "cdrom" */
    int persistent;             /* negotiated for the current connection */
    unsigned nr_queues;
    struct vbd_queue *queues;
};

/* The blkback options of the daemon serving v. */
static inline struct blkback *vbd_blkback(const struct vbd *v)
{
    return xbb_container_of(v->dev.be, struct blkback, core);
}

/* pcache.c */
int pcache_init(struct pcache *pc, unsigned max);
void *pcache_get(struct pcache *pc, grant_ref_t gref);
int pcache_put(struct pcache *pc, grant_ref_t gref, void *page);
void pcache_release(struct pcache *pc, struct pvk_transport *t);

/* queue.c */
int queue_start(struct vbd_queue *q);
void queue_stop(struct vbd_queue *q);

/* vbd.c: the vbd device class of the core. */
extern const struct xbb_class vbd_class;

#endif
