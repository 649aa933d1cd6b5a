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
    int rc;

    __builtin_memset(dev, 0, sizeof(*dev));
    dev->opts = *opts;
    if ((rc = pvf_link_init(&dev->link, os, node)) < 0)
        return rc;
    if (pvf_join(path, sizeof(path), node, PVK_VIF_MAC) < 0 ||
        os->store_read(os->ctx, 0, path, mac, sizeof(mac)) <= 0)
        return -XEN_ENOENT;
    return parse_mac(mac, dev->mac);
}

/* Contract: writes queue qi's keys under dir (a pvf_publish_queues step; arg: the device). */
static int publish_queue(void *arg, uint32_t tx, const char *dir, unsigned qi)
{
    struct netfront_dev *dev = arg;
    const struct netfront_queue *q = &dev->q[qi];
    const struct pvf_os *os = dev->link.os;
    int rc = pvf_write_u64(os, tx, dir, PVK_VIF_TX_RING_REF, q->tx_ref);

    if (rc == 0)
        rc = pvf_write_u64(os, tx, dir, PVK_VIF_RX_RING_REF, q->rx_ref);
    return rc < 0 ? rc : pvf_write_u64(os, tx, dir, PVK_KEY_EVENT_CHANNEL, q->port);
}

/* Contract: writes every frontend key and state Connected in tx. */
static int publish(struct netfront_dev *dev, uint32_t tx, int mq_key)
{
    const struct pvf_os *os = dev->link.os;
    int rc = pvf_publish_queues(&dev->link, tx, dev->nr_queues, mq_key, publish_queue, dev);

    if (rc == 0)
        rc = pvf_write_u64(os, tx, dev->link.node, PVK_VIF_REQ_RX_COPY, 1);
    if (rc == 0)
        rc = pvf_write_u64(os, tx, dev->link.node, PVK_VIF_FEAT_RX_NOTIFY, 1);
    if (rc == 0)
        rc = pvf_write_u64(os, tx, dev->link.node, PVK_VIF_FEAT_SG, 1);
    if (rc == 0)
        rc = pvf_write_u64(os, tx, dev->link.node, PVK_KEY_STATE, XenbusStateConnected);
    return rc;
}

struct publish_arg {
    struct netfront_dev *dev;
    int mq_key;
};

/* Contract: publish as a pvf_transact body (arg: a struct publish_arg). */
static int publish_body(void *arg, uint32_t tx)
{
    const struct publish_arg *a = arg;

    return publish(a->dev, tx, a->mq_key);
}

int netfront_connect(struct netfront_dev *dev, unsigned ms)
{
    const struct pvf_os *os = dev->link.os;
    struct publish_arg pa = { dev, 0 };
    uint64_t maxq;
    int rc, st;

    rc = pvf_open_handshake(os, dev->link.node, dev->link.backend, ms);
    if (rc < 0)
        return rc;
    if (pvf_read_u64(os, 0, dev->link.backend, PVK_VIF_FEAT_RX_COPY, 0) != 1)
        return -XEN_ENODEV;
    pa.mq_key = pvf_get_u64(os, 0, dev->link.backend, PVK_KEY_MQ_MAX_QUEUES, &maxq) == 0;
    dev->nr_queues = pa.mq_key ? (unsigned)maxq : 1;
    if (dev->nr_queues > dev->opts.max_queues)
        dev->nr_queues = dev->opts.max_queues;
    if (dev->nr_queues > NETFRONT_MAX_QUEUES)
        dev->nr_queues = NETFRONT_MAX_QUEUES;
    if (dev->nr_queues == 0)
        dev->nr_queues = 1;
    rc = netfront_rings_alloc(dev);
    if (rc < 0 || (rc = pvf_transact(os, publish_body, &pa)) < 0)
        return rc;
    st = pvf_wait_state(os, dev->link.backend, XenbusStateConnected,
                        XenbusStateConnected, XenbusStateClosing, ms);
    return st == XenbusStateConnected ? 0 : st < 0 ? st : -XEN_EIO;
}

int netfront_disconnect(struct netfront_dev *dev, unsigned ms)
{
    int st = pvf_close_handshake(dev->link.os, dev->link.node, dev->link.backend, ms);

    netfront_rings_free(dev);
    pvf_unwatch_state(dev->link.os, dev->link.backend);
    return st < 0 ? st : 0;
}
