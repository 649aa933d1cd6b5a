/*
 * nqueue.c - the data path of one netif queue (a TX ring, an RX ring, one
 * event channel, one tap queue), run by its own thread.
 *
 * TX (guest -> tap): requests are copied out of the shared ring; the slots
 * of one packet (first slot carries the total length, NETTXF_more_data
 * chains the rest, NETTXF_extra_info inserts netif_extra_info slots) are
 * checked by netpkt_check_tx, gathered with grant copies into a local
 * buffer, their checksum completed if NETTXF_csum_blank, and written to the
 * tap.  Every data slot gets a response (OKAY or ERROR), every extra slot
 * NETIF_RSP_NULL.  A packet cut short by req_prod, or more than
 * PVK_NET_MAX_SLOTS long, or a producer index out of range, is a protocol
 * violation: the vif is dropped.
 * The tap carries a virtio-net header before every packet: on TX a GSO
 * extra (a TCP packet of up to 64 KiB with its MSS) becomes a GSO header
 * with NEEDS_CSUM and the kernel segments it; a small packet's checksum is
 * completed here.
 * RX (tap -> guest): one packet is read from the tap and held until the
 * guest has posted enough RX requests (one per 4 KiB; multi-slot only if
 * the frontend offered feature-sg; one more for a GSO packet's extra-info
 * slot; while it waits, req_event asks the frontend to notify as soon as
 * that many are posted, not merely one), then grant-copied into the posted
 * pages at offset 0, with
 * NETRXF_more_data on all but the last slot and the header's checksum
 * state as NETRXF_csum_blank/data_validated.  The tap offers the kernel
 * only the offloads the frontend accepts (vif.c), so a GSO packet only
 * reaches a frontend that asked for GSO.
 */
#define _GNU_SOURCE
#include "netback.h"
#include "common/log.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Contract: writes one TX response at rsp_prod_pvt. */
static void tx_respond(struct nqueue *q, uint16_t id, int16_t st)
{
    netif_tx_response_t *r = RING_GET_RESPONSE(&q->tx, q->tx.rsp_prod_pvt);

    r->id = id;
    r->status = st;
    q->tx.rsp_prod_pvt++;
}

/* Contract: copies the data of checked slots into q->pkt; 0 or -1. */
static int tx_gather(struct nqueue *q, const netif_tx_request_t *s, unsigned n,
                     int first_len)
{
    struct pvk_copy_seg seg[PVK_NET_MAX_SLOTS];
    unsigned off = 0;

    for (unsigned i = 0; i < n; i++) {
        uint16_t len = i == 0 ? (uint16_t)first_len : s[i].size;

        seg[i] = (struct pvk_copy_seg){ .to_foreign = 0,
            .domid = q->vif->dev.fe_domid, .ref = s[i].gref,
            .offset = s[i].offset, .len = len, .local = q->pkt + off };
        off += len;
    }
    if (pvk_grant_copy(q->vif->dev.be->t, n, seg) < 0)
        return -1;
    for (unsigned i = 0; i < n; i++)
        if (seg[i].status != GNTST_okay)
            return -1;
    return 0;
}

/* A GSO extra-info slot of a TX packet. */
struct tx_gso {
    int present;
    uint8_t type;               /* XEN_NETIF_GSO_TYPE_* */
    uint16_t size;              /* MSS */
};

/*
 * Contract: the virtio-net header of a large (GSO) packet: the tap's
 * kernel segments it and completes each segment's checksum, so it must
 * carry NEEDS_CSUM with the pseudo-header sum in place; 0, or -1 if the
 * packet is not the TCP segment its type claims or the size is absurd.
 */
static int tx_gso_header(uint8_t *pkt, unsigned len, const struct tx_gso *g,
                         struct virtio_net_hdr *h)
{
    struct netpkt_l4 l4;
    int v4 = g->type == XEN_NETIF_GSO_TYPE_TCPV4, v6 = g->type == XEN_NETIF_GSO_TYPE_TCPV6;

    if ((!v4 && !v6) || g->size == 0 || netpkt_partial_csum(pkt, len, &l4) < 0 ||
        l4.proto != 6 || (v4 && pkt[12] != 0x08) || (v6 && pkt[12] != 0x86))
        return -1;
    *h = (struct virtio_net_hdr){
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6,
        .hdr_len = (uint16_t)(l4.off + l4.hdr_len), .gso_size = g->size,
        .csum_start = (uint16_t)l4.off, .csum_offset = (uint16_t)l4.csum_off };
    return 0;
}

