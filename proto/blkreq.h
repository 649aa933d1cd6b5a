/*
 * blkreq.h - decoding and validation of blkif requests (the backend's
 * decode-then-invoke step).
 *
 * A request is first copied out of the shared ring (the frontend can change
 * the ring at any time), then decoded here into a `struct blkreq` that holds
 * only checked values.  Pure code: no I/O, no allocation, no libc, so the
 * fuzz target and the unit tests drive it directly.
 * Invariants of a request accepted here: the operation is one the device
 * supports; every segment has first_sect <= last_sect < 8; the sectors it
 * touches lie inside the disk; writes never target a read-only disk; the
 * segment count is within the negotiated limits.
 */
#ifndef PVK_BLKREQ_H
#define PVK_BLKREQ_H

#include "pvk_abi.h"

enum blkreq_kind {
    BLKREQ_READ,
    BLKREQ_WRITE,
    BLKREQ_FLUSH,      /* FLUSH_DISKCACHE or WRITE_BARRIER, maybe with data */
    BLKREQ_DISCARD,
};

/* What the device can do; filled from the backing file at connect. */
struct blkreq_limits {
    uint64_t sectors;            /* disk size in 512-byte sectors */
    uint32_t max_indirect_segs;  /* 0 disables BLKIF_OP_INDIRECT */
    uint8_t readonly;
    uint8_t flush;               /* feature-flush-cache / barrier offered */
    uint8_t discard;             /* feature-discard offered */
};

struct blkreq_seg {
    grant_ref_t gref;
    uint8_t first_sect;
    uint8_t last_sect;
};

struct blkreq {
    uint64_t id;                 /* echoed in the response */
    uint8_t rsp_op;              /* operation echoed in the response */
    uint8_t kind;                /* enum blkreq_kind */
    uint8_t write;               /* data flows frontend -> disk */
    uint8_t flush;               /* after earlier requests, data on stable
                                    storage before the reply */
    uint8_t secure;              /* secure discard requested */
    uint16_t handle;
    uint64_t sector;             /* first disk sector */
    uint64_t nr_sectors;         /* sectors moved or discarded */
    uint32_t nr_segs;
    uint32_t nr_indirect;        /* indirect pages still to load, or 0 */
    grant_ref_t indirect[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
    struct blkreq_seg seg[PVK_BLK_MAX_INDIRECT_SEGS];
};

/*
 * Decodes the request copied from the ring.  Returns BLKIF_RSP_OKAY when
 * `out` may proceed (if out->nr_indirect > 0 the caller must map those
 * pages and call blkreq_load_indirect for each, then blkreq_finish), or
 * BLKIF_RSP_ERROR / BLKIF_RSP_EOPNOTSUPP to answer at once; out->id and
 * out->rsp_op are valid in every case.
 */
int blkreq_decode(const blkif_request_t *raw, const struct blkreq_limits *lim,
                  struct blkreq *out);

/*
 * Copies the segment descriptors of indirect page `idx` (a snapshot of the
 * granted page, PVK_PAGE_SIZE bytes) into `req`.  Contract: idx <
 * req->nr_indirect from blkreq_decode.
 */
void blkreq_load_indirect(struct blkreq *req, unsigned idx,
                          const struct blkif_request_segment *page);

/*
 * Validates the segments and the disk range once all descriptors are in
 * place; fills nr_sectors.  Returns BLKIF_RSP_OKAY or BLKIF_RSP_ERROR.
 */
int blkreq_finish(struct blkreq *req, const struct blkreq_limits *lim);

#endif
