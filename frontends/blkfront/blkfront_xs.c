/*
 * blkfront_xs.c - the xenstore side of the portable block frontend:
 * reads the toolstack's keys, negotiates queues / ring order / indirect
 * segments from the backend's features, publishes ring references and event
 * channels in one transaction, and walks the XenbusState machine
 * (docs/linux-pv-interface.md §3.2-3.3) exactly as Linux's blkfront does:
 * wait for backend InitWait, publish and go Initialised, wait for backend
 * Connected, read the disk geometry, go Connected.  Freestanding.
 */
#include "blkfront.h"
#include "pvf_util.h"
#include "proto/keys.h"

#define MIN(a, b) ((a) < (b) ? (a) : (b))

int blkfront_init(struct blkfront_dev *dev, const struct pvf_os *os,
                  const char *node, const struct blkfront_opts *opts)
{
    uint64_t v;
    int rc;

    __builtin_memset(dev, 0, sizeof(*dev));
    dev->opts = *opts;
    if ((rc = pvf_link_init(&dev->link, os, node)) < 0)
        return rc;
    rc = pvf_get_u64(os, 0, node, PVK_VBD_VIRTUAL_DEVICE, &v);
    if (rc < 0 || v > UINT32_MAX)
        return -XEN_EINVAL;
    dev->vdev = (uint32_t)v;
    return 0;
}

/* Contract: writes queue qi's ring refs and port under `dir` (a pvf_publish_queues step; arg: the device). */
static int publish_queue(void *arg, uint32_t tx, const char *dir, unsigned qi)
{
    struct blkfront_dev *dev = arg;
    const struct blkfront_queue *q = &dev->q[qi];
    const struct pvf_os *os = dev->link.os;
    int rc = 0;

    if (dev->ring_order == 0) {
        rc = pvf_write_u64(os, tx, dir, PVK_KEY_RING_REF, q->ring_ref[0]);
    } else {
        for (unsigned i = 0; rc == 0 && i < q->nr_ring_pages; i++) {
            char key[16] = PVK_KEY_RING_REF;

            pvf_utoa(i, key + sizeof(PVK_KEY_RING_REF) - 1,
                     sizeof(key) - (sizeof(PVK_KEY_RING_REF) - 1));
            rc = pvf_write_u64(os, tx, dir, key, q->ring_ref[i]);
        }
    }
    return rc < 0 ? rc : pvf_write_u64(os, tx, dir, PVK_KEY_EVENT_CHANNEL, q->port);
}

/* Contract: writes every frontend key of the connection in transaction tx. */
static int publish(struct blkfront_dev *dev, uint32_t tx)
{
    const struct pvf_os *os = dev->link.os;
    int rc = 0;

    if (dev->ring_order)
        rc = pvf_write_u64(os, tx, dev->link.node, PVK_VBD_RING_PAGE_ORDER, dev->ring_order);
    if (rc == 0)
        rc = pvf_publish_queues(&dev->link, tx, dev->nr_queues, dev->nr_queues > 1,
                                publish_queue, dev);
    if (rc == 0)
        rc = pvf_write_str(os, tx, dev->link.node, PVK_KEY_PROTOCOL, XEN_IO_PROTO_ABI_X86_64);
    if (rc == 0)
        rc = pvf_write_u64(os, tx, dev->link.node, PVK_VBD_FEAT_PERSISTENT, 1);
    if (rc == 0)
        rc = pvf_write_u64(os, tx, dev->link.node, PVK_KEY_STATE, XenbusStateInitialised);
    return rc;
}

/* Contract: publish as a pvf_transact body (arg: the device). */
static int publish_body(void *arg, uint32_t tx)
{
    return publish(arg, tx);
}

/* Contract: chooses queues and ring order from the backend's offer. */
static void negotiate(struct blkfront_dev *dev)
{
    const struct pvf_os *os = dev->link.os;

    dev->be_max_queues = (uint32_t)pvf_read_u64(os, 0, dev->link.backend,
                                                PVK_KEY_MQ_MAX_QUEUES, 1);
    dev->be_max_order = (uint32_t)pvf_read_u64(os, 0, dev->link.backend,
                                               PVK_VBD_MAX_RING_ORDER, 0);
    dev->nr_queues = MIN(MIN(dev->opts.max_queues, dev->be_max_queues),
                         BLKFRONT_MAX_QUEUES);
    if (dev->nr_queues == 0)
        dev->nr_queues = 1;
    dev->ring_order = MIN(MIN(dev->opts.ring_order, dev->be_max_order),
                          PVK_MAX_RING_ORDER);
}

/* Contract: reads geometry and features once the backend is Connected. */
static int read_backend(struct blkfront_dev *dev)
{
    const struct pvf_os *os = dev->link.os;
    uint64_t v;
    unsigned segs;

    if (pvf_get_u64(os, 0, dev->link.backend, PVK_VBD_SECTORS, &dev->sectors) < 0)
        return -XEN_EIO;
    dev->info = (uint32_t)pvf_read_u64(os, 0, dev->link.backend, PVK_VBD_INFO, 0);
    v = pvf_read_u64(os, 0, dev->link.backend, PVK_VBD_SECTOR_SIZE, 512);
    dev->sector_size = (uint32_t)v;
    dev->feat_flush = pvf_read_u64(os, 0, dev->link.backend, PVK_VBD_FEAT_FLUSH, 0) == 1;
    dev->feat_barrier = pvf_read_u64(os, 0, dev->link.backend, PVK_VBD_FEAT_BARRIER, 0) == 1;
    dev->feat_discard = pvf_read_u64(os, 0, dev->link.backend, PVK_VBD_FEAT_DISCARD, 0) == 1;
    dev->feat_persistent =
        pvf_read_u64(os, 0, dev->link.backend, PVK_VBD_FEAT_PERSISTENT, 0) == 1;
    dev->be_indirect = (uint32_t)pvf_read_u64(os, 0, dev->link.backend,
                                              PVK_VBD_FEAT_INDIRECT, 0);
    segs = dev->be_indirect > BLKIF_MAX_SEGMENTS_PER_REQUEST
               ? MIN(dev->be_indirect, PVK_SEGS_PER_INDIRECT_PAGE)
               : BLKIF_MAX_SEGMENTS_PER_REQUEST;
    dev->max_segs = MIN(MIN(segs, dev->opts.max_segs ? dev->opts.max_segs : segs),
                        BLKFRONT_MAX_SEGS);
    return 0;
}

int blkfront_connect(struct blkfront_dev *dev, unsigned ms)
{
    const struct pvf_os *os = dev->link.os;
    int rc, st;

    rc = pvf_open_handshake(os, dev->link.node, dev->link.backend, ms);
    if (rc < 0)
        return rc;
    negotiate(dev);
    rc = blkfront_rings_alloc(dev);
    if (rc < 0 || (rc = pvf_transact(os, publish_body, dev)) < 0)
        return rc;
    st = pvf_wait_state(os, dev->link.backend, XenbusStateConnected,
                        XenbusStateConnected, XenbusStateClosing, ms);
    if (st != XenbusStateConnected)
        return st < 0 ? st : -XEN_EIO;
    rc = read_backend(dev);
    if (rc < 0)
        return rc;
    return pvf_switch_state(os, dev->link.node, XenbusStateConnected);
}

int blkfront_disconnect(struct blkfront_dev *dev, unsigned ms)
{
    int st = pvf_close_handshake(dev->link.os, dev->link.node, dev->link.backend, ms);

    blkfront_rings_free(dev);
    pvf_unwatch_state(dev->link.os, dev->link.backend);
    return st < 0 ? st : 0;
}
