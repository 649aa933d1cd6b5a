/*
 * netback.h - internal interfaces of pvkit-netback.
 *
 * The xenbus-backend core (../core/xbback.h) runs the daemon, finds the
 * vifs under backend/vif and drives their state machine; netback adds only
 * the network protocol: main.c (options), vif.c (the vif class: probe and
 * connect keys, the tap device "vif<domid>.<handle>", one tap queue per
 * ring pair) and one thread per connected queue (nqueue.c) that moves
 * packets between the guest's TX/RX rings and its tap queue with grant
 * copies.  Only a queue's thread touches its rings and its tap fd.  A queue
 * that finds its rings corrupt calls xbb_dev_fail, and the core drops that
 * vif (Closing); other vifs are unaffected.  Each vif has its own tap
 * device, so packets cannot cross between vifs.
 */
#ifndef PVK_NETBACK_H
#define PVK_NETBACK_H

#include <linux/virtio_net.h>

#include "core/xbback.h"
#include "proto/netpkt.h"

#define NETBACK_MAX_QUEUES 8

struct nqueue {
    struct vif *vif;
    unsigned idx;
    grant_ref_t tx_ref, rx_ref;
    evtchn_port_t port;
    void *tx_sring, *rx_sring;
    netif_tx_back_ring_t tx;
    netif_rx_back_ring_t rx;
    struct pvk_evtchn *ev;
    int tap_fd;
    struct xbb_thread th;
    unsigned rx_len;            /* bytes of a tap packet waiting for slots */
    struct virtio_net_hdr rx_hdr; /* its header: checksum state, GSO */
    uint8_t pkt[XEN_NETIF_MAX_TX_SIZE + 1];
    uint8_t rxpkt[XEN_NETIF_MAX_TX_SIZE + 1];
    unsigned long tx_packets, rx_packets, tx_errors;
};

struct vif {
    struct xbb_dev dev;         /* dev.id: the vif's handle */
    char ifname[16];
    int fe_sg;                  /* frontend accepts multi-slot RX packets */
    unsigned nr_queues;
    struct nqueue *queues;
};

/* nqueue.c */
int nqueue_start(struct nqueue *q);
void nqueue_stop(struct nqueue *q);

/* vif.c: the vif device class of the core. */
extern const struct xbb_class vif_class;

#endif
