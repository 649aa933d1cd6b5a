/*
 * queue.c - the data path of one blkif ring, run by its own thread.
 *
 * The thread sleeps in io_uring: one oneshot poll on the event channel fd,
 * one on the stop eventfd, and the disk I/O of in-flight requests.  On a
 * notification it consumes requests: each is copied out of the shared ring
 * (the frontend may rewrite it at any time), decoded and validated by
 * blkreq.c, its segments mapped (persistent-grant cache first, then one
 * batch mapping for the rest), and submitted as one readv/writev (a write
 * to a regular file is done at once with pwritev: see write_now).  A flush
 * (or barrier) is held back, and the ring not consumed further, until every
 * earlier request of the ring has completed; then it runs as fsync(DATASYNC)
 * (a flush carrying data: its write done or linked first), so the response is
 * sent only once the data is on stable storage.  (IOSQE_IO_DRAIN cannot do
 * this: it would also wait for the never-ending event-channel poll.)
 * Discards punch holes (files) or BLKDISCARD (devices).
 * Invariants: at most RING_SIZE requests are in flight (one slot each), so
 * req_prod may never run more than RING_SIZE ahead of our responses; a
 * frontend that violates that gets its device dropped, not served; every
 * byte the disk reads or writes lies inside a granted page and inside the
 * disk, as checked by blkreq.c before submission.
 */
#define _GNU_SOURCE
#include "blkback.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define TAG_EVTCHN 1u
#define TAG_STOP   2u
#define TAG_FSYNC  1u      /* low bit of an inflight pointer: the fsync op */

/* Contract: returns an SQE, submitting queued ones first if the SQ is full. */
static struct io_uring_sqe *get_sqe(struct vbd_queue *q)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&q->uring);

    if (!sqe) {
        io_uring_submit(&q->uring);
        sqe = io_uring_get_sqe(&q->uring);
    }
    return sqe;
}

/* Contract: queues a oneshot POLLIN on fd whose completion carries `tag`. */
static void arm_poll(struct vbd_queue *q, int fd, uintptr_t tag)
{
    struct io_uring_sqe *sqe = get_sqe(q);

    io_uring_prep_poll_add(sqe, fd, POLLIN);
    io_uring_sqe_set_data(sqe, (void *)tag);
}

/* Contract: writes one response at rsp_prod_pvt; pushed by push_responses. */
static void respond(struct vbd_queue *q, uint64_t id, uint8_t op, int16_t st)
{
    blkif_response_t *rsp = RING_GET_RESPONSE(&q->ring, q->ring.rsp_prod_pvt);

    rsp->id = id;
    rsp->operation = op;
    rsp->status = st;
    q->ring.rsp_prod_pvt++;
}

/* Contract: publishes written responses and kicks the frontend if it asked. */
static void push_responses(struct vbd_queue *q)
{
    int notify;

    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->ring, notify);
    if (notify)
        pvk_evtchn_notify(q->ev);
}

/* Contract: answers and recycles a finished in-flight request. */
static void finish(struct vbd_queue *q, struct inflight *f)
{
    if (f->batch)
        pvk_grant_unmap(q->vbd->dev.be->t, f->batch, f->batch_count);
    f->batch = NULL;
    respond(q, f->id, f->op, f->status);
    f->next_free = q->free;
    q->free = f;
    q->busy--;
}

/*
 * Contract: returns a page of grant `gref` from the persistent cache,
 * mapping and caching it (writable) if there is room; NULL if the caller
 * must map it itself.
 */
static void *persistent_page(struct vbd_queue *q, grant_ref_t gref)
{
    struct vbd *v = q->vbd;
    void *page;

    if (!v->persistent)
        return NULL;
    page = pcache_get(&q->pc, gref);
    if (page || q->pc.used >= q->pc.max)
        return page;
    page = pvk_grant_map(v->dev.be->t, v->dev.fe_domid, 1, &gref, 1);
    if (page && pcache_put(&q->pc, gref, page) < 0) {
        pvk_grant_unmap(v->dev.be->t, page, 1);
        page = NULL;
    }
    return page;
}

/* Contract: maps every segment of `r` and fills f->iov; BLKIF_RSP_* code. */
static int map_segs(struct vbd_queue *q, const struct blkreq *r,
                    struct inflight *f)
{
    grant_ref_t miss_ref[PVK_BLK_MAX_INDIRECT_SEGS];
    uint16_t miss_idx[PVK_BLK_MAX_INDIRECT_SEGS];
    unsigned misses = 0;
    uint8_t *base;

