/*
 * netfront.h - portable PV network frontend core (freestanding).
 *
 * Data path in netfront.c (TX and RX rings of one queue), xenstore
 * handshake in netfront_xs.c.  Use: netfront_init, netfront_connect, then
 * per queue netfront_send / netfront_tx_poll / netfront_recv (one caller
 * per queue at a time), netfront_disconnect.  TX data goes through bounce
 * pages granted read-only once per ring slot; RX buffers are pages granted
 * writable once and re-posted after each packet, all kept for the
 * connection.  Invariants: a TX id is busy from send until its response;
 * RX ids always equal the slot's buffer index; responses naming unknown ids
 * are counted in bad_responses and ignored.
 */
#ifndef PVF_NETFRONT_H
#define PVF_NETFRONT_H

#include "pvf_util.h" /* struct pvf_link; it includes pvf_os.h */

#define NETFRONT_MAX_QUEUES 4
#define NETFRONT_RING_SIZE __CONST_RING_SIZE(netif_tx, PVK_PAGE_SIZE)

struct netfront_opts {
    unsigned max_queues;
};

struct netfront_queue {
    void *tx_sring, *rx_sring;
    grant_ref_t tx_ref, rx_ref;
    evtchn_port_t port;
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    void *tx_page[NETFRONT_RING_SIZE];
    grant_ref_t tx_gref[NETFRONT_RING_SIZE];
    uint16_t tx_free[NETFRONT_RING_SIZE];
    unsigned tx_nfree;
    void *rx_page[NETFRONT_RING_SIZE];
    grant_ref_t rx_gref[NETFRONT_RING_SIZE];
    unsigned long tx_errors;
};

struct netfront_dev {
    struct pvf_link link;
    uint8_t mac[6];
    struct netfront_opts opts;
    unsigned nr_queues;
    struct netfront_queue q[NETFRONT_MAX_QUEUES];
    unsigned long bad_responses;
};

/* Reads backend, backend-id and mac from `node`. 0 or -errno. */
int netfront_init(struct netfront_dev *dev, const struct pvf_os *os,
                  const char *node, const struct netfront_opts *opts);
/* Handshake until both ends are Connected, within `ms`. */
int netfront_connect(struct netfront_dev *dev, unsigned ms);
/* Closes both ends and releases rings, buffers and grants. */
int netfront_disconnect(struct netfront_dev *dev, unsigned ms);

/*
 * Queues one Ethernet frame on queue qi; with csum_blank the backend
 * completes the TCP/UDP checksum.  0, -XEN_EBUSY (no room), -XEN_EINVAL.
 */
int netfront_send(struct netfront_dev *dev, unsigned qi, const void *frame,
                  unsigned len, int csum_blank);
/* Reaps TX responses; returns how many packets completed. */
int netfront_tx_poll(struct netfront_dev *dev, unsigned qi);
/*
 * Takes one received frame into buf (at most len bytes); returns its length,
 * 0 if none is waiting, or -XEN_EIO for a frame the backend marked bad.
 */
int netfront_recv(struct netfront_dev *dev, unsigned qi, void *buf, unsigned len);

/* netfront_xs.c <-> netfront.c */
int netfront_rings_alloc(struct netfront_dev *dev);
void netfront_rings_free(struct netfront_dev *dev);

#endif
