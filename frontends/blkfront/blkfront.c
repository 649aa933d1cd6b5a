/*
 * blkfront.c - data path of the portable block frontend: ring allocation,
 * request building (direct and indirect), response handling.  See
 * blkfront.h for the model and invariants.  Freestanding.
 */
#include "blkfront.h"

/* Contract: releases one slot's bounce and indirect pages and grants. */
static void slot_release(const struct pvf_os *os, struct blkfront_slot *s)
{
    for (unsigned i = 0; i < s->nr_pages; i++) {
        os->ungrant(os->ctx, s->grefs[i]);
        os->pages_free(os->ctx, s->pages[i], 1);
    }
    s->nr_pages = 0;
    if (s->ind_page) {
        os->ungrant(os->ctx, s->ind_gref);
        os->pages_free(os->ctx, s->ind_page, 1);
        s->ind_page = 0;
    }
}

/* Contract: allocates and grants one page; 0 or -errno. */
static int grant_page(struct blkfront_dev *dev, void **page, grant_ref_t *ref)
{
    const struct pvf_os *os = dev->link.os;
    uint64_t frame;
    int rc;

    *page = os->pages_alloc(os->ctx, 1, &frame);
    if (!*page)
        return -XEN_ENOMEM;
    rc = os->grant(os->ctx, dev->link.backend_id, frame, 0, ref);
    if (rc < 0) {
        os->pages_free(os->ctx, *page, 1);
        *page = 0;
    }
    return rc;
}

/* Contract: makes sure slot `s` has at least n granted bounce pages. */
static int slot_pages(struct blkfront_dev *dev, struct blkfront_slot *s,
                      unsigned n)
{
    while (s->nr_pages < n) {
        int rc = grant_page(dev, &s->pages[s->nr_pages], &s->grefs[s->nr_pages]);

        if (rc < 0)
            return rc;
        s->nr_pages++;
    }
    return 0;
}

/* Contract: sets up queue qi's shared ring, grants and event channel. */
static int ring_alloc(void *devp, unsigned qi)
{
    struct blkfront_dev *dev = devp;
    struct blkfront_queue *q = &dev->q[qi];
    const struct pvf_os *os = dev->link.os;
    uint64_t frames[PVK_MAX_RING_PAGES];
    int rc;

    q->idx = qi;
    q->dev = dev;
    q->nr_ring_pages = 1u << dev->ring_order;
    q->sring = os->pages_alloc(os->ctx, q->nr_ring_pages, frames);
    if (!q->sring)
        return -XEN_ENOMEM;
    SHARED_RING_INIT((blkif_sring_t *)q->sring);
    FRONT_RING_INIT(&q->ring, (blkif_sring_t *)q->sring,
                    q->nr_ring_pages * PVK_PAGE_SIZE);
    for (unsigned i = 0; i < q->nr_ring_pages; i++) {
        rc = os->grant(os->ctx, dev->link.backend_id, frames[i], 0, &q->ring_ref[i]);
        if (rc < 0)
            return rc;
    }
    rc = os->evtchn_alloc(os->ctx, dev->link.backend_id, &q->port);
    if (rc < 0)
        return rc;
    q->nr_slots = RING_SIZE(&q->ring);
    q->slots = os->zalloc(os->ctx, q->nr_slots * sizeof(*q->slots));
    q->free_ids = os->zalloc(os->ctx, q->nr_slots * sizeof(*q->free_ids));
    if (!q->slots || !q->free_ids)
        return -XEN_ENOMEM;
    for (unsigned i = 0; i < q->nr_slots; i++)
        q->free_ids[i] = (uint16_t)(q->nr_slots - 1 - i);
    q->nr_free = q->nr_slots;
    return 0;
}

/* Contract: releases what ring_alloc set up for queue qi (safe on partial setup). */
static void ring_free(void *devp, unsigned qi)
{
    struct blkfront_dev *dev = devp;
    struct blkfront_queue *q = &dev->q[qi];
    const struct pvf_os *os = dev->link.os;

    for (unsigned i = 0; q->slots && i < q->nr_slots; i++)
        slot_release(os, &q->slots[i]);
    os->free(os->ctx, q->slots);
    os->free(os->ctx, q->free_ids);
    q->slots = 0;
    q->free_ids = 0;
    if (q->port)
        os->evtchn_close(os->ctx, q->port);
    q->port = 0;
    if (q->sring) {
        for (unsigned i = 0; i < q->nr_ring_pages; i++)
            os->ungrant(os->ctx, q->ring_ref[i]);
        os->pages_free(os->ctx, q->sring, q->nr_ring_pages);
    }
    q->sring = 0;
}