    for (unsigned i = 0; i < r->nr_segs; i++) {
        uint8_t *page = persistent_page(q, r->seg[i].gref);

        f->iov[i].iov_len =
            (size_t)(r->seg[i].last_sect - r->seg[i].first_sect + 1) *
            PVK_SECTOR_SIZE;
        f->iov[i].iov_base = page ? page + r->seg[i].first_sect * PVK_SECTOR_SIZE
                                  : NULL;
        if (!page) {
            miss_ref[misses] = r->seg[i].gref;
            miss_idx[misses++] = (uint16_t)i;
        }
    }
    if (!misses)
        return BLKIF_RSP_OKAY;
    base = pvk_grant_map(q->vbd->dev.be->t, q->vbd->dev.fe_domid, misses, miss_ref,
                         !r->write);
    if (!base)
        return BLKIF_RSP_ERROR;
    f->batch = base;
    f->batch_count = misses;
    for (unsigned k = 0; k < misses; k++) {
        unsigned i = miss_idx[k];

        f->iov[i].iov_base = base + (size_t)k * PVK_PAGE_SIZE +
                             r->seg[i].first_sect * PVK_SECTOR_SIZE;
    }
    return BLKIF_RSP_OKAY;
}

/* Contract: loads the indirect segment pages of `r`; BLKIF_RSP_* code. */
static int load_indirect(struct vbd_queue *q, struct blkreq *r)
{
    static _Thread_local struct blkif_request_segment snap[PVK_SEGS_PER_INDIRECT_PAGE];
    struct vbd *v = q->vbd;

    for (unsigned i = 0; i < r->nr_indirect; i++) {
        void *page = persistent_page(q, r->indirect[i]);
        int mapped = 0;

        if (!page) {
            page = pvk_grant_map(v->dev.be->t, v->dev.fe_domid, 1, &r->indirect[i], 0);
            if (!page)
                return BLKIF_RSP_ERROR;
            mapped = 1;
        }
        memcpy(snap, page, sizeof(snap));
        if (mapped)
            pvk_grant_unmap(v->dev.be->t, page, 1);
        blkreq_load_indirect(r, i, snap);
    }
    return blkreq_finish(r, &v->lim);
}

/* Contract: queues the readv/writev of `r`, linked to a following op if asked. */
static void submit_rw(struct vbd_queue *q, const struct blkreq *r,
                      struct inflight *f, int link)
{
    struct io_uring_sqe *sqe = get_sqe(q);
    off_t off = (off_t)(r->sector * PVK_SECTOR_SIZE);

    if (r->write)
        io_uring_prep_writev(sqe, q->vbd->fd, f->iov, r->nr_segs, off);
    else
        io_uring_prep_readv(sqe, q->vbd->fd, f->iov, r->nr_segs, off);
    io_uring_sqe_set_data(sqe, f);
    if (link)
        sqe->flags |= IOSQE_IO_LINK;
    f->expect = r->nr_sectors * PVK_SECTOR_SIZE;
    f->pending++;
}

/*
 * Contract: writes the segments of `r` (mapped in f->iov) to the backing
 * file at once, in this thread; BLKIF_RSP_OKAY if every byte was written.
 * Why not io_uring: on tmpfs and ext4 Linux (dom0's 6.1, also 6.18) cannot
 * do a buffered write without blocking, so io_uring hands each one to a
 * worker thread, serialized per file: two thread hand-offs per
 * request for what is a page-cache copy.  The cost: while the page cache
 * throttles a writer this ring's reads wait too (the worker would have
 * blocked the same way, and the file's other writes behind it).
 */
static int write_now(struct vbd_queue *q, const struct blkreq *r,
                     const struct inflight *f)
{
    off_t off = (off_t)(r->sector * PVK_SECTOR_SIZE);
    ssize_t n = pwritev(q->vbd->fd, f->iov, (int)r->nr_segs, off);

    return n >= 0 && (uint64_t)n == (uint64_t)r->nr_sectors * PVK_SECTOR_SIZE
               ? BLKIF_RSP_OKAY
               : BLKIF_RSP_ERROR;
}

/* Contract: queues an fsync(DATASYNC) of the backing file for slot f. */
static void submit_fsync(struct vbd_queue *q, struct inflight *f)
{
    struct io_uring_sqe *sqe = get_sqe(q);

    io_uring_prep_fsync(sqe, q->vbd->fd, IORING_FSYNC_DATASYNC);
    io_uring_sqe_set_data(sqe, (void *)((uintptr_t)f | TAG_FSYNC));
    f->pending++;
}

/* Contract: discards synchronously; returns a BLKIF_RSP_* code. */
static int do_discard(struct vbd *v, const struct blkreq *r)
{
    uint64_t range[2] = { r->sector * PVK_SECTOR_SIZE,
                          r->nr_sectors * PVK_SECTOR_SIZE };

    if (v->is_blkdev)
        return ioctl(v->fd, BLKDISCARD, range) == 0 ? BLKIF_RSP_OKAY
                                                    : BLKIF_RSP_ERROR;
    return fallocate(v->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                     (off_t)range[0], (off_t)range[1]) == 0
               ? BLKIF_RSP_OKAY
               : BLKIF_RSP_ERROR;
}

