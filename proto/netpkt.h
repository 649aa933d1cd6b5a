/*
 * netpkt.h - pure helpers of the netif protocol for the backend: checking
 * the slots of one transmitted packet, and completing the transport
 * checksum of a packet the frontend sent with NETTXF_csum_blank (the
 * frontend leaves it to the backend, which on a tap device without a
 * virtio-net header must compute it in software).  No libc, no I/O, so the
 * unit tests and the fuzzer drive them directly.
 */
#ifndef PVK_NETPKT_H
#define PVK_NETPKT_H

#include "pvk_abi.h"

/* Slots one packet may use before it is refused (Linux's fatal limit is 20). */
#define PVK_NET_MAX_SLOTS 32u
#define PVK_ETH_HLEN 14u

/*
 * Checks the data slots of one packet (extras excluded): every slot lies in
 * its page, the first slot's size is the packet length and covers the
 * others, the packet is at least an Ethernet header.  On success returns
 * the number of bytes carried by the first slot; -1 if malformed.
 */
int netpkt_check_tx(const netif_tx_request_t *slots, unsigned n);

/* Where a frame's TCP or UDP segment lies (netpkt_parse_l4). */
struct netpkt_l4 {
    unsigned off;       /* of the L4 header from the frame's start */
    unsigned len;       /* of the L4 segment: header and payload */
    unsigned hdr_len;   /* of the L4 header (TCP data offset, or 8 for UDP) */
    int csum_off;       /* of the checksum field within the L4 header */
    uint8_t proto;      /* 6 TCP, 17 UDP */
    uint32_t pseudo;    /* unfolded sum of the pseudo-header's addresses */
};

/*
 * Finds the TCP or UDP segment of an Ethernet frame carrying IPv4 (not a
 * fragment) or IPv6 (no extension headers), every field checked against
 * LEN; 0, or -1 if the frame is not such a packet.
 */
int netpkt_parse_l4(const uint8_t *frame, unsigned len, struct netpkt_l4 *l4);

/*
 * Writes the folded pseudo-header sum into the TCP/UDP checksum field, as
 * a packet whose checksum is left to the device carries it (Linux's
 * CHECKSUM_PARTIAL, a virtio-net header's NEEDS_CSUM), whatever the
 * frontend put there; fills *L4. 0, or -1 as netpkt_parse_l4.
 */
int netpkt_partial_csum(uint8_t *frame, unsigned len, struct netpkt_l4 *l4);

/*
 * Fills in the TCP or UDP checksum of an Ethernet frame carrying IPv4 or
 * IPv6 (no extension headers).  Returns 0, or -1 if the frame is not one
 * whose checksum can be completed (the caller drops it).
 */
int netpkt_fill_csum(uint8_t *frame, unsigned len);

#endif
