/*
 * netfront.c - data path of the portable network frontend; see
 * netfront.h.  Freestanding.
 */
#include "netfront.h"

/* Contract: allocates one page and grants it; 0 or -errno. */
static int grant_page(struct netfront_dev *dev, int ro, void **va,
                      grant_ref_t *ref)
{
    const struct pvf_os *os = dev->link.os;
    uint64_t frame;
    int rc;

    *va = os->pages_alloc(os->ctx, 1, &frame);
    if (!*va)
        return -XEN_ENOMEM;
    rc = os->grant(os->ctx, dev->link.backend_id, frame, ro, ref);
    if (rc < 0) {
        os->pages_free(os->ctx, *va, 1);
        *va = 0;
    }
    return rc;
}

/* Contract: revokes and frees a page from grant_page (NULL allowed). */
static void ungrant_page(struct netfront_dev *dev, void **va, grant_ref_t ref)
{
    if (!*va)
        return;
    dev->link.os->ungrant(dev->link.os->ctx, ref);
    dev->link.os->pages_free(dev->link.os->ctx, *va, 1);
    *va = 0;
}

/* Contract: posts RX buffer `id` at the producer and advances it. */
static void post_rx(struct netfront_queue *q, uint16_t id)
{
    netif_rx_request_t *r = RING_GET_REQUEST(&q->rx, q->rx.req_prod_pvt);

    r->id = id;
    r->gref = q->rx_gref[id];
    q->rx.req_prod_pvt++;
}

/* Contract: sets up queue qi's rings, buffers and event channel. */
static int queue_alloc(void *devp, unsigned qi)
{
    struct netfront_dev *dev = devp;
    struct netfront_queue *q = &dev->q[qi];
    int rc = grant_page(dev, 0, &q->tx_sring, &q->tx_ref);

    if (rc == 0)
        rc = grant_page(dev, 0, &q->rx_sring, &q->rx_ref);
    if (rc < 0)
        return rc;
    SHARED_RING_INIT((netif_tx_sring_t *)q->tx_sring);
    SHARED_RING_INIT((netif_rx_sring_t *)q->rx_sring);
    FRONT_RING_INIT(&q->tx, (netif_tx_sring_t *)q->tx_sring, PVK_PAGE_SIZE);
    FRONT_RING_INIT(&q->rx, (netif_rx_sring_t *)q->rx_sring, PVK_PAGE_SIZE);
    for (unsigned i = 0; i < NETFRONT_RING_SIZE; i++) {
        rc = grant_page(dev, 1, &q->tx_page[i], &q->tx_gref[i]);
        if (rc == 0)
            rc = grant_page(dev, 0, &q->rx_page[i], &q->rx_gref[i]);
        if (rc < 0)
            return rc;
        q->tx_free[i] = (uint16_t)i;
        post_rx(q, (uint16_t)i);
    }
    q->tx_nfree = NETFRONT_RING_SIZE;
    q->rx.sring->req_prod = q->rx.req_prod_pvt;
    return dev->link.os->evtchn_alloc(dev->link.os->ctx, dev->link.backend_id, &q->port);
}

/* Contract: releases what queue_alloc set up for queue qi (safe on partial setup). */
static void queue_free(void *devp, unsigned qi)
{
    struct netfront_dev *dev = devp;
    struct netfront_queue *q = &dev->q[qi];

    for (unsigned i = 0; i < NETFRONT_RING_SIZE; i++) {
        ungrant_page(dev, &q->tx_page[i], q->tx_gref[i]);
        ungrant_page(dev, &q->rx_page[i], q->rx_gref[i]);
    }
    ungrant_page(dev, &q->tx_sring, q->tx_ref);
    ungrant_page(dev, &q->rx_sring, q->rx_ref);
    if (q->port)
        dev->link.os->evtchn_close(dev->link.os->ctx, q->port);
    q->port = 0;
}

int netfront_rings_alloc(struct netfront_dev *dev)
{
    return pvf_queues_alloc(dev, dev->nr_queues, NETFRONT_MAX_QUEUES, queue_alloc, queue_free);
}

void netfront_rings_free(struct netfront_dev *dev)
{
    pvf_queues_free(dev, NETFRONT_MAX_QUEUES, queue_free);
}

