/*
 * vif.c - one virtual network interface of pvkit-netback: the xenbus
 * handshake (docs/linux-pv-interface.md §3.4) and its tap device.
 *
 * Probe (toolstack created backend/vif/<fe>/<handle> with state 1 and
 * `frontend`, `handle`, `mac`, `script`): refuses a node without `script`
 * or a valid `mac` as Linux's netback does, publishes the features, goes
 * InitWait.  Connect (frontend Connected, as netfront goes straight there):
 * requires request-rx-copy=1, reads feature-sg and the per-queue ring refs
 * and event channel, creates tap "vif<fe>.<handle>" with one tap queue per
 * ring pair, brings it up, writes hotplug-status=connected (pvkit plumbs
 * the tap itself; `script` is required but not run) and goes Connected.
 * Invariants: queues run only while Connected; the tap exists only while
 * connected, so a frontend's packets never reach another vif.
 */
#define _GNU_SOURCE
#include "netback.h"
#include "../common/log.h"
#include "../common/xsutil.h"
#include "proto/keys.h"
#include "proto/xbstate.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Contract: records the state both locally and in the store. */
static void set_state(struct vif *v, int state)
{
    if (xsu_switch_state(v->nb->xs, v->path, state) < 0)
        pvk_err("%s: cannot switch to %s", v->path, xbstate_name(state));
    v->state = state;
}

/* Contract: writes the error text where xenbus_dev_fatal would. */
static void report_error(struct vif *v, const char *msg)
{
    char dir[128];

    snprintf(dir, sizeof(dir), "/local/domain/%u/error/backend/vif/%u/%u",
             pvk_transport_self(v->nb->t), v->fe_domid, v->handle);
    xsu_printf(v->nb->xs, XBT_NULL, dir, "error", "%s", msg);
    pvk_log_guest("%s: %s", v->path, msg);
}

/* Contract: 1 if s is "xx:xx:xx:xx:xx:xx" in hex. */
static int mac_ok(const char *s)
{
    unsigned b[6];
    char tail;

    return s && sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
                       &b[3], &b[4], &b[5], &tail) == 6;
}

/* Contract: checks toolstack keys, publishes features, goes InitWait; -1 if refused. */
static int probe(struct vif *v)
{
    struct xs_handle *xs = v->nb->xs;
    char *script = xsu_read(xs, XBT_NULL, v->path, PVK_VIF_SCRIPT);
    char *mac = xsu_read(xs, XBT_NULL, v->path, PVK_VIF_MAC);
    int ok = script && mac_ok(mac);

    free(script);
    free(mac);
    if (!ok) {
        report_error(v, "reading script or mac");
        set_state(v, XenbusStateClosing);
        return -1;
    }
    xsu_printf(xs, XBT_NULL, v->path, PVK_VIF_FEAT_SG, "1");
    xsu_printf(xs, XBT_NULL, v->path, PVK_VIF_FEAT_GSO_TCPV4, "0");
    xsu_printf(xs, XBT_NULL, v->path, PVK_VIF_FEAT_GSO_TCPV6, "0");
    xsu_printf(xs, XBT_NULL, v->path, PVK_VIF_FEAT_IPV6_CSUM, "1");
    xsu_printf(xs, XBT_NULL, v->path, PVK_VIF_FEAT_RX_COPY, "1");
    xsu_printf(xs, XBT_NULL, v->path, PVK_VIF_FEAT_RX_FLIP, "0");
    xsu_printf(xs, XBT_NULL, v->path, PVK_KEY_MQ_MAX_QUEUES, "%u", v->nb->max_queues);
    v->probed = 1;
    set_state(v, XenbusStateInitWait);
    return 0;
}

