/*
 * netfront_xs.c - xenstore side of the portable network frontend
 * (docs/linux-pv-interface.md §3.4), following Linux's netfront: wait
 * for backend InitWait, require feature-rx-copy, choose the number of
 * queues, publish ring refs / event channels and request-rx-copy,
 * feature-rx-notify, feature-sg in one transaction that also moves the
 * frontend straight to Connected, then wait for the backend to connect.
 * Freestanding.
 */
#include "netfront.h"
#include "pvf_util.h"
#include "proto/keys.h"

/* Contract: parses "xx:xx:xx:xx:xx:xx"; 0 or -XEN_EINVAL. */
static int parse_mac(const char *s, uint8_t mac[6])
{
    for (unsigned i = 0; i < 6; i++) {
        unsigned v = 0;

        for (unsigned k = 0; k < 2; k++) {
            char c = *s++;

            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= (unsigned)(c - 'A' + 10);
            else
                return -XEN_EINVAL;
        }
        mac[i] = (uint8_t)v;
        if (*s++ != (i < 5 ? ':' : '\0'))
            return -XEN_EINVAL;
    }
    return 0;
}

int netfront_init(struct netfront_dev *dev, const struct pvf_os *os,
                  const char *node, const struct netfront_opts *opts)
{
    char path[160], mac[32];
    uint64_t v;
    int rc;

    __builtin_memset(dev, 0, sizeof(*dev));
    dev->os = os;
    dev->opts = *opts;
    rc = pvf_join(dev->node, sizeof(dev->node), node, 0);
    if (rc < 0)
        return rc;
    if (pvf_join(path, sizeof(path), node, PVK_KEY_BACKEND) < 0 ||
        os->store_read(os->ctx, 0, path, dev->backend, sizeof(dev->backend)) <= 0)
        return -XEN_ENOENT;
    if (pvf_get_u64(os, 0, node, PVK_KEY_BACKEND_ID, &v) < 0 ||
        v >= DOMID_FIRST_RESERVED)
        return -XEN_EINVAL;
    dev->backend_id = (domid_t)v;
    if (pvf_join(path, sizeof(path), node, PVK_VIF_MAC) < 0 ||
        os->store_read(os->ctx, 0, path, mac, sizeof(mac)) <= 0)
        return -XEN_ENOENT;
    return parse_mac(mac, dev->mac);
}

/* Contract: writes one queue's keys under dir. */
static int publish_queue(struct netfront_dev *dev, uint32_t tx, const char *dir,
                         const struct netfront_queue *q)
{
    const struct pvf_os *os = dev->os;
    int rc = pvf_write_u64(os, tx, dir, PVK_VIF_TX_RING_REF, q->tx_ref);

    if (rc == 0)
        rc = pvf_write_u64(os, tx, dir, PVK_VIF_RX_RING_REF, q->rx_ref);
    return rc < 0 ? rc : pvf_write_u64(os, tx, dir, PVK_KEY_EVENT_CHANNEL, q->port);
}

/* Contract: writes every frontend key and state Connected in tx. */
static int publish(struct netfront_dev *dev, uint32_t tx, int mq_key)
{
    const struct pvf_os *os = dev->os;
    int rc = 0;

    if (mq_key)
        rc = pvf_write_u64(os, tx, dev->node, PVK_KEY_MQ_NUM_QUEUES, dev->nr_queues);
    for (unsigned i = 0; rc == 0 && i < dev->nr_queues; i++) {
        char dir[160], name[16] = "queue-";

        if (dev->nr_queues == 1) {
            rc = publish_queue(dev, tx, dev->node, &dev->q[0]);
            break;
        }
        pvf_utoa(i, name + 6, sizeof(name) - 6);
        rc = pvf_join(dir, sizeof(dir), dev->node, name);
        if (rc == 0)
            rc = publish_queue(dev, tx, dir, &dev->q[i]);
    }
    if (rc == 0)
        rc = pvf_write_u64(os, tx, dev->node, PVK_VIF_REQ_RX_COPY, 1);
    if (rc == 0)
        rc = pvf_write_u64(os, tx, dev->node, PVK_VIF_FEAT_RX_NOTIFY, 1);
    if (rc == 0)
        rc = pvf_write_u64(os, tx, dev->node, PVK_VIF_FEAT_SG, 1);
    if (rc == 0)
        rc = pvf_write_u64(os, tx, dev->node, PVK_KEY_STATE, XenbusStateConnected);
    return rc;
}