/* Contract: starts a decoded request in slot f; returns a BLKIF_RSP_* code. */
static int start_request(struct vbd_queue *q, struct blkreq *r,
                         struct inflight *f)
{
    int st;

    if (r->kind == BLKREQ_DISCARD)
        return do_discard(q->vbd, r);
    if (r->nr_segs) {
        st = map_segs(q, r, f);
        if (st != BLKIF_RSP_OKAY)
            return st;
        if (r->write && !q->vbd->is_blkdev) {
            st = write_now(q, r, f);
            if (st != BLKIF_RSP_OKAY)
                return st;
        } else {
            submit_rw(q, r, f, r->flush);
        }
    }
    if (r->flush)
        submit_fsync(q, f);
    return BLKIF_RSP_OKAY;
}

/* Contract: handles one request copied from the ring; a free slot exists. */
static void dispatch(struct vbd_queue *q, const blkif_request_t *raw)
{
    struct blkreq *r = &q->req;
    struct inflight *f;
    int st = blkreq_decode(raw, &q->vbd->lim, r);

    if (st == BLKIF_RSP_OKAY && r->nr_indirect)
        st = load_indirect(q, r);
    if (st != BLKIF_RSP_OKAY) {
        respond(q, r->id, r->rsp_op, (int16_t)st);
        return;
    }
    f = q->free;
    q->free = f->next_free;
    q->busy++;
    f->id = r->id;
    f->op = r->rsp_op;
    f->status = BLKIF_RSP_OKAY;
    f->pending = 0;
    f->batch = NULL;
    if (r->flush && q->busy > 1) {
        q->deferred = *r;
        q->deferred_slot = f;
        return;
    }
    st = start_request(q, r, f);
    if (st != BLKIF_RSP_OKAY)
        f->status = (int16_t)st;
    if (f->pending == 0)
        finish(q, f);
}

/* Contract: consumes requests while slots are free; -1 if the ring is bad. */
static int process_ring(struct vbd_queue *q)
{
    for (;;) {
        RING_IDX rp = __atomic_load_n(&q->ring.sring->req_prod, __ATOMIC_ACQUIRE);
        int more;

        if (RING_REQUEST_PROD_OVERFLOW(&q->ring, rp)) {
            xbb_dev_fail(&q->vbd->dev, q->idx,
                         "request producer index out of range");
            return -1;
        }
        while (q->ring.req_cons != rp && q->free && !q->deferred_slot) {
            blkif_request_t raw;

            RING_COPY_REQUEST(&q->ring, q->ring.req_cons, &raw);
            q->ring.req_cons++;
            dispatch(q, &raw);
        }
        if (!q->free || q->deferred_slot)
            return 0;
        RING_FINAL_CHECK_FOR_REQUESTS(&q->ring, more);
        if (!more)
            return 0;
    }
}

/* Contract: starts the held-back flush once it is the only request left. */
static void run_deferred(struct vbd_queue *q)
{
    struct inflight *f = q->deferred_slot;
    int st;

    if (!f || q->busy != 1)
        return;
    q->deferred_slot = NULL;
    st = start_request(q, &q->deferred, f);
    if (st != BLKIF_RSP_OKAY)
        f->status = (int16_t)st;
    if (f->pending == 0)
        finish(q, f);
}

/* Contract: accounts one I/O completion of an in-flight request. */
static void io_done(struct vbd_queue *q, uintptr_t data, int res)
{
    struct inflight *f = (struct inflight *)(data & ~(uintptr_t)TAG_FSYNC);
    int is_fsync = (data & TAG_FSYNC) != 0;

    if (res < 0 || (!is_fsync && (uint64_t)res != f->expect))
        f->status = BLKIF_RSP_ERROR;
    if (--f->pending == 0)
        finish(q, f);
    run_deferred(q);
}

/* Contract: the queue thread; returns when stopped and all I/O is done. */
static void *queue_main(void *arg)
{
    struct vbd_queue *q = arg;
    int stopping = 0, dead = 0;

    arm_poll(q, pvk_evtchn_fd(q->ev), TAG_EVTCHN);
    arm_poll(q, q->th.stop_fd, TAG_STOP);
    dead = process_ring(q) < 0;
    push_responses(q);
    while (!stopping || q->busy) {
        struct io_uring_cqe *cqe;
        unsigned head, n = 0;
        int kick = 0;

        if (io_uring_submit_and_wait(&q->uring, 1) < 0 && errno != EINTR)
            break;
        io_uring_for_each_cqe(&q->uring, head, cqe) {
            uintptr_t data = (uintptr_t)io_uring_cqe_get_data(cqe);

            n++;
            if (data == TAG_STOP) {
                stopping = 1;
            } else if (data == TAG_EVTCHN) {
                pvk_evtchn_ack(q->ev);
                arm_poll(q, pvk_evtchn_fd(q->ev), TAG_EVTCHN);
                kick = 1;
            } else {
                io_done(q, data, cqe->res);
                kick = 1;
            }
        }
        io_uring_cq_advance(&q->uring, n);
        if (kick && !dead && !stopping)
            dead = process_ring(q) < 0;
        push_responses(q);
    }
    return NULL;
}

