/*
 * netback.h - internal interfaces of pvkit-netback.
 *
 * main.c watches backend/vif and owns every `struct vif` (vif.c: the xenbus
 * handshake and the tap device "vif<domid>.<handle>", one tap queue per
 * ring pair); each connected queue runs a thread (nqueue.c) that moves
 * packets between the guest's TX/RX rings and its tap queue with grant
 * copies.  Only a queue's thread touches its rings and its tap fd.  A queue
 * that finds its rings corrupt marks the vif failed and wakes main, which
 * drops that vif (Closing); other vifs are unaffected.  Each vif has its
 * own tap device, so packets cannot cross between vifs.
 */
#ifndef PVK_NETBACK_H
#define PVK_NETBACK_H

#include <pthread.h>
#include <stdatomic.h>

#include "../common/transport.h"
#include "proto/netpkt.h"

#define NETBACK_MAX_QUEUES 8

struct netback {
    struct pvk_transport *t;
    struct xs_handle *xs;
    char root[64];              /* /local/domain/<self>/backend/vif */
    unsigned max_queues;
    int wake_fd;
    struct vif *vifs;
};

struct nqueue {
    struct vif *vif;
    unsigned idx;
    grant_ref_t tx_ref, rx_ref;
    evtchn_port_t port;
    void *tx_sring, *rx_sring;
    netif_tx_back_ring_t tx;
    netif_rx_back_ring_t rx;
    struct pvk_evtchn *ev;
    int tap_fd, stop_fd;
    pthread_t thread;
    int running;
    unsigned rx_len;            /* bytes of a tap packet waiting for slots */
    uint8_t pkt[XEN_NETIF_MAX_TX_SIZE + 1];
    uint8_t rxpkt[XEN_NETIF_MAX_TX_SIZE + 1];
    unsigned long tx_packets, rx_packets, tx_errors;
};

struct vif {
    struct vif *next;
    struct netback *nb;
    char path[128], fepath[128];
    domid_t fe_domid;
    unsigned handle;
    char ifname[16];
    int state;
    int probed;
    int fe_sg;                  /* frontend accepts multi-slot RX packets */
    unsigned nr_queues;
    struct nqueue *queues;
    atomic_int failed;
    int watching;
};

/* nqueue.c */
int nqueue_start(struct nqueue *q);
void nqueue_stop(struct nqueue *q);

/* vif.c */
struct vif *vif_create(struct netback *nb, domid_t fe, unsigned handle);
void vif_update(struct vif *v);
void vif_destroy(struct vif *v);

#endif
