/*
 * test_netpkt.c - cmocka tests of the netif packet helpers
 * (proto/netpkt.c): slot-chain validation and software completion
 * of TCP/UDP checksums for NETTXF_csum_blank packets (IPv4 and IPv6),
 * checked against an independent verification of the result.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/netpkt.h"

/* Slot chains: page bounds, size accounting, runts, limits. */
static void tx_slot_rules(void **state)
{
    netif_tx_request_t s[3] = {
        { .gref = 1, .offset = 0, .size = 9000 },
        { .gref = 2, .offset = 0, .size = 4096 },
        { .gref = 3, .offset = 0, .size = 808 },
    };

    (void)state;
    assert_int_equal(netpkt_check_tx(s, 3), 4096);
    s[2].offset = 3500;
    assert_int_equal(netpkt_check_tx(s, 3), -1);       /* crosses its page */
    s[2].offset = 0;
    s[0].size = 4000;                                   /* less than the rest */
    assert_int_equal(netpkt_check_tx(s, 3), -1);
    s[0].size = 10;
    assert_int_equal(netpkt_check_tx(s, 1), -1);        /* runt */
    s[0].size = 1514;
    s[0].offset = 3000;
    assert_int_equal(netpkt_check_tx(s, 1), -1);        /* first slot overflows */
    s[0].offset = 2582;
    assert_int_equal(netpkt_check_tx(s, 1), 1514);
    assert_int_equal(netpkt_check_tx(s, 0), -1);
    assert_int_equal(netpkt_check_tx(s, PVK_NET_MAX_SLOTS + 1), -1);
}