/* Contract: allocates the in-flight slots, one per ring entry. */
static int alloc_slots(struct vbd_queue *q)
{
    q->nr_slots = RING_SIZE(&q->ring);
    q->slots = calloc(q->nr_slots, sizeof(*q->slots));
    if (!q->slots)
        return -1;
    q->free = NULL;
    for (unsigned i = 0; i < q->nr_slots; i++) {
        q->slots[i].next_free = q->free;
        q->free = &q->slots[i];
    }
    q->busy = 0;
    return 0;
}

/* Contract: releases whatever queue_setup acquired (safe on partial setup). */
static void queue_release(void *arg)
{
    struct vbd_queue *q = arg;
    struct pvk_transport *t = q->vbd->dev.be->t;

    if (q->uring.ring_fd > 0)
        io_uring_queue_exit(&q->uring);
    memset(&q->uring, 0, sizeof(q->uring));
    pcache_release(&q->pc, t);
    free(q->slots);
    q->slots = NULL;
    pvk_evtchn_unbind(q->ev);
    q->ev = NULL;
    if (q->sring)
        pvk_grant_unmap(t, q->sring, q->nr_ring_pages);
    q->sring = NULL;
    xbb_thread_fini(&q->th);
}

/*
 * Contract: how many persistent grants queue q caches: every page its ring
 * can have in flight (each slot a request of the largest size offered plus
 * its indirect pages), within its share of the disk's --max-persistent
 * (split evenly between the disk's rings); 0 without feature-persistent.
 * A grant the cache cannot take is mapped for one request, which under a PV
 * dom0 costs far more than the request itself (bench-io: a blkfront using
 * 256 segments ran at a third of its speed with Linux's 1056 per ring).
 * The budget is per disk, not per ring, because the frontend picks the
 * number of rings and every cached grant is one mapping (one VMA) in this
 * process, which serves every domain.
 */
static unsigned persistent_cap(const struct vbd_queue *q)
{
    const struct vbd *v = q->vbd;
    unsigned segs = v->lim.max_indirect_segs, pages, share;

    if (!v->persistent || !v->nr_queues)
        return 0;
    pages = segs > BLKIF_MAX_SEGMENTS_PER_REQUEST
                ? segs + (segs + PVK_SEGS_PER_INDIRECT_PAGE - 1) / PVK_SEGS_PER_INDIRECT_PAGE
                : BLKIF_MAX_SEGMENTS_PER_REQUEST;
    pages *= q->nr_slots;
    share = vbd_blkback(v)->max_persistent / v->nr_queues;
    return pages < share ? pages : share;
}

/* Contract: maps the ring, binds the channel and sets up io_uring. */
static int queue_setup(struct vbd_queue *q)
{
    struct vbd *v = q->vbd;
    struct pvk_transport *t = v->dev.be->t;

    q->sring = pvk_grant_map(t, v->dev.fe_domid, q->nr_ring_pages, q->ring_refs, 1);
    if (!q->sring)
        return -1;
    BACK_RING_INIT(&q->ring, (blkif_sring_t *)q->sring,
                   (size_t)q->nr_ring_pages * PVK_PAGE_SIZE);
    q->ev = pvk_evtchn_bind(t, v->dev.fe_domid, q->port);
    if (!q->ev || xbb_thread_init(&q->th) < 0 || alloc_slots(q) < 0 ||
        pcache_init(&q->pc, persistent_cap(q)) < 0)
        return -1;
    if (io_uring_queue_init(2 * q->nr_slots + 8, &q->uring, 0) < 0) {
        memset(&q->uring, 0, sizeof(q->uring));
        return -1;
    }
    return 0;
}

/* Contract: see blkback.h; on failure nothing stays mapped or bound. */
int queue_start(struct vbd_queue *q)
{
    q->th.stop_fd = -1;
    memset(&q->uring, 0, sizeof(q->uring));
    return xbb_thread_run(&q->th, queue_setup(q) == 0, queue_main, queue_release, q);
}

/* Contract: stops the thread after in-flight I/O completes, then releases. */
void queue_stop(struct vbd_queue *q)
{
    xbb_thread_stop(&q->th);
}