int blkfront_rings_alloc(struct blkfront_dev *dev)
{
    return pvf_queues_alloc(dev, dev->nr_queues, BLKFRONT_MAX_QUEUES, ring_alloc, ring_free);
}

void blkfront_rings_free(struct blkfront_dev *dev)
{
    pvf_queues_free(dev, BLKFRONT_MAX_QUEUES, ring_free);
}

/* Contract: fills a direct read/write request over pages `grefs`. */
static void build_direct(struct blkfront_dev *dev, const grant_ref_t *grefs,
                         blkif_request_t *r, uint8_t op, uint64_t sector,
                         unsigned nsegs, uint32_t nbytes)
{
    r->operation = op;
    r->nr_segments = (uint8_t)nsegs;
    r->handle = (blkif_vdev_t)dev->vdev;
    r->sector_number = sector;
    for (unsigned i = 0; i < nsegs; i++) {
        uint32_t left = nbytes - i * PVK_PAGE_SIZE;
        uint32_t bytes = left < PVK_PAGE_SIZE ? left : PVK_PAGE_SIZE;

        r->seg[i].gref = grefs[i];
        r->seg[i].first_sect = 0;
        r->seg[i].last_sect = (uint8_t)(bytes / PVK_SECTOR_SIZE - 1);
    }
}

/* Contract: fills an indirect request over pages `grefs`, describing them
 * in slot s's indirect page; 0 or -errno. */
static int build_indirect(struct blkfront_dev *dev, struct blkfront_slot *s,
                          const grant_ref_t *grefs, blkif_request_indirect_t *r,
                          uint8_t op, uint64_t sector, unsigned nsegs,
                          uint32_t nbytes)
{
    struct blkif_request_segment *d;

    if (!s->ind_page && grant_page(dev, &s->ind_page, &s->ind_gref) < 0)
        return -XEN_ENOMEM;
    d = s->ind_page;
    for (unsigned i = 0; i < nsegs; i++) {
        uint32_t left = nbytes - i * PVK_PAGE_SIZE;
        uint32_t bytes = left < PVK_PAGE_SIZE ? left : PVK_PAGE_SIZE;

        d[i].gref = grefs[i];
        d[i].first_sect = 0;
        d[i].last_sect = (uint8_t)(bytes / PVK_SECTOR_SIZE - 1);
    }
    r->operation = BLKIF_OP_INDIRECT;
    r->indirect_op = op;
    r->nr_segments = (uint16_t)nsegs;
    r->sector_number = sector;
    r->handle = (blkif_vdev_t)dev->vdev;
    r->indirect_grefs[0] = s->ind_gref;
    return 0;
}

/* Contract: copies a write's data into slot s's bounce pages. */
static int bounce_in(struct blkfront_dev *dev, struct blkfront_slot *s,
                     const void *buf, uint32_t nbytes, uint8_t op)
{
    unsigned nsegs = (nbytes + PVK_PAGE_SIZE - 1) / PVK_PAGE_SIZE;
    int rc = slot_pages(dev, s, nsegs);

    if (rc < 0 || op != BLKIF_OP_WRITE)
        return rc;
    for (unsigned i = 0; i < nsegs; i++) {
        uint32_t left = nbytes - i * PVK_PAGE_SIZE;

        __builtin_memcpy(s->pages[i], (const uint8_t *)buf + i * PVK_PAGE_SIZE,
                         left < PVK_PAGE_SIZE ? left : PVK_PAGE_SIZE);
    }
    return 0;
}

/*
 * Contract: builds the data request of slot `id` into the ring slot, over
 * the caller's granted pages `grefs` (zero copy) or, if NULL, over the
 * slot's bounce pages filled from `buf`.
 */
