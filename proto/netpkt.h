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

/*
 * Fills in the TCP or UDP checksum of an Ethernet frame carrying IPv4 or
 * IPv6 (no extension headers).  Returns 0, or -1 if the frame is not one
 * whose checksum can be completed (the caller drops it).
 */
int netpkt_fill_csum(uint8_t *frame, unsigned len);

#endif
