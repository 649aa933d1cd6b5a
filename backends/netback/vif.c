/*
 * vif.c - the vif device class of the xenbus-backend core: the network
 * keys of one virtual interface's handshake (docs/linux-pv-interface.md
 * §3.4) and its tap device.
 *
 * Probe (toolstack created backend/vif/<fe>/<handle> with state 1 and
 * `frontend`, `handle`, `mac`, `script`): refuses a node without `script`
 * or a valid `mac` as Linux's netback does, publishes the features (the
 * core then goes InitWait).  Connect (frontend Connected, as netfront goes
 * straight there): requires request-rx-copy=1, reads feature-sg and the
 * per-queue ring refs and event channel, creates tap "vif<fe>.<handle>"
 * with one tap queue per ring pair, brings it up, adds it to the bridge
 * named by the backend's `bridge` key if there is one (what Xen's
 * vif-bridge script does), writes hotplug-status=connected (pvkit plumbs
 * the tap itself; `script` is required but not run); the core then goes
 * Connected.  On Closed,
 * hotplug-status is removed.
 * Invariants: queues run only while Connected; the tap exists only while
 * connected, so a frontend's packets never reach another vif.
 */
#define _GNU_SOURCE
#include "netback.h"
#include "common/log.h"
#include "common/xsutil.h"
#include "proto/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Contract: 1 if s is "xx:xx:xx:xx:xx:xx" in hex. */
static int mac_ok(const char *s)
{
    unsigned b[6];
    char tail;

    return s && sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
                       &b[3], &b[4], &b[5], &tail) == 6;
}

/* Contract: checks toolstack keys and publishes features; -1 if refused. */
static int vif_probe(struct xbb_dev *d)
{
    struct xs_handle *xs = d->be->xs;
    char *script = xsu_read(xs, XBT_NULL, d->path, PVK_VIF_SCRIPT);
    char *mac = xsu_read(xs, XBT_NULL, d->path, PVK_VIF_MAC);
    int ok = script && mac_ok(mac);

    free(script);
    free(mac);
    if (!ok)
        return -1;
    xsu_printf(xs, XBT_NULL, d->path, PVK_VIF_FEAT_SG, "1");
    xsu_printf(xs, XBT_NULL, d->path, PVK_VIF_FEAT_GSO_TCPV4, "1");
    xsu_printf(xs, XBT_NULL, d->path, PVK_VIF_FEAT_GSO_TCPV6, "1");
    xsu_printf(xs, XBT_NULL, d->path, PVK_VIF_FEAT_IPV6_CSUM, "1");
    xsu_printf(xs, XBT_NULL, d->path, PVK_VIF_FEAT_RX_COPY, "1");
    xsu_printf(xs, XBT_NULL, d->path, PVK_VIF_FEAT_RX_FLIP, "0");
    xsu_printf(xs, XBT_NULL, d->path, PVK_KEY_MQ_MAX_QUEUES, "%u", d->be->max_queues);
    return 0;
}

