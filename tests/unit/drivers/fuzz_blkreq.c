/*
 * fuzz_blkreq.c - libFuzzer target for the backends' request parsing.  The
 * input is a raw blkif ring entry followed by the bytes of indirect pages,
 * decoded exactly as pvkit-blkback's queue does (decode, load indirect
 * pages, finish); any accepted request must stay inside the disk and inside
 * its pages, or the target aborts.  The same bytes are then read as a chain
 * of netif TX slots (netpkt_check_tx) and as a frame whose checksum
 * netback would complete (netpkt_fill_csum); the sanitizers catch any
 * out-of-bounds access in all three.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/blkreq.h"
#include "proto/netpkt.h"

static const struct blkreq_limits lim = {
    .sectors = 1u << 20, .max_indirect_segs = 256, .readonly = 0,
    .flush = 1, .discard = 1,
};

/* Contract: aborts if an accepted request breaks a blkreq.h invariant. */
static void check(const struct blkreq *r)
{
    if (r->kind == BLKREQ_FLUSH && r->nr_segs == 0)
        return;
    if (r->sector > lim.sectors || r->nr_sectors > lim.sectors - r->sector)
        abort();
    for (unsigned i = 0; i < r->nr_segs; i++)
        if (r->seg[i].first_sect > r->seg[i].last_sect || r->seg[i].last_sect > 7)
            abort();
}

/* Contract: runs the netif helpers over the input bytes. */
static void fuzz_net(const uint8_t *data, size_t size)
{
    static uint8_t frame[XEN_NETIF_MAX_TX_SIZE];
    netif_tx_request_t slots[PVK_NET_MAX_SLOTS];
    size_t n = size / sizeof(slots[0]);
    int first;

    if (n > PVK_NET_MAX_SLOTS)
        n = PVK_NET_MAX_SLOTS;
    memcpy(slots, data, n * sizeof(slots[0]));
    first = netpkt_check_tx(slots, (unsigned)n);
    if (first >= 0 && (unsigned)first + slots[0].offset > PVK_PAGE_SIZE)
        abort();
    n = size < sizeof(frame) ? size : sizeof(frame);
    memcpy(frame, data, n);
    netpkt_fill_csum(frame, (unsigned)n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct blkif_request_segment page[PVK_SEGS_PER_INDIRECT_PAGE];
    static struct blkreq r;
    blkif_request_t raw;
    int st;

    fuzz_net(data, size);
    if (size < sizeof(raw))
        return 0;
    memcpy(&raw, data, sizeof(raw));
    data += sizeof(raw);
    size -= sizeof(raw);
    st = blkreq_decode(&raw, &lim, &r);
    if (st == BLKIF_RSP_OKAY && r.nr_indirect) {
        for (unsigned i = 0; i < r.nr_indirect; i++) {
            size_t n = size < sizeof(page) ? size : sizeof(page);

            memset(page, 0, sizeof(page));
            memcpy(page, data, n);
            data += n;
            size -= n;
            blkreq_load_indirect(&r, i, page);
        }
        st = blkreq_finish(&r, &lim);
    }
    if (st == BLKIF_RSP_OKAY)
        check(&r);
    return 0;
}
