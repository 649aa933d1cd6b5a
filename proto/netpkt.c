/*
 * netpkt.c - see netpkt.h.  The checksum is the Internet one's-complement
 * sum over the pseudo-header and the whole L4 segment with the checksum
 * field zeroed first, so it is correct whatever the frontend left there
 * (Linux leaves the pseudo-header sum).  All header fields are bounds
 * checked against the frame length before use.
 */
#include "netpkt.h"

int netpkt_check_tx(const netif_tx_request_t *slots, unsigned n)
{
    uint32_t rest = 0;
    int first;

    if (n == 0 || n > PVK_NET_MAX_SLOTS)
        return -1;
    for (unsigned i = 1; i < n; i++) {
        if ((uint32_t)slots[i].offset + slots[i].size > PVK_PAGE_SIZE)
            return -1;
        rest += slots[i].size;
    }
    if (slots[0].size < PVK_ETH_HLEN || rest > slots[0].size)
        return -1;
    first = (int)(slots[0].size - rest);
    if ((uint32_t)slots[0].offset + (uint32_t)first > PVK_PAGE_SIZE)
        return -1;
    return first;
}

/* Contract: adds big-endian 16-bit words of p[0..len) to sum. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, unsigned len)
{
    for (unsigned i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)(p[len - 1] << 8);
    return sum;
}

/* Contract: folds and complements; a UDP result of 0 becomes 0xffff. */
static uint16_t fold(uint32_t sum, int udp)
{
    uint16_t r;

    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    r = (uint16_t)~sum;
    return udp && r == 0 ? 0xffff : r;
}

/* Contract: offset of the checksum field in a TCP/UDP header, or -1. */
static int csum_field(uint8_t proto)
{
    return proto == 6 ? 16 : proto == 17 ? 6 : -1;
}

/* Contract: writes the checksum of the L4 segment at l4 (length l4len). */
static int finish(uint8_t *l4, unsigned l4len, uint8_t proto, uint32_t pseudo)
{
    int off = csum_field(proto);
    uint16_t c;

    if (off < 0 || l4len < (unsigned)off + 2)
        return -1;
    l4[off] = l4[off + 1] = 0;
    c = fold(sum16(pseudo + proto + l4len, l4, l4len), proto == 17);
    l4[off] = (uint8_t)(c >> 8);
    l4[off + 1] = (uint8_t)c;
    return 0;
}

int netpkt_parse_l4(const uint8_t *f, unsigned len, struct netpkt_l4 *l4)
{
    unsigned type;

    /* the smallest header there is (IPv4's): a UDP/IPv4 datagram of a few
     * bytes is a 42..53-byte frame, and it is as valid as a bigger one */
    if (len < PVK_ETH_HLEN + 20)
        return -1;
    type = (unsigned)(f[12] << 8 | f[13]);
    if (type == 0x0800) {
        const uint8_t *ip = f + PVK_ETH_HLEN;
        unsigned ihl = (ip[0] & 0xfu) * 4, tot = (unsigned)(ip[2] << 8 | ip[3]);

        if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl ||
            PVK_ETH_HLEN + tot > len || (ip[6] & 0x3f) || ip[7])
            return -1;
        *l4 = (struct netpkt_l4){ .off = PVK_ETH_HLEN + ihl, .len = tot - ihl,
                                  .proto = ip[9], .pseudo = sum16(0, ip + 12, 8) };
    } else if (type == 0x86dd) {
        const uint8_t *ip = f + PVK_ETH_HLEN;
        unsigned plen = (unsigned)(ip[4] << 8 | ip[5]);

        if (len < PVK_ETH_HLEN + 40 || (ip[0] >> 4) != 6 || PVK_ETH_HLEN + 40 + plen > len)
            return -1;
        *l4 = (struct netpkt_l4){ .off = PVK_ETH_HLEN + 40, .len = plen,
                                  .proto = ip[6], .pseudo = sum16(0, ip + 8, 32) };
    } else {
        return -1;
    }
    l4->csum_off = csum_field(l4->proto);
    if (l4->csum_off < 0 || l4->len < (unsigned)l4->csum_off + 2)
        return -1;
    l4->hdr_len = l4->proto == 17 ? 8 : (unsigned)(f[l4->off + 12] >> 4) * 4;
    if (l4->hdr_len < 8 || l4->hdr_len > l4->len)
        return -1;
    return 0;
}

int netpkt_fill_csum(uint8_t *f, unsigned len)
{
    struct netpkt_l4 l4;

    if (netpkt_parse_l4(f, len, &l4) < 0)
        return -1;
    return finish(f + l4.off, l4.len, l4.proto, l4.pseudo);
}

int netpkt_partial_csum(uint8_t *f, unsigned len, struct netpkt_l4 *l4)
{
    uint32_t sum;

    if (netpkt_parse_l4(f, len, l4) < 0)
        return -1;
    sum = l4->pseudo + l4->proto + l4->len;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    f[l4->off + l4->csum_off] = (uint8_t)(sum >> 8);
    f[l4->off + l4->csum_off + 1] = (uint8_t)sum;
    return 0;
}
