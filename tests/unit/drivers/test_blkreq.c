/*
 * test_blkreq.c - cmocka tests of blkif request decoding
 * (proto/blkreq.c): every malformed request class of issue 7 is refused with the
 * right status, valid ones decode to the right range, and a randomized
 * property check confirms that no accepted request ever names a sector
 * outside the disk or a segment outside its page.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/blkreq.h"

static const struct blkreq_limits rw_lim = {
    .sectors = 1000, .max_indirect_segs = 256, .readonly = 0, .flush = 1,
    .discard = 1,
};

/* Contract: a request of operation op with n full-page segments at `sector`. */
static blkif_request_t rw(uint8_t op, uint64_t sector, unsigned n)
{
    blkif_request_t r;

    memset(&r, 0, sizeof(r));
    r.operation = op;
    r.nr_segments = (uint8_t)n;
    r.id = 0x1234;
    r.sector_number = sector;
    for (unsigned i = 0; i < n && i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++) {
        r.seg[i].gref = 100 + i;
        r.seg[i].first_sect = 0;
        r.seg[i].last_sect = 7;
    }
    return r;
}

/* Contract: decodes r into a scratch request, returning the status. */
static int decode(const blkif_request_t *r, const struct blkreq_limits *lim)
{
    static struct blkreq out;

    return blkreq_decode(r, lim, &out);
}

/* Contract: r decoded under rw_lim, which must accept it. */
static struct blkreq accepted(blkif_request_t r)
{
    struct blkreq out;

    assert_int_equal(blkreq_decode(&r, &rw_lim, &out), BLKIF_RSP_OKAY);
    return out;
}

/* A direct read decodes to its range, id and operation. */
static void valid_read(void **state)
{
    struct blkreq out = accepted(rw(BLKIF_OP_READ, 10, 3));

    (void)state;
    assert_int_equal(out.nr_sectors, 24);
    assert_int_equal(out.kind, BLKREQ_READ);
    assert_int_equal(out.id, 0x1234);
    assert_int_equal(out.rsp_op, BLKIF_OP_READ);
    assert_false(out.write);
}

/* Each (operation, segment count) row gets its status: reserved and unknown operations EOPNOTSUPP, 0 or more
 * than 11 direct segments ERROR, 11 OKAY. */
static void operations_and_segment_counts(void **state)
{
    static const struct { uint8_t op; unsigned nr_segs; int want; } cases[] = {
        { BLKIF_OP_RESERVED_1, 1, BLKIF_RSP_EOPNOTSUPP },
        { 200, 1, BLKIF_RSP_EOPNOTSUPP },
        { BLKIF_OP_READ, 0, BLKIF_RSP_ERROR },
        { BLKIF_OP_WRITE, 11, BLKIF_RSP_OKAY },
        { BLKIF_OP_WRITE, 12, BLKIF_RSP_ERROR },
        { BLKIF_OP_WRITE, 255, BLKIF_RSP_ERROR },
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        blkif_request_t r = rw(cases[i].op, 0, cases[i].nr_segs);
        assert_int_equal(decode(&r, &rw_lim), cases[i].want);
    }
}

/* first_sect > last_sect and last_sect > 7 are refused. */
static void bad_sectors_in_page(void **state)
{
    blkif_request_t r = rw(BLKIF_OP_READ, 0, 2);

    (void)state;
    r.seg[1].first_sect = 5;
    r.seg[1].last_sect = 4;
    assert_int_equal(decode(&r, &rw_lim), BLKIF_RSP_ERROR);
    r.seg[1].first_sect = 0;
    r.seg[1].last_sect = 8;
    assert_int_equal(decode(&r, &rw_lim), BLKIF_RSP_ERROR);
    r.seg[1].first_sect = 7;
    r.seg[1].last_sect = 7;
    assert_int_equal(decode(&r, &rw_lim), BLKIF_RSP_OKAY);
}

