/*
 * fuzz_blkreq.c - libFuzzer target for blkif request parsing: the input is
 * a raw ring entry followed by the bytes of indirect pages, decoded exactly
 * as pvkit-blkback's queue does (decode, load indirect pages, finish).  Any
 * accepted request must stay inside the disk and inside its pages; a
 * violation aborts, and the sanitizers catch any out-of-bounds access.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/blkreq.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct blkif_request_segment page[PVK_SEGS_PER_INDIRECT_PAGE];
    static struct blkreq r;
    blkif_request_t raw;
    int st;

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