/* Contract: opens one queue of tap `name` (created on first open). */
static int tap_open(const char *name)
{
    struct ifreq ifr = { 0 };
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -1;
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
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

/* Contract: reads one queue's ring refs and port from dir. */
static int read_queue(struct vif *v, struct nqueue *q, const char *dir)
{
    struct xs_handle *xs = v->nb->xs;
    uint64_t tx, rx, port;

    if (xsu_get_u64(xs, XBT_NULL, dir, PVK_VIF_TX_RING_REF, &tx) < 0 ||
        xsu_get_u64(xs, XBT_NULL, dir, PVK_VIF_RX_RING_REF, &rx) < 0 ||
        xsu_get_u64(xs, XBT_NULL, dir, PVK_KEY_EVENT_CHANNEL, &port) < 0 ||
        tx > UINT32_MAX || rx > UINT32_MAX || port > UINT32_MAX)
        return -1;
    q->tx_ref = (grant_ref_t)tx;
    q->rx_ref = (grant_ref_t)rx;
    q->port = (evtchn_port_t)port;
    return 0;
}

/* Contract: stops every queue, closes its tap fd (idempotent). */
static void stop_queues(struct vif *v)
{
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
    struct xs_handle *xs = v->nb->xs;
    uint64_t nq = xsu_read_u64(xs, XBT_NULL, v->fepath, PVK_KEY_MQ_NUM_QUEUES, 1);

    if (xsu_read_u64(xs, XBT_NULL, v->fepath, PVK_VIF_REQ_RX_COPY, 0) != 1 ||
        nq == 0 || nq > v->nb->max_queues)
        return -1;
    v->fe_sg = xsu_read_u64(xs, XBT_NULL, v->fepath, PVK_VIF_FEAT_SG, 0) == 1;
    v->queues = calloc(nq, sizeof(*v->queues));
    if (!v->queues)
        return -1;
    v->nr_queues = (unsigned)nq;
    for (unsigned i = 0; i < v->nr_queues; i++)
        v->queues[i].tap_fd = -1;
    for (unsigned i = 0; i < v->nr_queues; i++) {
        struct nqueue *q = &v->queues[i];
        char dir[192];

        q->vif = v;
        q->idx = i;
        if (nq == 1)
            snprintf(dir, sizeof(dir), "%s", v->fepath);
        else
            snprintf(dir, sizeof(dir), "%s/queue-%u", v->fepath, i);
        q->tap_fd = tap_open(v->ifname);
        if (q->tap_fd < 0 || read_queue(v, q, dir) < 0 || nqueue_start(q) < 0)
            return -1;
    }
    return tap_up(v->ifname, v->fe_sg ? 9000 : 1500);
}

/* Contract: connects the data path or reports why not and closes. */
static void vif_connect(struct vif *v)
{
    if (start_queues(v) < 0) {
        stop_queues(v);
        report_error(v, "cannot connect the rings or create the tap device");
        set_state(v, XenbusStateClosing);
        return;
    }
    xsu_printf(v->nb->xs, XBT_NULL, v->path, PVK_VIF_HOTPLUG_STATUS, "%s",
               PVK_HOTPLUG_CONNECTED);
    set_state(v, XenbusStateConnected);
}

struct vif *vif_create(struct netback *nb, domid_t fe, unsigned handle)
{
    struct vif *v = calloc(1, sizeof(*v));
    char *fepath, w[192];

    if (!v)
        return NULL;
    v->nb = nb;
    v->fe_domid = fe;
    v->handle = handle;
    snprintf(v->path, sizeof(v->path), "%s/%u/%u", nb->root, fe, handle);
    snprintf(v->ifname, sizeof(v->ifname), "vif%u.%u", fe, handle);
    fepath = xsu_read(nb->xs, XBT_NULL, v->path, PVK_KEY_FRONTEND);
    if (!fepath || fepath[0] != '/' || strlen(fepath) >= sizeof(v->fepath) - 32) {
        free(fepath);
        free(v);
        return NULL;
    }
    strcpy(v->fepath, fepath);
    free(fepath);
    snprintf(w, sizeof(w), "%s/state", v->fepath);
    v->watching = xs_watch(nb->xs, w, v->path);
    v->state = xsu_state(nb->xs, v->path);
    return v;
}

/* Contract: deletes hotplug-status, as Linux's netback does on removal. */
static void remove_hotplug_status(struct vif *v)
{
    char path[192];

    snprintf(path, sizeof(path), "%s/%s", v->path, PVK_VIF_HOTPLUG_STATUS);
    xs_rm(v->nb->xs, XBT_NULL, path);
}

void vif_update(struct vif *v)
{
    int fe;

    if (atomic_load(&v->failed) && v->nr_queues) {
        atomic_store(&v->failed, 0);
        stop_queues(v);
        report_error(v, "frontend corrupted its rings; vif dropped");
        set_state(v, XenbusStateClosing);
        return;
    }
    if (!v->probed && probe(v) < 0)
        return;
    fe = xsu_state(v->nb->xs, v->fepath);
    switch (xbstate_backend_action(v->state, fe < 0 ? XenbusStateUnknown : fe)) {
    case XBACT_CONNECT:
        vif_connect(v);
        break;
    case XBACT_CLOSING:
        stop_queues(v);
        set_state(v, XenbusStateClosing);
        break;
    case XBACT_CLOSED:
        stop_queues(v);
        remove_hotplug_status(v);
        set_state(v, XenbusStateClosed);
        break;
    case XBACT_RESET:
        set_state(v, XenbusStateInitWait);
        break;
    case XBACT_NONE:
        break;
    }
}

void vif_destroy(struct vif *v)
{
    char w[192];

    stop_queues(v);
    if (v->watching) {
        snprintf(w, sizeof(w), "%s/state", v->fepath);
        xs_unwatch(v->nb->xs, w, v->path);
    }
    free(v);
}
