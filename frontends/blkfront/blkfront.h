/*
 * blkfront.h - portable PV block frontend core (freestanding).
 *
 * Split as data path (blkfront.c: rings, requests, responses) and xenstore
 * handshake (blkfront_xs.c: features, ring publication, state machine).
 * The caller drives it: blkfront_init, blkfront_connect, then any number
 * of blkfront_submit / blkfront_poll on each queue (one caller per queue at
 * a time), then blkfront_disconnect.  Data moves through bounce pages that
 * are granted once and kept for the connection (persistent grants), so a
 * request's buffer needs no particular alignment.
 * Invariants: a slot is busy from submit until its response is consumed;
 * the request id on the ring is the slot index; responses naming a slot
 * that is not busy are ignored (counted in bad_responses).
 * The structs are public so that tests (the hostile frontend) can reach
 * the raw ring; normal users treat them as opaque.
 */
#ifndef PVF_BLKFRONT_H
#define PVF_BLKFRONT_H

#include "pvf_util.h" /* struct pvf_link; it includes pvf_os.h */

#define BLKFRONT_MAX_QUEUES 4
#define BLKFRONT_MAX_SEGS PVK_BLK_MAX_INDIRECT_SEGS

struct blkfront_opts {
    unsigned max_queues;      /* rings to ask for (capped by the backend) */
    unsigned ring_order;      /* log2 ring pages to ask for (capped) */
    unsigned max_segs;        /* segments per request; > 11 needs indirect */
};

struct blkfront_slot {
    int busy;
    uint8_t op;
    uint64_t cookie;
    void *buf;                /* caller's buffer for reads */
    uint32_t nbytes;
    unsigned nr_pages;        /* bounce pages granted so far */
    void *pages[BLKFRONT_MAX_SEGS];
    grant_ref_t grefs[BLKFRONT_MAX_SEGS];
    void *ind_page;           /* indirect descriptor page, if used */
    grant_ref_t ind_gref;
};

struct blkfront_dev;

struct blkfront_queue {
    struct blkfront_dev *dev;
    unsigned idx;
    void *sring;
    unsigned nr_ring_pages;
    grant_ref_t ring_ref[PVK_MAX_RING_PAGES];
    blkif_front_ring_t ring;
    evtchn_port_t port;
    struct blkfront_slot *slots;
    unsigned nr_slots, nr_free;
    uint16_t *free_ids;
};

struct blkfront_dev {
    struct pvf_link link;
    uint32_t vdev;
    struct blkfront_opts opts;
    /* Learned from the backend. */
    uint64_t sectors;
    uint32_t sector_size;
    uint32_t info;
    uint8_t feat_flush, feat_barrier, feat_discard, feat_persistent;
    uint32_t be_indirect, be_max_queues, be_max_order;
    /* Negotiated. */
    unsigned nr_queues, ring_order, max_segs;
    struct blkfront_queue q[BLKFRONT_MAX_QUEUES];
    unsigned long bad_responses;
};

/* Completion callback: status is BLKIF_RSP_OKAY/ERROR/EOPNOTSUPP. */
typedef void (*blkfront_done_fn)(void *arg, uint64_t cookie, int status);

/* Reads backend, backend-id and virtual-device from `node`. 0 or -errno. */
int blkfront_init(struct blkfront_dev *dev, const struct pvf_os *os,
                  const char *node, const struct blkfront_opts *opts);
/* Runs the handshake until both ends are Connected, within `ms`. */
int blkfront_connect(struct blkfront_dev *dev, unsigned ms);
/* Closes both ends and releases rings and grants. */
int blkfront_disconnect(struct blkfront_dev *dev, unsigned ms);

/*
 * Queues one request on queue `qi`: op is BLKIF_OP_READ, _WRITE (nbytes a
 * non-zero multiple of 512, at most max_segs pages), _FLUSH_DISKCACHE
 * (buf NULL, nbytes 0) or _DISCARD (nbytes = bytes to discard, buf NULL).
 * Returns 0, -XEN_EBUSY if the ring is full, -XEN_EINVAL for a bad request
 * or -XEN_EOPNOTSUPP if the backend does not offer the operation.
 */
int blkfront_submit(struct blkfront_dev *dev, unsigned qi, uint8_t op,
                    uint64_t sector, void *buf, uint32_t nbytes,
                    uint64_t cookie);
/*
 * Zero-copy buffers: npages virtually contiguous pages granted once to the
 * backend.  I/O submitted with blkfront_submit_buf reads or writes them
 * directly (no bounce copy); the caller must not touch a buffer while a
 * request on it is in flight.
 */
struct blkfront_buf {
    void *va;
    unsigned npages;
    grant_ref_t *grefs;
};
/* Allocates and grants a buffer of npages; 0 or -XEN_ENOMEM. */
int blkfront_buf_alloc(struct blkfront_dev *dev, struct blkfront_buf *b,
                       unsigned npages);
/* Revokes and frees a buffer (no request on it may be in flight). */
void blkfront_buf_free(struct blkfront_dev *dev, struct blkfront_buf *b);
/* Like blkfront_submit for READ/WRITE, over the first nbytes of b. */
int blkfront_submit_buf(struct blkfront_dev *dev, unsigned qi, uint8_t op,
                        uint64_t sector, const struct blkfront_buf *b,
                        uint32_t nbytes, uint64_t cookie);
/* Consumes responses of queue `qi`, calling fn for each; returns the count. */
int blkfront_poll(struct blkfront_dev *dev, unsigned qi, blkfront_done_fn fn,
                  void *arg);
/* Requests in flight on queue `qi`. */
unsigned blkfront_inflight(const struct blkfront_dev *dev, unsigned qi);

/* blkfront_xs.c <-> blkfront.c */
int blkfront_rings_alloc(struct blkfront_dev *dev);
void blkfront_rings_free(struct blkfront_dev *dev);

#endif