/* Ranges ending past the disk, or overflowing, are refused. */
static void out_of_disk(void **state)
{
    blkif_request_t r = rw(BLKIF_OP_READ, 992, 1);

    (void)state;
    assert_int_equal(decode(&r, &rw_lim), BLKIF_RSP_OKAY);   /* 992..999 */
    r.sector_number = 993;
    assert_int_equal(decode(&r, &rw_lim), BLKIF_RSP_ERROR);
    r.sector_number = UINT64_MAX - 3;
    assert_int_equal(decode(&r, &rw_lim), BLKIF_RSP_ERROR);
    r.sector_number = 1000;
    assert_int_equal(decode(&r, &rw_lim), BLKIF_RSP_ERROR);
}

/* A read-only disk refuses data-carrying writes only. */
static void readonly_refuses_writes(void **state)
{
    struct blkreq_limits ro = rw_lim;
    blkif_request_t r = rw(BLKIF_OP_WRITE, 0, 1);

    (void)state;
    ro.readonly = 1;
    assert_int_equal(decode(&r, &ro), BLKIF_RSP_ERROR);
    r.operation = BLKIF_OP_READ;
    assert_int_equal(decode(&r, &ro), BLKIF_RSP_OKAY);
    r.operation = BLKIF_OP_FLUSH_DISKCACHE;   /* flush carrying data */
    assert_int_equal(decode(&r, &ro), BLKIF_RSP_ERROR);
    r.nr_segments = 0;                        /* pure flush is fine */
    assert_int_equal(decode(&r, &ro), BLKIF_RSP_OKAY);
}

/* Flush needs the feature; a pure flush ignores its sector. */
static void flush_rules(void **state)
{
    struct blkreq_limits noflush = rw_lim;
    blkif_request_t r = rw(BLKIF_OP_FLUSH_DISKCACHE, UINT64_MAX, 0);
    struct blkreq out = accepted(r);

    (void)state;
    assert_true(out.flush);
    assert_false(out.write);
    noflush.flush = 0;
    assert_int_equal(decode(&r, &noflush), BLKIF_RSP_EOPNOTSUPP);
    out = accepted(rw(BLKIF_OP_WRITE_BARRIER, 0, 1));
    assert_true(out.flush && out.write);
}

/* Discard range, feature and read-only rules. */
static void discard_rules(void **state)
{
    struct blkreq_limits lim = rw_lim;
    blkif_request_discard_t d;
    blkif_request_t r;

    (void)state;
    memset(&d, 0, sizeof(d));
    d.operation = BLKIF_OP_DISCARD;
    d.sector_number = 8;
    d.nr_sectors = 992;
    memset(&r, 0, sizeof(r));
    memcpy(&r, &d, sizeof(d));
    assert_int_equal(decode(&r, &lim), BLKIF_RSP_OKAY);
    d.nr_sectors = 993;
    memcpy(&r, &d, sizeof(d));
    assert_int_equal(decode(&r, &lim), BLKIF_RSP_ERROR);
    d.nr_sectors = 0;
    memcpy(&r, &d, sizeof(d));
    assert_int_equal(decode(&r, &lim), BLKIF_RSP_ERROR);
    d.nr_sectors = 1;
    memcpy(&r, &d, sizeof(d));
    lim.discard = 0;
    assert_int_equal(decode(&r, &lim), BLKIF_RSP_EOPNOTSUPP);
    lim.discard = 1;
    lim.readonly = 1;
    assert_int_equal(decode(&r, &lim), BLKIF_RSP_ERROR);
}

/* Contract: an indirect request header of n segments. */
static blkif_request_t indirect(uint8_t op, unsigned n, uint64_t sector)
{
    blkif_request_indirect_t ind;
    blkif_request_t r;

    memset(&ind, 0, sizeof(ind));
    ind.operation = BLKIF_OP_INDIRECT;
    ind.indirect_op = op;
    ind.nr_segments = (uint16_t)n;
    ind.id = 77;
    ind.sector_number = sector;
    ind.indirect_grefs[0] = 9;
    memset(&r, 0, sizeof(r));
    memcpy(&r, &ind, sizeof(ind));
    return r;
}

