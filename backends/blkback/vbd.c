/*
 * vbd.c - one virtual block device of pvkit-blkback: its backing file and
 * its side of the xenbus handshake (docs/linux-pv-interface.md §3.2-3.3).
 *
 * Lifecycle: the toolstack creates backend/vbd/<fe>/<id> with state 1 and
 * `frontend`, `params`, `mode`, `dev`; vbd_update then probes (opens the
 * backing, publishes the probe-time features, goes InitWait), connects when
 * the frontend reaches Initialised (maps its rings, starts one queue thread
 * per ring, publishes sectors/info/sector sizes/features, goes Connected),
 * follows the frontend to Closing and Closed, and returns to InitWait when
 * a frontend comes back at Initialising.  A vbd whose queue found the ring
 * corrupt is disconnected and set Closing with an error node.
 * Invariants: queues run only in state Connected; every value read from the
 * frontend's node is range-checked before use.
 */
#define _GNU_SOURCE
#include "blkback.h"
#include "../common/log.h"
#include "../common/xsutil.h"
#include "proto/keys.h"
#include "proto/xbstate.h"

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

/* Contract: records the state both locally and in the store. */
static void set_state(struct vbd *v, int state)
{
    if (xsu_switch_state(v->bb->xs, v->path, state) < 0)
        pvk_err("%s: cannot switch to %s", v->path, xbstate_name(state));
    v->state = state;
}

/* Contract: writes `msg` to error/<backend node>/error in our home. */
static void report_error(struct vbd *v, const char *msg)
{
    char dir[256];

    snprintf(dir, sizeof(dir), "/local/domain/%u/error/backend/vbd/%u/%u",
             pvk_transport_self(v->bb->t), v->fe_domid, v->devid);
    xsu_printf(v->bb->xs, XBT_NULL, dir, "error", "%s", msg);
    pvk_log_guest("%s: %s", v->path, msg);
}

/* Contract: opens the backing named by `params` (read-only unless `mode`
 * has 'w' and the frontend's device-type is not cdrom); fills size and
 * limits. */