/*
 * Contract: sends one gathered, checked packet to the tap behind its
 * virtio-net header; 0, or -1 if it is malformed.  A small packet's
 * checksum is completed here (so whatever reads the tap sees a finished
 * frame); a GSO one is left to the kernel, which segments it.
 */
static int tx_deliver(struct nqueue *q, const netif_tx_request_t *first,
                      const struct tx_gso *gso)
{
    unsigned len = first->size;
    struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };

    if (gso->present) {
        if (tx_gso_header(q->pkt, len, gso, &h) < 0)
            return -1;
    } else if ((first->flags & NETTXF_csum_blank) && netpkt_fill_csum(q->pkt, len) < 0) {
        return -1;
    } else if (first->flags & (NETTXF_csum_blank | NETTXF_data_validated)) {
        h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    }
    struct iovec iov[2] = { { &h, sizeof(h) }, { q->pkt, len } };
    if (writev(q->tap_fd, iov, 2) < 0) {
        pvk_dbg("%s: tap write of %u bytes: %s", q->vif->ifname, len,
                strerror(errno));
        q->tx_errors++;
    }
    else
        q->tx_packets++;
    return 0;
}

/*
 * Contract: consumes one packet starting at req_cons (at least one request
 * is available before rp); returns -1 on a protocol violation.
 */
static int tx_packet(struct nqueue *q, RING_IDX rp)
{
    netif_tx_request_t s[PVK_NET_MAX_SLOTS], cur;
    struct tx_gso gso = { 0 };
    unsigned n = 0, nextra = 0;
    int more, extra, first_len, st;

    RING_COPY_REQUEST(&q->tx, q->tx.req_cons++, &cur);
    s[n++] = cur;
    extra = cur.flags & NETTXF_extra_info;
    more = cur.flags & NETTXF_more_data;
    while (extra) {
        netif_extra_info_t x;

        if (q->tx.req_cons == rp || nextra == PVK_NET_MAX_SLOTS)
            return -1;
        RING_COPY_REQUEST(&q->tx, q->tx.req_cons++, &x);
        nextra++;
        extra = x.flags & XEN_NETIF_EXTRA_FLAG_MORE;
        if (x.type == XEN_NETIF_EXTRA_TYPE_GSO)
            gso = (struct tx_gso){ .present = 1, .type = x.u.gso.type, .size = x.u.gso.size };
    }
    while (more) {
        if (q->tx.req_cons == rp || n == PVK_NET_MAX_SLOTS)
            return -1;
        RING_COPY_REQUEST(&q->tx, q->tx.req_cons++, &cur);
        s[n++] = cur;
        more = cur.flags & NETTXF_more_data;
    }
    first_len = netpkt_check_tx(s, n);
    st = first_len >= 0 && tx_gather(q, s, n, first_len) == 0 &&
         tx_deliver(q, &s[0], &gso) == 0 ? NETIF_RSP_OKAY : NETIF_RSP_ERROR;
    tx_respond(q, s[0].id, (int16_t)st);
    for (unsigned i = 0; i < nextra; i++)
        tx_respond(q, 0, NETIF_RSP_NULL);
    for (unsigned i = 1; i < n; i++)
        tx_respond(q, s[i].id, (int16_t)st);
    return 0;
}

/* Contract: processes every queued TX packet; -1 if the ring is bad. */
static int tx_process(struct nqueue *q)
{
    int more, notify;

    do {
        RING_IDX rp = __atomic_load_n(&q->tx.sring->req_prod, __ATOMIC_ACQUIRE);

        if (RING_REQUEST_PROD_OVERFLOW(&q->tx, rp))
            return -1;
        while (q->tx.req_cons != rp)
            if (tx_packet(q, rp) < 0)
                return -1;
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->tx, notify);
        if (notify)
            pvk_evtchn_notify(q->ev);
        RING_FINAL_CHECK_FOR_REQUESTS(&q->tx, more);
    } while (more);
    return 0;
}

/* Contract: the GSO type the frontend is told of for virtio-net's, or -1. */
static int rx_gso_type(const struct virtio_net_hdr *h)
{
    switch (h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN) {
    case VIRTIO_NET_HDR_GSO_NONE: return XEN_NETIF_GSO_TYPE_NONE;
    case VIRTIO_NET_HDR_GSO_TCPV4: return XEN_NETIF_GSO_TYPE_TCPV4;
    case VIRTIO_NET_HDR_GSO_TCPV6: return XEN_NETIF_GSO_TYPE_TCPV6;
    default: return -1;
    }
}