/* Contract: opens one queue of tap `name` (created on first open). */
static int tap_open(const char *name)
{
    struct ifreq ifr = { 0 };
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -1;
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Contract: sets the dom0-side MAC fe:ff:ff:ff:ff:ff, MTU, and brings it up. */
static int tap_up(const char *name, int mtu)
{
    struct ifreq ifr = { 0 };
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = -1;

    if (s < 0)
        return -1;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memset(ifr.ifr_hwaddr.sa_data, 0xff, 6);
    ifr.ifr_hwaddr.sa_data[0] = (char)0xfe;
    if (ioctl(s, SIOCSIFHWADDR, &ifr) == 0) {
        ifr.ifr_mtu = mtu;
        if (ioctl(s, SIOCSIFMTU, &ifr) == 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
            ifr.ifr_flags |= IFF_UP;
            rc = ioctl(s, SIOCSIFFLAGS, &ifr);
        }
    }
    close(s);
    return rc;
}

/* Contract: the offloads the tap may hand over (checksum left partial,
 * TCP segmentation), those the frontend accepts on its RX path. */
static unsigned tap_offloads(const struct vif *v)
{
    struct xs_handle *xs = v->dev.be->xs;
    const char *fe = v->dev.fepath;
    unsigned f = 0;

    if (xsu_read_u64(xs, XBT_NULL, fe, PVK_VIF_FEAT_NO_CSUM, 0) == 1)
        return 0;
    f |= TUN_F_CSUM;
    if (v->fe_sg && xsu_read_u64(xs, XBT_NULL, fe, PVK_VIF_FEAT_GSO_TCPV4, 0) == 1)
        f |= TUN_F_TSO4;
    if (v->fe_sg && xsu_read_u64(xs, XBT_NULL, fe, PVK_VIF_FEAT_GSO_TCPV6, 0) == 1)
        f |= TUN_F_TSO6;
    return f;
}

/* Contract: reads one queue's ring refs and port from dir. */
static int read_queue(struct vif *v, struct nqueue *q, const char *dir)
{
    struct xs_handle *xs = v->dev.be->xs;

    if (xsu_get_u32(xs, XBT_NULL, dir, PVK_VIF_TX_RING_REF, &q->tx_ref) < 0 ||
        xsu_get_u32(xs, XBT_NULL, dir, PVK_VIF_RX_RING_REF, &q->rx_ref) < 0)
        return -1;
    return xsu_get_u32(xs, XBT_NULL, dir, PVK_KEY_EVENT_CHANNEL, &q->port);
}

/* Contract: stops every queue, closes its tap fd (idempotent). */
static void vif_disconnect(struct xbb_dev *d)
{
    struct vif *v = xbb_container_of(d, struct vif, dev);

    for (unsigned i = 0; i < v->nr_queues; i++) {
        nqueue_stop(&v->queues[i]);
        if (v->queues[i].tap_fd >= 0)
            close(v->queues[i].tap_fd);
    }
    free(v->queues);
    v->queues = NULL;
    v->nr_queues = 0;
}

/* Contract: creates the tap and starts every queue; 0 or -1. */
static int start_queues(struct vif *v)
{
    struct xs_handle *xs = v->dev.be->xs;
    unsigned nq = xbb_num_queues(&v->dev);

    if (xsu_read_u64(xs, XBT_NULL, v->dev.fepath, PVK_VIF_REQ_RX_COPY, 0) != 1 ||
        nq == 0)
        return -1;
    v->fe_sg = xsu_read_u64(xs, XBT_NULL, v->dev.fepath, PVK_VIF_FEAT_SG, 0) == 1;
    v->queues = calloc(nq, sizeof(*v->queues));
    if (!v->queues)
        return -1;
    v->nr_queues = nq;
    for (unsigned i = 0; i < v->nr_queues; i++)
        v->queues[i].tap_fd = -1;
    for (unsigned i = 0; i < v->nr_queues; i++) {
        struct nqueue *q = &v->queues[i];
        char dir[192];

        q->vif = v;
        q->idx = i;
        xbb_queue_dir(&v->dev, nq, i, dir, sizeof(dir));
        q->tap_fd = tap_open(v->ifname);
        if (q->tap_fd < 0 || read_queue(v, q, dir) < 0)
            return -1;
        if (i == 0 && ioctl(q->tap_fd, TUNSETOFFLOAD, tap_offloads(v)) < 0)
            return -1;
        if (nqueue_start(q) < 0)
            return -1;
    }
    return tap_up(v->ifname, v->fe_sg ? 9000 : 1500);
}

/* Contract: adds tap `name` to the bridge named in the backend's `bridge`
 * key, as Xen's vif-bridge script does; 0 if there is none, -1 if the
 * bridge cannot take it (it does not exist, or is not a bridge). */
static int join_bridge(struct vif *v)
{
    char *bridge = xsu_read(v->dev.be->xs, XBT_NULL, v->dev.path, PVK_VIF_BRIDGE);
    struct ifreq ifr = { 0 };
    int s, rc = -1;

    if (!bridge || !*bridge) {
        free(bridge);
        return 0;
    }
    ifr.ifr_ifindex = (int)if_nametoindex(v->ifname);
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", bridge);
    s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s >= 0 && ifr.ifr_ifindex > 0)
        rc = ioctl(s, SIOCBRADDIF, &ifr);
    if (rc < 0)
        pvk_log_guest("%s: cannot add %s to bridge %s: %s", v->dev.path, v->ifname, bridge,
                      strerror(errno));
    if (s >= 0)
        close(s);
    free(bridge);
    return rc < 0 ? -1 : 0;
}

/* Contract: starts the data path, joins the bridge and says the tap is plumbed. */
static int vif_connect(struct xbb_dev *d)
{
    struct vif *v = xbb_container_of(d, struct vif, dev);

    if (start_queues(v) < 0 || join_bridge(v) < 0)
        return -1;
    xsu_printf(d->be->xs, XBT_NULL, d->path, PVK_VIF_HOTPLUG_STATUS, "%s",
               PVK_HOTPLUG_CONNECTED);
    return 0;
}

/* Contract: names the tap after the frontend domain and the handle. */
static void vif_init(struct xbb_dev *d)
{
    struct vif *v = xbb_container_of(d, struct vif, dev);

    snprintf(v->ifname, sizeof(v->ifname), "vif%u.%u", d->fe_domid, d->id);
}

/* Contract: deletes hotplug-status, as Linux's netback does on removal. */
static void vif_closed(struct xbb_dev *d)
{
    char path[192];

    snprintf(path, sizeof(path), "%s/%s", d->path, PVK_VIF_HOTPLUG_STATUS);
    xs_rm(d->be->xs, XBT_NULL, path);
}

/* Filled in like blkback's vbd_class: a table of this class's own hooks and messages, not shared logic. */
const struct xbb_class vif_class = {
    .type = "vif",
    .noun = "vif",
    .dev_size = sizeof(struct vif),
    .init = vif_init,
    .probe = vif_probe,
    .connect = vif_connect,
    .disconnect = vif_disconnect,
    .closed = vif_closed,
    .probe_error = "reading script or mac",
    .connect_error = "cannot connect the rings or create the tap device",
    .drop_error = "frontend corrupted its rings; vif dropped",
};