/* Indirect header, segment loading and range rules. */
static void indirect_rules(void **state)
{
    static struct blkif_request_segment page[PVK_SEGS_PER_INDIRECT_PAGE];
    struct blkreq_limits noind = rw_lim;
    blkif_request_t r = indirect(BLKIF_OP_WRITE, 100, 0);
    struct blkreq out = accepted(r);

    (void)state;
    assert_int_equal(out.nr_indirect, 1);
    assert_int_equal(out.rsp_op, BLKIF_OP_WRITE);
    for (unsigned i = 0; i < 100; i++)
        page[i] = (struct blkif_request_segment){ .gref = i, .first_sect = 0,
                                                   .last_sect = 7 };
    blkreq_load_indirect(&out, 0, page);
    assert_int_equal(blkreq_finish(&out, &rw_lim), BLKIF_RSP_OKAY);
    assert_int_equal(out.nr_sectors, 800);
    page[50].last_sect = 9;
    blkreq_load_indirect(&out, 0, page);
    assert_int_equal(blkreq_finish(&out, &rw_lim), BLKIF_RSP_ERROR);
    page[50].last_sect = 7;
    out.sector = 300;   /* 300 + 800 > 1000 */
    blkreq_load_indirect(&out, 0, page);
    assert_int_equal(blkreq_finish(&out, &rw_lim), BLKIF_RSP_ERROR);
    r = indirect(BLKIF_OP_READ, 0, 0);
    assert_int_equal(decode(&r, &rw_lim), BLKIF_RSP_ERROR);
    r = indirect(BLKIF_OP_READ, 257, 0);
    assert_int_equal(decode(&r, &rw_lim), BLKIF_RSP_ERROR);
    r = indirect(BLKIF_OP_DISCARD, 1, 0);
    assert_int_equal(decode(&r, &rw_lim), BLKIF_RSP_ERROR);
    noind.max_indirect_segs = 0;
    r = indirect(BLKIF_OP_READ, 1, 0);
    assert_int_equal(decode(&r, &noind), BLKIF_RSP_EOPNOTSUPP);
}

/* Property: whatever the bytes, an accepted request stays in bounds. */
static void random_requests_stay_in_bounds(void **state)
{
    static struct blkif_request_segment page[PVK_SEGS_PER_INDIRECT_PAGE];
    struct blkreq out;

    (void)state;
    srand(12345);
    for (int iter = 0; iter < 200000; iter++) {
        blkif_request_t r;
        uint8_t *b = (uint8_t *)&r;
        int st;

        for (size_t i = 0; i < sizeof(r); i++)
            b[i] = (uint8_t)rand();
        r.operation = (uint8_t)(rand() % 8);
        if (rand() % 2)
            r.sector_number = (uint64_t)rand() % 1200;
        if (r.operation != BLKIF_OP_INDIRECT && rand() % 2)
            r.nr_segments = (uint8_t)(rand() % 13);
        st = blkreq_decode(&r, &rw_lim, &out);
        if (st == BLKIF_RSP_OKAY && out.nr_indirect) {
            for (size_t i = 0; i < sizeof(page); i++)
                ((uint8_t *)page)[i] = (uint8_t)(rand() % 9);
            for (unsigned k = 0; k < out.nr_indirect; k++)
                blkreq_load_indirect(&out, k, page);
            st = blkreq_finish(&out, &rw_lim);
        }
        if (st != BLKIF_RSP_OKAY || out.kind == BLKREQ_FLUSH)
            continue;
        assert_true(out.sector + out.nr_sectors <= rw_lim.sectors);
        assert_true(out.nr_segs <= rw_lim.max_indirect_segs);
        for (unsigned i = 0; i < out.nr_segs; i++)
            assert_true(out.seg[i].first_sect <= out.seg[i].last_sect &&
                        out.seg[i].last_sect < 8);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_read),
        cmocka_unit_test(operations_and_segment_counts),
        cmocka_unit_test(bad_sectors_in_page),
        cmocka_unit_test(out_of_disk),
        cmocka_unit_test(readonly_refuses_writes),
        cmocka_unit_test(flush_rules),
        cmocka_unit_test(discard_rules),
        cmocka_unit_test(indirect_rules),
        cmocka_unit_test(random_requests_stay_in_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