/* Contract: the flags of a packet's first RX response. */
static uint16_t rx_flags(const struct virtio_net_hdr *h, int gso)
{
    uint16_t f = 0;

    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        f |= NETRXF_csum_blank | NETRXF_data_validated;
    else if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID)
        f |= NETRXF_data_validated;
    if (gso != XEN_NETIF_GSO_TYPE_NONE)
        f |= NETRXF_extra_info;
    return f;
}

/* Contract: the request whose buffer takes data slot I: with an extra-info
 * slot, request 1 is the extra's and data slot 1 onwards shift by one. */
static unsigned rx_req_index(unsigned i, int extra)
{
    return i + (extra && i > 0);
}

/* Contract: the RX requests the held packet takes: one per 4 KiB of data,
 * and one more for a GSO packet's extra-info response. */
static unsigned rx_slots(const struct nqueue *q)
{
    return (q->rx_len + PVK_PAGE_SIZE - 1) / PVK_PAGE_SIZE +
           (rx_gso_type(&q->rx_hdr) != XEN_NETIF_GSO_TYPE_NONE);
}

/*
 * Contract: 1 if the guest has posted at least N RX requests past req_cons,
 * 0 if not, -1 if its producer index is out of range.  When short, it asks
 * the frontend to notify once N are posted (req_event = req_cons + N) and
 * then looks again, so requests posted meanwhile are not missed.
 * RING_FINAL_CHECK_FOR_REQUESTS is not enough here: it arms req_event only
 * when no request at all is posted, so a packet needing more slots than the
 * few posted would wait for a notification the frontend never sends (its
 * req_event test looks at a stale value) -- the queue then stalls until the
 * guest happens to transmit.
 */
static int rx_ready(struct nqueue *q, unsigned n)
{
    RING_IDX rp = __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_ACQUIRE);

    if (RING_REQUEST_PROD_OVERFLOW(&q->rx, rp))
        return -1;
    if (rp - q->rx.req_cons >= n)
        return 1;
    q->rx.sring->req_event = q->rx.req_cons + n;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    rp = __atomic_load_n(&q->rx.sring->req_prod, __ATOMIC_ACQUIRE);
    if (RING_REQUEST_PROD_OVERFLOW(&q->rx, rp))
        return -1;
    return rp - q->rx.req_cons >= n;
}

/*
 * Contract: copies the held packet into the posted RX buffers (rx_ready
 * said there are rx_slots of them).  A GSO packet takes one more request:
 * the response after the first carries its netif_extra_info (type, MSS).
 */
static void rx_send(struct nqueue *q)
{
    unsigned data = (q->rx_len + PVK_PAGE_SIZE - 1) / PVK_PAGE_SIZE;
    struct pvk_copy_seg seg[(XEN_NETIF_MAX_TX_SIZE + PVK_PAGE_SIZE) / PVK_PAGE_SIZE];
    netif_rx_request_t req[sizeof(seg) / sizeof(seg[0]) + 1];
    int gso = rx_gso_type(&q->rx_hdr);
    unsigned slots = rx_slots(q);

    for (unsigned i = 0; i < slots; i++)
        RING_COPY_REQUEST(&q->rx, q->rx.req_cons++, &req[i]);
    for (unsigned i = 0; i < data; i++) {
        unsigned off = i * PVK_PAGE_SIZE, left = q->rx_len - off;

        seg[i] = (struct pvk_copy_seg){ .to_foreign = 1,
            .domid = q->vif->dev.fe_domid, .ref = req[rx_req_index(i, slots > data)].gref,
            .offset = 0,
            .len = (uint16_t)(left < PVK_PAGE_SIZE ? left : PVK_PAGE_SIZE),
            .local = q->rxpkt + off };
    }
    if (pvk_grant_copy(q->vif->dev.be->t, data, seg) < 0)
        for (unsigned i = 0; i < data; i++)
            seg[i].status = GNTST_general_error;
    for (unsigned i = 0; i < data; i++) {
        netif_rx_response_t *rsp = RING_GET_RESPONSE(&q->rx, q->rx.rsp_prod_pvt++);

        rsp->id = req[rx_req_index(i, slots > data)].id;
        rsp->offset = 0;
        rsp->flags = (uint16_t)((i + 1 < data ? NETRXF_more_data : 0) |
                                (i == 0 ? rx_flags(&q->rx_hdr, gso) : 0));
        rsp->status = seg[i].status == GNTST_okay ? (int16_t)seg[i].len
                                                  : NETIF_RSP_ERROR;
        if (i == 0 && slots > data) {
            netif_extra_info_t *x = (netif_extra_info_t *)RING_GET_RESPONSE(
                &q->rx, q->rx.rsp_prod_pvt++);

            memset(x, 0, sizeof(*x));
            x->type = XEN_NETIF_EXTRA_TYPE_GSO;
            x->u.gso.type = (uint8_t)gso;
            x->u.gso.size = q->rx_hdr.gso_size;
        }
    }
    q->rx_packets++;
    q->rx_len = 0;
}