static int build_rw(struct blkfront_dev *dev, struct blkfront_queue *q,
                    uint16_t id, uint8_t op, uint64_t sector, const void *buf,
                    const grant_ref_t *grefs, uint32_t nbytes)
{
    struct blkfront_slot *s = &q->slots[id];
    unsigned nsegs = (nbytes + PVK_PAGE_SIZE - 1) / PVK_PAGE_SIZE;
    void *slotp = RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt);
    int rc;

    if (!grefs) {
        rc = bounce_in(dev, s, buf, nbytes, op);
        if (rc < 0)
            return rc;
        grefs = s->grefs;
    }
    if (nsegs <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        blkif_request_t r = { 0 };

        build_direct(dev, grefs, &r, op, sector, nsegs, nbytes);
        r.id = id;
        __builtin_memcpy(slotp, &r, sizeof(r));
        return 0;
    } else {
        blkif_request_indirect_t r = { 0 };

        rc = build_indirect(dev, s, grefs, &r, op, sector, nsegs, nbytes);
        r.id = id;
        __builtin_memcpy(slotp, &r, sizeof(r));
        return rc;
    }
}

/* Contract: builds a flush or discard request into the ring slot. */
static int build_other(struct blkfront_dev *dev, struct blkfront_queue *q,
                       uint16_t id, uint8_t op, uint64_t sector, uint32_t nbytes)
{
    void *slotp = RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt);

    if (op == BLKIF_OP_DISCARD) {
        blkif_request_discard_t r = { 0 };

        if (!dev->feat_discard)
            return -XEN_EOPNOTSUPP;
        r.operation = BLKIF_OP_DISCARD;
        r.handle = (blkif_vdev_t)dev->vdev;
        r.id = id;
        r.sector_number = sector;
        r.nr_sectors = nbytes / PVK_SECTOR_SIZE;
        __builtin_memcpy(slotp, &r, sizeof(r));
        return 0;
    } else {
        blkif_request_t r = { 0 };

        if (!dev->feat_flush && !dev->feat_barrier)
            return -XEN_EOPNOTSUPP;
        r.operation = dev->feat_flush ? BLKIF_OP_FLUSH_DISKCACHE
                                      : BLKIF_OP_WRITE_BARRIER;
        r.handle = (blkif_vdev_t)dev->vdev;
        r.id = id;
        __builtin_memcpy(slotp, &r, sizeof(r));
        return 0;
    }
}

/* Contract: checks the shape of a request before any slot is taken. */
static int check_request(const struct blkfront_dev *dev, uint8_t op,
                         void *buf, uint32_t nbytes)
{
    if (op == BLKIF_OP_READ || op == BLKIF_OP_WRITE) {
        if (!buf || nbytes == 0 || nbytes % PVK_SECTOR_SIZE ||
            (nbytes + PVK_PAGE_SIZE - 1) / PVK_PAGE_SIZE > dev->max_segs)
            return -XEN_EINVAL;
        return 0;
    }
    if (op == BLKIF_OP_DISCARD)
        return nbytes && nbytes % PVK_SECTOR_SIZE == 0 ? 0 : -XEN_EINVAL;
    return op == BLKIF_OP_FLUSH_DISKCACHE ? 0 : -XEN_EINVAL;
}

/*
 * Contract: the common part of both submit calls; `grefs` non-NULL means
 * zero copy over the caller's granted pages (then buf is not touched).
 */
static int submit(struct blkfront_dev *dev, unsigned qi, uint8_t op,
                  uint64_t sector, void *buf, const grant_ref_t *grefs,
                  uint32_t nbytes, uint64_t cookie)
{
    struct blkfront_queue *q = &dev->q[qi];
    uint16_t id;
    int rc, notify;

    if (qi >= dev->nr_queues || !q->sring)
        return -XEN_EINVAL;
    rc = check_request(dev, op, buf, nbytes);
    if (rc < 0)
        return rc;
    if (q->nr_free == 0 || RING_FULL(&q->ring))
        return -XEN_EBUSY;
    id = q->free_ids[q->nr_free - 1];
    if (op == BLKIF_OP_READ || op == BLKIF_OP_WRITE)
        rc = build_rw(dev, q, id, op, sector, buf, grefs, nbytes);
    else
        rc = build_other(dev, q, id, op, sector, nbytes);
    if (rc < 0)
        return rc;
    q->nr_free--;
    q->slots[id].busy = 1;
    q->slots[id].op = op;
    q->slots[id].cookie = cookie;
    q->slots[id].buf = grefs ? 0 : buf;
    q->slots[id].nbytes = nbytes;
    q->ring.req_prod_pvt++;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->ring, notify);
    if (notify)
        dev->link.os->evtchn_notify(dev->link.os->ctx, q->port);
    return 0;
}

