/*
 * blkreq.c - decode and validate blkif requests; see blkreq.h.
 * The raw request is read only through memcpy into the exact wire struct
 * of its operation (blkif_request_t, _discard_t, _indirect_t), so nothing
 * here depends on type punning, and every field is range-checked before it
 * is stored into the decoded form.
 */
#include "blkreq.h"

/* Contract: direct read/write/flush segments (nr <= 11) into `out`. */
static void copy_direct_segs(const blkif_request_t *raw, struct blkreq *out)
{
    for (unsigned i = 0; i < out->nr_segs; i++) {
        out->seg[i].gref = raw->seg[i].gref;
        out->seg[i].first_sect = raw->seg[i].first_sect;
        out->seg[i].last_sect = raw->seg[i].last_sect;
    }
}

/* Contract: decodes READ/WRITE/BARRIER/FLUSH; returns a BLKIF_RSP_* code. */
static int decode_rw(const blkif_request_t *raw, const struct blkreq_limits *lim,
                     struct blkreq *out)
{
    unsigned op = raw->operation;
    int is_flush = op == BLKIF_OP_FLUSH_DISKCACHE || op == BLKIF_OP_WRITE_BARRIER;

    if (is_flush && !lim->flush)
        return BLKIF_RSP_EOPNOTSUPP;
    if (raw->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
        return BLKIF_RSP_ERROR;
    if (raw->nr_segments == 0 && !is_flush)
        return BLKIF_RSP_ERROR;
    out->kind = is_flush ? BLKREQ_FLUSH : op == BLKIF_OP_READ ? BLKREQ_READ
                                                               : BLKREQ_WRITE;
    out->write = op != BLKIF_OP_READ && raw->nr_segments > 0;
    out->flush = is_flush;
    out->handle = raw->handle;
    out->sector = raw->sector_number;
    out->nr_segs = raw->nr_segments;
    if (out->write && lim->readonly)
        return BLKIF_RSP_ERROR;
    copy_direct_segs(raw, out);
    /* A pure flush names no data, so its sector number is meaningless. */
    if (out->nr_segs == 0)
        return BLKIF_RSP_OKAY;
    return blkreq_finish(out, lim);
}

/* Contract: decodes BLKIF_OP_DISCARD; returns a BLKIF_RSP_* code. */
static int decode_discard(const blkif_request_t *raw,
                          const struct blkreq_limits *lim, struct blkreq *out)
{
    blkif_request_discard_t d;

    __builtin_memcpy(&d, raw, sizeof(d));
    if (!lim->discard)
        return BLKIF_RSP_EOPNOTSUPP;
    if (lim->readonly)
        return BLKIF_RSP_ERROR;
    out->kind = BLKREQ_DISCARD;
    out->handle = d.handle;
    out->sector = d.sector_number;
    out->nr_sectors = d.nr_sectors;
    out->secure = (d.flag & BLKIF_DISCARD_SECURE) != 0;
    if (d.nr_sectors == 0 || d.sector_number > lim->sectors ||
        d.nr_sectors > lim->sectors - d.sector_number)
        return BLKIF_RSP_ERROR;
    return BLKIF_RSP_OKAY;
}

/* Contract: decodes BLKIF_OP_INDIRECT's header; segments come later. */
static int decode_indirect(const blkif_request_t *raw,
                           const struct blkreq_limits *lim, struct blkreq *out)
{
    blkif_request_indirect_t ind;

    __builtin_memcpy(&ind, raw, sizeof(ind));
    if (lim->max_indirect_segs == 0)
        return BLKIF_RSP_EOPNOTSUPP;
    if (ind.indirect_op != BLKIF_OP_READ && ind.indirect_op != BLKIF_OP_WRITE)
        return BLKIF_RSP_ERROR;
    out->rsp_op = ind.indirect_op;
    if (ind.nr_segments == 0 || ind.nr_segments > lim->max_indirect_segs ||
        ind.nr_segments > PVK_BLK_MAX_INDIRECT_SEGS)
        return BLKIF_RSP_ERROR;
    out->kind = ind.indirect_op == BLKIF_OP_READ ? BLKREQ_READ : BLKREQ_WRITE;
    out->write = out->kind == BLKREQ_WRITE;
    if (out->write && lim->readonly)
        return BLKIF_RSP_ERROR;
    out->handle = ind.handle;
    out->sector = ind.sector_number;
    out->nr_segs = ind.nr_segments;
    out->nr_indirect = (ind.nr_segments + PVK_SEGS_PER_INDIRECT_PAGE - 1) /
                       PVK_SEGS_PER_INDIRECT_PAGE;
    for (unsigned i = 0; i < out->nr_indirect; i++)
        out->indirect[i] = ind.indirect_grefs[i];
    return BLKIF_RSP_OKAY;
}

/* Contract: see blkreq.h. */
int blkreq_decode(const blkif_request_t *raw, const struct blkreq_limits *lim,
                  struct blkreq *out)
{
    out->id = raw->id;
    out->rsp_op = raw->operation;
    out->nr_indirect = 0;
    out->nr_segs = 0;
    out->nr_sectors = 0;
    out->write = out->flush = out->secure = 0;
    switch (raw->operation) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
    case BLKIF_OP_WRITE_BARRIER:
    case BLKIF_OP_FLUSH_DISKCACHE:
        return decode_rw(raw, lim, out);
    case BLKIF_OP_DISCARD:
        return decode_discard(raw, lim, out);
    case BLKIF_OP_INDIRECT:
        return decode_indirect(raw, lim, out);
    default:
        return BLKIF_RSP_EOPNOTSUPP;
    }
}

/* Contract: see blkreq.h. */
void blkreq_load_indirect(struct blkreq *req, unsigned idx,
                          const struct blkif_request_segment *page)
{
    unsigned first = idx * PVK_SEGS_PER_INDIRECT_PAGE;

    for (unsigned i = 0; i < PVK_SEGS_PER_INDIRECT_PAGE &&
                         first + i < req->nr_segs; i++) {
        struct blkif_request_segment s;

        __builtin_memcpy(&s, &page[i], sizeof(s));
        req->seg[first + i].gref = s.gref;
        req->seg[first + i].first_sect = s.first_sect;
        req->seg[first + i].last_sect = s.last_sect;
    }
}

/* Contract: see blkreq.h. */
int blkreq_finish(struct blkreq *req, const struct blkreq_limits *lim)
{
    uint64_t total = 0;

    for (unsigned i = 0; i < req->nr_segs; i++) {
        const struct blkreq_seg *s = &req->seg[i];

        if (s->first_sect > s->last_sect ||
            s->last_sect >= PVK_SECTORS_PER_PAGE)
            return BLKIF_RSP_ERROR;
        total += (uint64_t)(s->last_sect - s->first_sect + 1);
    }
    req->nr_sectors = total;
    req->nr_indirect = 0;
    if (req->sector > lim->sectors || total > lim->sectors - req->sector)
        return BLKIF_RSP_ERROR;
    return BLKIF_RSP_OKAY;
}