/* Contract: reads one packet from the tap into rx_hdr/rxpkt; its length,
 * 0 if there is none, or it was dropped (the frontend cannot take it). */
static unsigned rx_read(struct nqueue *q)
{
    struct iovec iov[2] = { { &q->rx_hdr, sizeof(q->rx_hdr) },
                            { q->rxpkt, sizeof(q->rxpkt) } };
    ssize_t n = readv(q->tap_fd, iov, 2);

    if (n < (ssize_t)sizeof(q->rx_hdr))
        return 0;
    n -= (ssize_t)sizeof(q->rx_hdr);
    if ((!q->vif->fe_sg && n > PVK_PAGE_SIZE) || rx_gso_type(&q->rx_hdr) < 0)
        return 0;
    return n > 0 ? (unsigned)n : 0;
}

/* Contract: moves tap packets to the guest while RX buffers last; a packet
 * that finds too few is held, and the frontend's next post that makes
 * enough notifies (rx_ready).  The frontend is notified only when its
 * rsp_event asks (a frontend still polling its ring has not re-armed it). */
static int rx_process(struct nqueue *q)
{
    int notify, ready = 0;

    for (;;) {
        if (!q->rx_len) {
            q->rx_len = rx_read(q);
            if (!q->rx_len)
                break;
        }
        ready = rx_ready(q, rx_slots(q));
        if (ready <= 0)
            break;
        rx_send(q);
    }
    if (ready < 0)
        return -1;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&q->rx, notify);
    if (notify)
        pvk_evtchn_notify(q->ev);
    return 0;
}

/* Contract: the queue thread; runs until stopped or the rings go bad. */
static void *nqueue_main(void *arg)
{
    struct nqueue *q = arg;
    int dead = 0;

    for (;;) {
        struct pollfd p[3] = {
            { .fd = pvk_evtchn_fd(q->ev), .events = POLLIN },
            { .fd = q->th.stop_fd, .events = POLLIN },
            { .fd = q->tap_fd, .events = q->rx_len || dead ? 0 : POLLIN },
        };

        if (poll(p, 3, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        if (p[0].revents)
            pvk_evtchn_ack(q->ev);
        if (dead)
            continue;
        if (tx_process(q) < 0 || rx_process(q) < 0) {
            xbb_dev_fail(&q->vif->dev, q->idx,
                         "ring index out of range or malformed packet chain");
            dead = 1;
        }
    }
    return NULL;
}

/* Contract: releases what nqueue_start acquired (partial setup safe). */
static void nqueue_release(void *arg)
{
    struct nqueue *q = arg;
    struct pvk_transport *t = q->vif->dev.be->t;

    pvk_evtchn_unbind(q->ev);
    q->ev = NULL;
    if (q->tx_sring)
        pvk_grant_unmap(t, q->tx_sring, 1);
    if (q->rx_sring)
        pvk_grant_unmap(t, q->rx_sring, 1);
    q->tx_sring = q->rx_sring = NULL;
    xbb_thread_fini(&q->th);
}

/* Contract: see netback.h; the tap fd is owned by the caller. */
int nqueue_start(struct nqueue *q)
{
    struct vif *v = q->vif;
    struct pvk_transport *t = v->dev.be->t;

    xbb_thread_init(&q->th);
    q->tx_sring = pvk_grant_map(t, v->dev.fe_domid, 1, &q->tx_ref, 1);
    q->rx_sring = pvk_grant_map(t, v->dev.fe_domid, 1, &q->rx_ref, 1);
    if (q->tx_sring && q->rx_sring) {
        BACK_RING_INIT(&q->tx, (netif_tx_sring_t *)q->tx_sring, PVK_PAGE_SIZE);
        BACK_RING_INIT(&q->rx, (netif_rx_sring_t *)q->rx_sring, PVK_PAGE_SIZE);
        q->ev = pvk_evtchn_bind(t, v->dev.fe_domid, q->port);
    }
    return xbb_thread_run(&q->th, q->th.stop_fd >= 0 && q->ev, nqueue_main, nqueue_release, q);
}

/* Contract: see netback.h; stops the thread, then releases the rings. */
void nqueue_stop(struct nqueue *q)
{
    xbb_thread_stop(&q->th);
}