int blkfront_submit(struct blkfront_dev *dev, unsigned qi, uint8_t op,
                    uint64_t sector, void *buf, uint32_t nbytes,
                    uint64_t cookie)
{
    return submit(dev, qi, op, sector, buf, 0, nbytes, cookie);
}

int blkfront_submit_buf(struct blkfront_dev *dev, unsigned qi, uint8_t op,
                        uint64_t sector, const struct blkfront_buf *b,
                        uint32_t nbytes, uint64_t cookie)
{
    if ((op != BLKIF_OP_READ && op != BLKIF_OP_WRITE) ||
        nbytes > b->npages * PVK_PAGE_SIZE)
        return -XEN_EINVAL;
    return submit(dev, qi, op, sector, b->va, b->grefs, nbytes, cookie);
}

int blkfront_buf_alloc(struct blkfront_dev *dev, struct blkfront_buf *b,
                       unsigned npages)
{
    const struct pvf_os *os = dev->link.os;
    uint64_t *frames = os->zalloc(os->ctx, npages * sizeof(*frames));
    unsigned granted = 0;

    b->npages = npages;
    b->grefs = os->zalloc(os->ctx, npages * sizeof(*b->grefs));
    b->va = frames && b->grefs ? os->pages_alloc(os->ctx, npages, frames) : 0;
    while (b->va && granted < npages &&
           os->grant(os->ctx, dev->link.backend_id, frames[granted], 0,
                     &b->grefs[granted]) == 0)
        granted++;
    os->free(os->ctx, frames);
    if (b->va && granted == npages)
        return 0;
    for (unsigned i = 0; i < granted; i++)
        os->ungrant(os->ctx, b->grefs[i]);
    if (b->va)
        os->pages_free(os->ctx, b->va, npages);
    os->free(os->ctx, b->grefs);
    b->va = 0;
    b->grefs = 0;
    return -XEN_ENOMEM;
}

void blkfront_buf_free(struct blkfront_dev *dev, struct blkfront_buf *b)
{
    const struct pvf_os *os = dev->link.os;

    for (unsigned i = 0; i < b->npages; i++)
        os->ungrant(os->ctx, b->grefs[i]);
    os->pages_free(os->ctx, b->va, b->npages);
    os->free(os->ctx, b->grefs);
    b->va = 0;
    b->grefs = 0;
}

/* Contract: completes the slot named by one response. */
static void complete(struct blkfront_dev *dev, struct blkfront_queue *q,
                     const blkif_response_t *rsp, blkfront_done_fn fn, void *arg)
{
    struct blkfront_slot *s;

    if (rsp->id >= q->nr_slots || !q->slots[rsp->id].busy) {
        dev->bad_responses++;
        return;
    }
    s = &q->slots[rsp->id];
    if (s->op == BLKIF_OP_READ && rsp->status == BLKIF_RSP_OKAY && s->buf)
        for (unsigned i = 0; i * PVK_PAGE_SIZE < s->nbytes; i++) {
            uint32_t left = s->nbytes - i * PVK_PAGE_SIZE;

            __builtin_memcpy((uint8_t *)s->buf + i * PVK_PAGE_SIZE, s->pages[i],
                             left < PVK_PAGE_SIZE ? left : PVK_PAGE_SIZE);
        }
    s->busy = 0;
    q->free_ids[q->nr_free++] = (uint16_t)rsp->id;
    fn(arg, s->cookie, rsp->status);
}

int blkfront_poll(struct blkfront_dev *dev, unsigned qi, blkfront_done_fn fn,
                  void *arg)
{
    struct blkfront_queue *q = &dev->q[qi];
    int done = 0, more;

    if (qi >= dev->nr_queues || !q->sring)
        return 0;
    do {
        RING_IDX rp = __atomic_load_n(&q->ring.sring->rsp_prod, __ATOMIC_ACQUIRE);

        while (q->ring.rsp_cons != rp) {
            blkif_response_t rsp;

            __builtin_memcpy(&rsp, RING_GET_RESPONSE(&q->ring, q->ring.rsp_cons),
                             sizeof(rsp));
            q->ring.rsp_cons++;
            complete(dev, q, &rsp, fn, arg);
            done++;
        }
        RING_FINAL_CHECK_FOR_RESPONSES(&q->ring, more);
    } while (more);
    return done;
}

unsigned blkfront_inflight(const struct blkfront_dev *dev, unsigned qi)
{
    return qi < dev->nr_queues ? dev->q[qi].nr_slots - dev->q[qi].nr_free : 0;
}