/* Contract: one's-complement sum of the L4 segment with its pseudo-header. */
static uint16_t verify(const uint8_t *ip, const uint8_t *l4, unsigned l4len,
                       uint8_t proto, int v6)
{
    uint32_t sum = proto + l4len;
    unsigned a = v6 ? 8 : 12, alen = v6 ? 32 : 8;

    for (unsigned i = 0; i < alen; i += 2)
        sum += (uint32_t)(ip[a + i] << 8 | ip[a + i + 1]);
    for (unsigned i = 0; i < l4len; i += 2)
        sum += (uint32_t)(l4[i] << 8 | (i + 1 < l4len ? l4[i + 1] : 0));
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Contract: zeroes the size bytes of frame f, puts ethertype in its
 * Ethernet header and returns its IP header (f + 14). Each test then sets
 * its header fields one by one, so that each can be read off. */
static uint8_t *ether_frame(uint8_t *f, size_t size, uint16_t ethertype)
{
    memset(f, 0, size);
    f[12] = (uint8_t)(ethertype >> 8);
    f[13] = (uint8_t)ethertype;
    return f + 14;
}

/* IPv4 TCP and UDP checksums verify; fragments and bad lengths refused. */
static void ipv4_tcp_and_udp(void **state)
{
    uint8_t f[14 + 20 + 20 + 101];
    uint8_t *ip = ether_frame(f, sizeof(f), 0x0800);

    (void)state;
    ip[0] = 0x45;
    ip[2] = 0;
    ip[3] = (uint8_t)(sizeof(f) - 14);
    ip[9] = 6;
    ip[12] = 192; ip[13] = 168; ip[15] = 1; ip[16] = 10; ip[19] = 7;
    for (unsigned i = 34; i < sizeof(f); i++)
        f[i] = (uint8_t)(i * 13);
    assert_int_equal(netpkt_fill_csum(f, sizeof(f)), 0);
    assert_int_equal(verify(ip, ip + 20, sizeof(f) - 34, 6, 0), 0xffff);
    ip[9] = 17;
    f[38] = 0;
    f[39] = (uint8_t)(sizeof(f) - 34);
    assert_int_equal(netpkt_fill_csum(f, sizeof(f)), 0);
    assert_int_equal(verify(ip, ip + 20, sizeof(f) - 34, 17, 0), 0xffff);
    ip[6] = 0x20;                                       /* a fragment */
    assert_int_equal(netpkt_fill_csum(f, sizeof(f)), -1);
    ip[6] = 0;
    ip[3] = 0xff;                                       /* longer than frame */
    assert_int_equal(netpkt_fill_csum(f, sizeof(f)), -1);
    ip[3] = (uint8_t)(sizeof(f) - 14);
    ip[9] = 1;                                          /* ICMP: no */
    assert_int_equal(netpkt_fill_csum(f, sizeof(f)), -1);
}

/* IPv6 UDP checksum verifies; short or non-IP frames refused. */
static void ipv6_udp(void **state)
{
    uint8_t f[14 + 40 + 8 + 64];
    uint8_t *ip = ether_frame(f, sizeof(f), 0x86dd);

    (void)state;
    ip[0] = 0x60;
    ip[5] = 8 + 64;
    ip[6] = 17;
    ip[8] = 0xfe; ip[9] = 0x80; ip[23] = 1; ip[24] = 0xfe; ip[25] = 0x80; ip[39] = 2;
    ip[44] = 0; ip[45] = 8 + 64;
    for (unsigned i = 62; i < sizeof(f); i++)
        f[i] = (uint8_t)i;
    assert_int_equal(netpkt_fill_csum(f, sizeof(f)), 0);
    assert_int_equal(verify(ip, ip + 40, 72, 17, 1), 0xffff);
    assert_int_equal(netpkt_fill_csum(f, 40), -1);
    f[12] = 0x12;
    assert_int_equal(netpkt_fill_csum(f, sizeof(f)), -1);
}

/* The smallest frames: a UDP/IPv4 datagram of 4 bytes (46-byte frame, what
 * iperf3 sends to open a UDP test) and an empty one are completed; an IPv4
 * header cut short, or an IPv6 one, is refused. */
static void smallest_frames(void **state)
{
    uint8_t f[14 + 20 + 8 + 4];
    uint8_t *ip = f + 14;

    (void)state;
    for (unsigned pay = 4;; pay = 0) {
        unsigned len = 14 + 20 + 8 + pay;

        ether_frame(f, sizeof(f), 0x0800);
        ip[0] = 0x45;
        ip[3] = (uint8_t)(20 + 8 + pay);
        ip[9] = 17;
        ip[12] = 169; ip[13] = 254; ip[15] = 1; ip[16] = 169; ip[17] = 254; ip[18] = 1; ip[19] = 2;
        f[39] = (uint8_t)(8 + pay);
        memset(f + 42, 0x39, pay);
        assert_int_equal(netpkt_fill_csum(f, len), 0);
        assert_int_equal(verify(ip, ip + 20, 8 + pay, 17, 0), 0xffff);
        if (pay == 0)
            break;
    }
    assert_int_equal(netpkt_fill_csum(f, 14 + 19), -1);  /* IPv4 header cut short */
    f[12] = 0x86;
    f[13] = 0xdd;
    f[14] = 0x60;
    assert_int_equal(netpkt_fill_csum(f, sizeof(f)), -1); /* IPv6 header cut short */
}

/* The L4 segment is found; the partial checksum is the folded pseudo-header
 * sum, and completing it in software gives the same result as a full fill. */
static void partial_csum_for_gso(void **state)
{
    uint8_t f[14 + 20 + 32 + 1000], g[sizeof(f)];
    uint8_t *ip = ether_frame(f, sizeof(f), 0x0800);
    struct netpkt_l4 l4;

    (void)state;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((sizeof(f) - 14) >> 8);
    ip[3] = (uint8_t)(sizeof(f) - 14);
    ip[9] = 6;
    ip[12] = 169; ip[13] = 254; ip[15] = 1; ip[16] = 169; ip[17] = 254; ip[19] = 2;
    for (unsigned i = 34; i < sizeof(f); i++)
        f[i] = (uint8_t)(i * 7);
    f[34 + 12] = 0x80;                                  /* data offset 8: 32 bytes */
    memcpy(g, f, sizeof(f));
    assert_int_equal(netpkt_partial_csum(f, sizeof(f), &l4), 0);
    assert_int_equal(l4.off, 34);
    assert_int_equal(l4.hdr_len, 32);
    assert_int_equal(l4.csum_off, 16);
    assert_int_equal(l4.len, sizeof(f) - 34);
    uint32_t want = 169 * 256 + 254 + 1 + 169 * 256 + 254 + 2 + 6 + (uint32_t)(sizeof(f) - 34);
    while (want >> 16)
        want = (want & 0xffff) + (want >> 16);
    assert_int_equal(f[50] << 8 | f[51], want);
    /* what a device does with it: sums the segment as it stands, complements */
    assert_int_equal(netpkt_fill_csum(g, sizeof(g)), 0);
    uint32_t seg = 0;
    for (unsigned i = 34; i < sizeof(f); i += 2)
        seg += (uint32_t)(f[i] << 8 | f[i + 1]);
    while (seg >> 16)
        seg = (seg & 0xffff) + (seg >> 16);
    assert_int_equal((uint16_t)~seg, g[50] << 8 | g[51]);
    f[34 + 12] = 0x10;                                  /* data offset 1: refused */
    assert_int_equal(netpkt_parse_l4(f, sizeof(f), &l4), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tx_slot_rules),
        cmocka_unit_test(ipv4_tcp_and_udp),
        cmocka_unit_test(ipv6_udp),
        cmocka_unit_test(partial_csum_for_gso),
        cmocka_unit_test(smallest_frames),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