static int open_backing(struct vbd *v)
{
    struct xs_handle *xs = v->bb->xs;
    char *params = xsu_read(xs, XBT_NULL, v->path, PVK_VBD_PARAMS);
    char *mode = xsu_read(xs, XBT_NULL, v->path, PVK_VBD_MODE);
    char *type = xsu_read(xs, XBT_NULL, v->fepath, PVK_VBD_DEVICE_TYPE);
    struct stat st;
    uint64_t bytes = 0;
    int rw;

    v->cdrom = type && strcmp(type, "cdrom") == 0;
    rw = mode && strchr(mode, 'w') && !v->cdrom;
    free(type);

    v->fd = params ? open(params, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC) : -1;
    if (v->fd < 0 || fstat(v->fd, &st) < 0) {
        pvk_err("%s: %s: %s", v->path, params ? params : "(no params)",
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
    v->lim.discard = rw && xsu_read_u64(xs, XBT_NULL, v->path,
                                        PVK_VBD_DISCARD_ENABLE, 1) != 0;
    v->lim.max_indirect_segs = v->bb->max_indirect;
    v->phys_sector = st.st_blksize >= 512 && st.st_blksize <= 4096 &&
                     v->is_blkdev ? (unsigned)st.st_blksize : 512;
    if (v->is_blkdev)
        xsu_printf(xs, XBT_NULL, v->path, PVK_VBD_PHYSICAL_DEVICE, "%x:%x",
                   major(st.st_rdev), minor(st.st_rdev));
    free(params);
    free(mode);
    return 0;
}

/* Contract: publishes what blkback's probe publishes, then goes InitWait. */
static int probe(struct vbd *v)
{
    struct blkback *bb = v->bb;
    struct xs_handle *xs = bb->xs;

    if (open_backing(v) < 0) {
        report_error(v, "cannot open backing store");
        set_state(v, XenbusStateClosing);
        return -1;
    }
    if (bb->max_indirect)
        xsu_printf(xs, XBT_NULL, v->path, PVK_VBD_FEAT_INDIRECT, "%u",
                   bb->max_indirect);
    xsu_printf(xs, XBT_NULL, v->path, PVK_KEY_MQ_MAX_QUEUES, "%u", bb->max_queues);
    xsu_printf(xs, XBT_NULL, v->path, PVK_VBD_MAX_RING_ORDER, "%u",
               bb->max_ring_order);
    xsu_printf(xs, XBT_NULL, v->path, PVK_VBD_FEAT_PERSISTENT, "%u",
               bb->max_persistent ? 1u : 0u);
    v->probed = 1;
    set_state(v, XenbusStateInitWait);
    return 0;
}

/* Contract: reads one queue's ring refs and port from `dir`; 0 or -1. */
static int read_queue(struct vbd *v, struct vbd_queue *q, const char *dir,
                      unsigned order)
{
    struct xs_handle *xs = v->bb->xs;
    uint64_t val;

    q->nr_ring_pages = 1u << order;
    for (unsigned i = 0; i < q->nr_ring_pages; i++) {
        char key[32];

        if (order)
            snprintf(key, sizeof(key), "%s%u", PVK_KEY_RING_REF, i);
        else
            snprintf(key, sizeof(key), "%s", PVK_KEY_RING_REF);
        if (xsu_get_u64(xs, XBT_NULL, dir, key, &val) < 0 || val > UINT32_MAX)
            return -1;
        q->ring_refs[i] = (grant_ref_t)val;
    }
    if (xsu_get_u64(xs, XBT_NULL, dir, PVK_KEY_EVENT_CHANNEL, &val) < 0 ||
        val > UINT32_MAX)
        return -1;
    q->port = (evtchn_port_t)val;
    return 0;
}

/* Contract: checks the frontend's protocol key (native x86_64 only). */
static int protocol_ok(struct vbd *v)
{
    char *p = xsu_read(v->bb->xs, XBT_NULL, v->fepath, PVK_KEY_PROTOCOL);
    int ok = !p || strcmp(p, XEN_IO_PROTO_ABI_X86_64) == 0;

    free(p);
    return ok;
}

/* Contract: reads ring layout from the frontend and starts every queue. */
static int start_queues(struct vbd *v)
{
    struct blkback *bb = v->bb;
    uint64_t nq = xsu_read_u64(bb->xs, XBT_NULL, v->fepath, PVK_KEY_MQ_NUM_QUEUES, 1);
    uint64_t order = xsu_read_u64(bb->xs, XBT_NULL, v->fepath,
                                  PVK_VBD_RING_PAGE_ORDER, 0);

    if (nq == 0 || nq > bb->max_queues || order > bb->max_ring_order ||
        !protocol_ok(v))
        return -1;
    v->persistent = bb->max_persistent &&
        xsu_read_u64(bb->xs, XBT_NULL, v->fepath, PVK_VBD_FEAT_PERSISTENT, 0) == 1;
    v->queues = calloc(nq, sizeof(*v->queues));
    if (!v->queues)
        return -1;
    v->nr_queues = (unsigned)nq;
    for (unsigned i = 0; i < v->nr_queues; i++) {
        struct vbd_queue *q = &v->queues[i];
        char dir[192];

        q->vbd = v;
        q->idx = i;
        if (nq == 1)
            snprintf(dir, sizeof(dir), "%s", v->fepath);
        else
            snprintf(dir, sizeof(dir), "%s/queue-%u", v->fepath, i);
        if (read_queue(v, q, dir, (unsigned)order) < 0 || queue_start(q) < 0)
            return -1;
    }
    return 0;
}

/* Contract: stops and frees every queue (idempotent). */
static void stop_queues(struct vbd *v)
{
    for (unsigned i = 0; i < v->nr_queues; i++)
        queue_stop(&v->queues[i]);
    free(v->queues);
    v->queues = NULL;
    v->nr_queues = 0;
}

/* Contract: publishes the connect-time keys in one transaction. */
static int publish_connect(struct vbd *v)
{
    struct xs_handle *xs = v->bb->xs;

    for (int tries = 0; tries < 100; tries++) {
        xs_transaction_t t = xs_transaction_start(xs);
        unsigned info = (v->lim.readonly ? VDISK_READONLY : 0) |
                        (v->cdrom ? VDISK_CDROM : 0);

        if (t == XBT_NULL)
            return -1;
        xsu_printf(xs, t, v->path, PVK_VBD_SECTORS, "%llu",
                   (unsigned long long)v->lim.sectors);
        xsu_printf(xs, t, v->path, PVK_VBD_INFO, "%u", info);
        xsu_printf(xs, t, v->path, PVK_VBD_SECTOR_SIZE, "%u", PVK_SECTOR_SIZE);
        xsu_printf(xs, t, v->path, PVK_VBD_PHYS_SECTOR_SIZE, "%u", v->phys_sector);
        xsu_printf(xs, t, v->path, PVK_VBD_FEAT_FLUSH, "1");
        xsu_printf(xs, t, v->path, PVK_VBD_FEAT_BARRIER, "1");
        xsu_printf(xs, t, v->path, PVK_VBD_FEAT_PERSISTENT, "%u", v->persistent);
        xsu_printf(xs, t, v->path, PVK_VBD_FEAT_DISCARD, "%u", v->lim.discard);
        if (v->lim.discard) {
            xsu_printf(xs, t, v->path, PVK_VBD_DISCARD_GRAN, "%u", PVK_PAGE_SIZE);
            xsu_printf(xs, t, v->path, PVK_VBD_DISCARD_ALIGN, "0");
            xsu_printf(xs, t, v->path, PVK_VBD_DISCARD_SECURE, "0");
        }
        if (xs_transaction_end(xs, t, false))
            return 0;
        if (errno != EAGAIN)
            return -1;
    }
    return -1;
}

/* Contract: connects the data path or reports why not and closes. */
static void vbd_connect(struct vbd *v)
{
    if (start_queues(v) < 0 || publish_connect(v) < 0) {
        stop_queues(v);
        report_error(v, "cannot connect to the frontend's rings");
        set_state(v, XenbusStateClosing);
        return;
    }
    set_state(v, XenbusStateConnected);
}

/* Contract: see blkback.h.  Reads `frontend`, watches its state. */
struct vbd *vbd_create(struct blkback *bb, domid_t fe, unsigned devid)
{
    struct vbd *v = calloc(1, sizeof(*v));
    char *fepath;

    if (!v)
        return NULL;
    v->bb = bb;
    v->fe_domid = fe;
    v->devid = devid;
    v->fd = -1;
    snprintf(v->path, sizeof(v->path), "%s/%u/%u", bb->root, fe, devid);
    fepath = xsu_read(bb->xs, XBT_NULL, v->path, PVK_KEY_FRONTEND);
    if (!fepath || fepath[0] != '/' || strlen(fepath) >= sizeof(v->fepath) - 32) {
        free(fepath);
        free(v);
        return NULL;
    }
    strcpy(v->fepath, fepath);
    free(fepath);
    {
        char w[192];

        snprintf(w, sizeof(w), "%s/state", v->fepath);
        v->watching = xs_watch(bb->xs, w, v->path);
    }
    v->state = xsu_state(bb->xs, v->path);
    return v;
}

/* Contract: drops a device whose ring was found corrupt. */
static void drop_failed(struct vbd *v)
{
    atomic_store(&v->failed, 0);
    stop_queues(v);
    report_error(v, "frontend corrupted its ring; device dropped");
    set_state(v, XenbusStateClosing);
}

/* Contract: see blkback.h. */
void vbd_update(struct vbd *v)
{
    int fe;

    if (atomic_load(&v->failed) && v->nr_queues) {
        drop_failed(v);
        return;
    }
    if (!v->probed) {
        if (probe(v) < 0)
            return;
    }
    fe = xsu_state(v->bb->xs, v->fepath);
    switch (xbstate_backend_action(v->state, fe < 0 ? XenbusStateUnknown : fe)) {
    case XBACT_CONNECT:
        vbd_connect(v);
        break;
    case XBACT_CLOSING:
        stop_queues(v);
        set_state(v, XenbusStateClosing);
        break;
    case XBACT_CLOSED:
        stop_queues(v);
        set_state(v, XenbusStateClosed);
        break;
    case XBACT_RESET:
        set_state(v, XenbusStateInitWait);
        break;
    case XBACT_NONE:
        break;
    }
}

/* Contract: stops the data path and frees the vbd (not the store nodes). */
void vbd_destroy(struct vbd *v)
{
    char w[192];

    stop_queues(v);
    if (v->watching) {
        snprintf(w, sizeof(w), "%s/state", v->fepath);
        xs_unwatch(v->bb->xs, w, v->path);
    }
    if (v->fd >= 0)
        close(v->fd);
    free(v);
}