/* Contract: runs publish in a transaction, retrying on conflicts. */
static int publish_tx(struct netfront_dev *dev, int mq_key)
{
    const struct pvf_os *os = dev->os;

    for (int tries = 0; tries < 100; tries++) {
        uint32_t tx;
        int rc = os->store_tx_start(os->ctx, &tx);

        if (rc < 0)
            return rc;
        rc = publish(dev, tx, mq_key);
        if (rc < 0) {
            os->store_tx_end(os->ctx, tx, 1);
            return rc;
        }
        rc = os->store_tx_end(os->ctx, tx, 0);
        if (rc != -XEN_EAGAIN)
            return rc;
    }
    return -XEN_EAGAIN;
}

int netfront_connect(struct netfront_dev *dev, unsigned ms)
{
    const struct pvf_os *os = dev->os;
    char bstate[160];
    uint64_t maxq;
    int rc, st, mq_key;

    rc = pvf_join(bstate, sizeof(bstate), dev->backend, PVK_KEY_STATE);
    if (rc < 0 || (rc = os->store_watch(os->ctx, bstate)) < 0)
        return rc;
    if (pvf_read_state(os, dev->node) != XenbusStateInitialising)
        pvf_switch_state(os, dev->node, XenbusStateInitialising);
    st = pvf_wait_state(os, dev->backend, XenbusStateInitWait,
                        XenbusStateInitWait, 0, ms);
    if (st != XenbusStateInitWait)
        return st < 0 ? st : -XEN_EIO;
    if (pvf_read_u64(os, 0, dev->backend, PVK_VIF_FEAT_RX_COPY, 0) != 1)
        return -XEN_ENODEV;
    mq_key = pvf_get_u64(os, 0, dev->backend, PVK_KEY_MQ_MAX_QUEUES, &maxq) == 0;
    dev->nr_queues = mq_key ? (unsigned)maxq : 1;
    if (dev->nr_queues > dev->opts.max_queues)
        dev->nr_queues = dev->opts.max_queues;
    if (dev->nr_queues > NETFRONT_MAX_QUEUES)
        dev->nr_queues = NETFRONT_MAX_QUEUES;
    if (dev->nr_queues == 0)
        dev->nr_queues = 1;
    rc = netfront_rings_alloc(dev);
    if (rc < 0 || (rc = publish_tx(dev, mq_key)) < 0)
        return rc;
    st = pvf_wait_state(os, dev->backend, XenbusStateConnected,
                        XenbusStateConnected, XenbusStateClosing, ms);
    return st == XenbusStateConnected ? 0 : st < 0 ? st : -XEN_EIO;
}

int netfront_disconnect(struct netfront_dev *dev, unsigned ms)
{
    const struct pvf_os *os = dev->os;
    char bstate[160];
    int st;

    pvf_switch_state(os, dev->node, XenbusStateClosing);
    st = pvf_wait_state(os, dev->backend, XenbusStateClosing, XenbusStateClosed,
                        0, ms);
    pvf_switch_state(os, dev->node, XenbusStateClosed);
    if (st >= 0)
        st = pvf_wait_state(os, dev->backend, XenbusStateClosed,
                            XenbusStateClosed, 0, ms);
    netfront_rings_free(dev);
    if (pvf_join(bstate, sizeof(bstate), dev->backend, PVK_KEY_STATE) == 0)
        os->store_unwatch(os->ctx, bstate);
    return st < 0 ? st : 0;
}
