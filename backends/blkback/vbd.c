/*
 * vbd.c - the vbd device class of the xenbus-backend core: one virtual
 * block device's backing file and the block keys of its handshake
 * (docs/linux-pv-interface.md §3.2-3.3).
 *
 * Lifecycle (driven by core/xbback.c): the toolstack creates
 * backend/vbd/<fe>/<id> with state 1 and `frontend`, `params`, `mode`,
 * `dev`; probe opens the backing and publishes the probe-time features
 * (the core then goes InitWait); connect, when the frontend reaches
 * Initialised, maps its rings, starts one queue thread per ring and
 * publishes sectors/info/sector sizes/features (the core then goes
 * Connected).  Closing, Closed, reconnect and dropping a vbd whose queue
 * found the ring corrupt are the core's.
 * Invariants: queues run only in state Connected; every value read from the
 * frontend's node is range-checked before use.
 */
#define _GNU_SOURCE
#include "blkback.h"
#include "common/log.h"
#include "common/xsutil.h"
#include "proto/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Contract: opens the backing named by `params` (read-only unless `mode`
 * has 'w' and the frontend's device-type is not cdrom); fills size and
 * limits. */
static int open_backing(struct vbd *v)
{
    struct xs_handle *xs = v->dev.be->xs;
    char *params = xsu_read(xs, XBT_NULL, v->dev.path, PVK_VBD_PARAMS);
    char *mode = xsu_read(xs, XBT_NULL, v->dev.path, PVK_VBD_MODE);
    char *type = xsu_read(xs, XBT_NULL, v->dev.fepath, PVK_VBD_DEVICE_TYPE);
    struct stat st;
    uint64_t bytes = 0;
    int rw;

    v->cdrom = type && strcmp(type, "cdrom") == 0;
    rw = mode && strchr(mode, 'w') && !v->cdrom;
    free(type);

    v->fd = params ? open(params, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC) : -1;
    if (v->fd < 0 || fstat(v->fd, &st) < 0) {
        pvk_err("%s: %s: %s", v->dev.path, params ? params : "(no params)",
                strerror(errno));
        free(params);
        free(mode);
        return -1;
    }
    v->is_blkdev = S_ISBLK(st.st_mode);
    if (v->is_blkdev)
        ioctl(v->fd, BLKGETSIZE64, &bytes);
    else
        bytes = (uint64_t)st.st_size;
    v->lim.sectors = bytes / PVK_SECTOR_SIZE;
    v->lim.readonly = !rw;
    v->lim.flush = 1;
    v->lim.discard = rw && xsu_read_u64(xs, XBT_NULL, v->dev.path,
                                        PVK_VBD_DISCARD_ENABLE, 1) != 0;
    v->lim.max_indirect_segs = vbd_blkback(v)->max_indirect;
    v->phys_sector = st.st_blksize >= 512 && st.st_blksize <= 4096 &&
                     v->is_blkdev ? (unsigned)st.st_blksize : 512;
    if (v->is_blkdev)
        xsu_printf(xs, XBT_NULL, v->dev.path, PVK_VBD_PHYSICAL_DEVICE, "%x:%x",
                   major(st.st_rdev), minor(st.st_rdev));
    free(params);
    free(mode);
    return 0;
}

/* Contract: opens the backing, publishes what blkback's probe publishes. */
static int vbd_probe(struct xbb_dev *d)
{
    struct vbd *v = xbb_container_of(d, struct vbd, dev);
    struct blkback *bb = vbd_blkback(v);
    struct xs_handle *xs = d->be->xs;

    if (open_backing(v) < 0)
        return -1;
    if (bb->max_indirect)
        xsu_printf(xs, XBT_NULL, v->dev.path, PVK_VBD_FEAT_INDIRECT, "%u",
                   bb->max_indirect);
    xsu_printf(xs, XBT_NULL, v->dev.path, PVK_KEY_MQ_MAX_QUEUES, "%u",
               d->be->max_queues);
    xsu_printf(xs, XBT_NULL, v->dev.path, PVK_VBD_MAX_RING_ORDER, "%u",
               bb->max_ring_order);
    xsu_printf(xs, XBT_NULL, v->dev.path, PVK_VBD_FEAT_PERSISTENT, "%u",
               bb->max_persistent ? 1u : 0u);
    return 0;
}

/* Contract: reads one queue's ring refs and port from `dir`; 0 or -1. */
static int read_queue(struct vbd *v, struct vbd_queue *q, const char *dir,
                      unsigned order)
{
    struct xs_handle *xs = v->dev.be->xs;

    q->nr_ring_pages = 1u << order;
    for (unsigned i = 0; i < q->nr_ring_pages; i++) {
        char key[32];

        if (order)
            snprintf(key, sizeof(key), "%s%u", PVK_KEY_RING_REF, i);
        else
            snprintf(key, sizeof(key), "%s", PVK_KEY_RING_REF);
        if (xsu_get_u32(xs, XBT_NULL, dir, key, &q->ring_refs[i]) < 0)
            return -1;
    }
    return xsu_get_u32(xs, XBT_NULL, dir, PVK_KEY_EVENT_CHANNEL, &q->port);
}