int netfront_send(struct netfront_dev *dev, unsigned qi, const void *frame,
                  unsigned len, int csum_blank)
{
    struct netfront_queue *q = &dev->q[qi];
    unsigned slots = (len + PVK_PAGE_SIZE - 1) / PVK_PAGE_SIZE;
    int notify;

    if (qi >= dev->nr_queues || len < 14 || len > XEN_NETIF_MAX_TX_SIZE)
        return -XEN_EINVAL;
    if (slots > q->tx_nfree ||
        q->tx.req_prod_pvt - q->tx.rsp_cons + slots > RING_SIZE(&q->tx))
        return -XEN_EBUSY;
    for (unsigned i = 0; i < slots; i++) {
        uint16_t id = q->tx_free[--q->tx_nfree];
        netif_tx_request_t *r = RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt);
        unsigned left = len - i * PVK_PAGE_SIZE;
        unsigned chunk = left < PVK_PAGE_SIZE ? left : PVK_PAGE_SIZE;

        __builtin_memcpy(q->tx_page[id], (const uint8_t *)frame + i * PVK_PAGE_SIZE,
                         chunk);
        r->gref = q->tx_gref[id];
        r->offset = 0;
        r->id = id;
        r->size = (uint16_t)(i == 0 ? len : chunk);
        r->flags = (uint16_t)((i + 1 < slots ? NETTXF_more_data : 0) |
                              (i == 0 && csum_blank ? NETTXF_csum_blank : 0));
        q->tx.req_prod_pvt++;
    }
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, notify);
    if (notify)
        dev->link.os->evtchn_notify(dev->link.os->ctx, q->port);
    return 0;
}

int netfront_tx_poll(struct netfront_dev *dev, unsigned qi)
{
    struct netfront_queue *q = &dev->q[qi];
    int done = 0, more;

    if (qi >= dev->nr_queues)
        return 0;
    do {
        RING_IDX rp = __atomic_load_n(&q->tx.sring->rsp_prod, __ATOMIC_ACQUIRE);

        while (q->tx.rsp_cons != rp) {
            netif_tx_response_t r;

            __builtin_memcpy(&r, RING_GET_RESPONSE(&q->tx, q->tx.rsp_cons),
                             sizeof(r));
            q->tx.rsp_cons++;
            if (r.status == NETIF_RSP_NULL)
                continue;
            if (r.id >= NETFRONT_RING_SIZE || q->tx_nfree >= NETFRONT_RING_SIZE) {
                dev->bad_responses++;
                continue;
            }
            if (r.status != NETIF_RSP_OKAY)
                q->tx_errors++;
            q->tx_free[q->tx_nfree++] = r.id;
            done++;
        }
        RING_FINAL_CHECK_FOR_RESPONSES(&q->tx, more);
    } while (more);
    return done;
}

/* Contract: number of responses forming the packet at rsp_cons, 0 if the
 * packet is not complete yet. */
static unsigned rx_chain(struct netfront_queue *q, RING_IDX rp)
{
    unsigned n = 0;

    for (RING_IDX i = q->rx.rsp_cons; i != rp; i++) {
        netif_rx_response_t *r = RING_GET_RESPONSE(&q->rx, i);

        n++;
        if (!(__atomic_load_n(&r->flags, __ATOMIC_RELAXED) & NETRXF_more_data))
            return n;
    }
    return 0;
}

int netfront_recv(struct netfront_dev *dev, unsigned qi, void *buf, unsigned len)
{
    struct netfront_queue *q = &dev->q[qi];
    RING_IDX rp;
    unsigned n, got = 0;
    int bad = 0, notify;

    if (qi >= dev->nr_queues)
        return 0;
    rp = __atomic_load_n(&q->rx.sring->rsp_prod, __ATOMIC_ACQUIRE);
    n = rx_chain(q, rp);
    if (n == 0) {
        int more;

        RING_FINAL_CHECK_FOR_RESPONSES(&q->rx, more);
        (void)more;
        return 0;
    }
    for (unsigned i = 0; i < n; i++) {
        netif_rx_response_t r;

        __builtin_memcpy(&r, RING_GET_RESPONSE(&q->rx, q->rx.rsp_cons), sizeof(r));
        q->rx.rsp_cons++;
        if (r.id >= NETFRONT_RING_SIZE) {
            dev->bad_responses++;
            bad = 1;
            continue;
        }
        if (r.status < 0 || (unsigned)r.offset + (unsigned)r.status > PVK_PAGE_SIZE ||
            got + (unsigned)r.status > len)
            bad = 1;
        else
            __builtin_memcpy((uint8_t *)buf + got,
                             (uint8_t *)q->rx_page[r.id] + r.offset,
                             (unsigned)r.status);
        got += r.status > 0 ? (unsigned)r.status : 0;
        post_rx(q, r.id);
    }
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, notify);
    if (notify)
        dev->link.os->evtchn_notify(dev->link.os->ctx, q->port);
    return bad ? -XEN_EIO : (int)got;
}