/* Contract: checks the frontend's protocol key (native x86_64 only). */
static int protocol_ok(struct vbd *v)
{
    char *p = xsu_read(v->dev.be->xs, XBT_NULL, v->dev.fepath, PVK_KEY_PROTOCOL);
    int ok = !p || strcmp(p, XEN_IO_PROTO_ABI_X86_64) == 0;

    free(p);
    return ok;
}

/* Contract: reads ring layout from the frontend and starts every queue. */
static int start_queues(struct vbd *v)
{
    struct blkback *bb = vbd_blkback(v);
    struct xs_handle *xs = v->dev.be->xs;
    unsigned nq = xbb_num_queues(&v->dev);
    uint64_t order = xsu_read_u64(xs, XBT_NULL, v->dev.fepath,
                                  PVK_VBD_RING_PAGE_ORDER, 0);

    if (nq == 0 || order > bb->max_ring_order || !protocol_ok(v))
        return -1;
    v->persistent = bb->max_persistent &&
        xsu_read_u64(xs, XBT_NULL, v->dev.fepath, PVK_VBD_FEAT_PERSISTENT, 0) == 1;
    v->queues = calloc(nq, sizeof(*v->queues));
    if (!v->queues)
        return -1;
    v->nr_queues = nq;
    for (unsigned i = 0; i < v->nr_queues; i++) {
        struct vbd_queue *q = &v->queues[i];
        char dir[192];

        q->vbd = v;
        q->idx = i;
        xbb_queue_dir(&v->dev, nq, i, dir, sizeof(dir));
        if (read_queue(v, q, dir, (unsigned)order) < 0 || queue_start(q) < 0)
            return -1;
    }
    return 0;
}

/* Contract: stops and frees every queue (idempotent). */
static void stop_queues(struct xbb_dev *d)
{
    struct vbd *v = xbb_container_of(d, struct vbd, dev);

    for (unsigned i = 0; i < v->nr_queues; i++)
        queue_stop(&v->queues[i]);
    free(v->queues);
    v->queues = NULL;
    v->nr_queues = 0;
}

/* Contract: publishes the connect-time keys in one transaction. */
static int publish_connect(struct vbd *v)
{
    struct xs_handle *xs = v->dev.be->xs;

    for (int tries = 0; tries < 100; tries++) {
        xs_transaction_t t = xs_transaction_start(xs);
        unsigned info = (v->lim.readonly ? VDISK_READONLY : 0) |
                        (v->cdrom ? VDISK_CDROM : 0);

        if (t == XBT_NULL)
            return -1;
        xsu_printf(xs, t, v->dev.path, PVK_VBD_SECTORS, "%llu",
                   (unsigned long long)v->lim.sectors);
        xsu_printf(xs, t, v->dev.path, PVK_VBD_INFO, "%u", info);
        xsu_printf(xs, t, v->dev.path, PVK_VBD_SECTOR_SIZE, "%u", PVK_SECTOR_SIZE);
        xsu_printf(xs, t, v->dev.path, PVK_VBD_PHYS_SECTOR_SIZE, "%u", v->phys_sector);
        xsu_printf(xs, t, v->dev.path, PVK_VBD_FEAT_FLUSH, "1");
        xsu_printf(xs, t, v->dev.path, PVK_VBD_FEAT_BARRIER, "1");
        xsu_printf(xs, t, v->dev.path, PVK_VBD_FEAT_PERSISTENT, "%u", v->persistent);
        xsu_printf(xs, t, v->dev.path, PVK_VBD_FEAT_DISCARD, "%u", v->lim.discard);
        if (v->lim.discard) {
            xsu_printf(xs, t, v->dev.path, PVK_VBD_DISCARD_GRAN, "%u", PVK_PAGE_SIZE);
            xsu_printf(xs, t, v->dev.path, PVK_VBD_DISCARD_ALIGN, "0");
            xsu_printf(xs, t, v->dev.path, PVK_VBD_DISCARD_SECURE, "0");
        }
        if (xs_transaction_end(xs, t, false))
            return 0;
        if (errno != EAGAIN)
            return -1;
    }
    return -1;
}

/* Contract: starts the data path and publishes the connect-time keys. */
static int vbd_connect(struct xbb_dev *d)
{
    struct vbd *v = xbb_container_of(d, struct vbd, dev);

    return start_queues(v) < 0 || publish_connect(v) < 0 ? -1 : 0;
}

/* Contract: a fresh vbd has no backing open. */
static void vbd_init(struct xbb_dev *d)
{
    xbb_container_of(d, struct vbd, dev)->fd = -1;
}

/* Contract: closes the backing. */
static void vbd_release(struct xbb_dev *d)
{
    struct vbd *v = xbb_container_of(d, struct vbd, dev);

    if (v->fd >= 0)
        close(v->fd);
}

const struct xbb_class vbd_class = {
    .type = "vbd",
    .noun = "device",
    .dev_size = sizeof(struct vbd),
    .init = vbd_init,
    .probe = vbd_probe,
    .connect = vbd_connect,
    .disconnect = stop_queues,
    .release = vbd_release,
    .probe_error = "cannot open backing store",
    .connect_error = "cannot connect to the frontend's rings",
    .drop_error = "frontend corrupted its ring; device dropped",
};
