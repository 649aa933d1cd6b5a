/*
 * hostile_blk.c - a hostile block frontend for the hosted end-to-end tests.
 * It connects to pvkit-blkback normally (blkfront core), then writes raw
 * requests on its ring: unknown operations, bad segment counts, sectors
 * outside the page or the disk, bad / foreign / read-only grants, broken
 * indirect requests, out-of-range discards, a request rewritten while the
 * backend reads it, a full ring of valid requests; each must be answered
 * with the expected status (or, for the race, answered at all).  Finally it
 * corrupts the ring's producer index; the backend must drop the device
 * (state Closing).  Usage: hostile-blk FE VDEV.  Prints one line per check
 * and exits 0 only if every check held.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xenstore.h>

#include "blkfront/blkfront.h"
#include "hosted/hosted_dom.h"
#include "pvf_util.h"

static struct hosted_dom *dom;
static struct blkfront_dev dev;
static struct blkfront_queue *q;
static int failures;
static grant_ref_t rw_ref, ro_ref, foreign_ref, ind_ref;
static struct blkif_request_segment *ind_page;

/* Contract: puts one raw request on the ring and kicks the backend. */
static void push_raw(const void *req, size_t len)
{
    int notify;

    memset(RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt), 0,
           sizeof(blkif_request_t));
    memcpy(RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt), req, len);
    q->ring.req_prod_pvt++;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->ring, notify);
    if (notify)
        dev.link.os->evtchn_notify(dev.link.os->ctx, q->port);
}

/* Contract: waits for the next response; returns 0 and fills *rsp, or -1. */
static int next_response(blkif_response_t *rsp)
{
    for (int spins = 0; spins < 500; spins++) {
        if (q->ring.rsp_cons != __atomic_load_n(&q->ring.sring->rsp_prod,
                                                __ATOMIC_ACQUIRE)) {
            memcpy(rsp, RING_GET_RESPONSE(&q->ring, q->ring.rsp_cons), sizeof(*rsp));
            q->ring.rsp_cons++;
            return 0;
        }
        hosted_dom_wait(dom, 10);
    }
    return -1;
}

/* Contract: prints one check and counts failures. */
static void verdict(const char *what, int ok)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
}

/* Contract: sends req and checks the answer's id and status. */
static void expect(const char *what, const void *req, size_t len, int status)
{
    blkif_response_t rsp;
    uint64_t id;

    memcpy(&id, (const uint8_t *)req + 8, sizeof(id));
    push_raw(req, len);
    if (next_response(&rsp) < 0) {
        verdict(what, 0);
        printf("     (no response)\n");
        return;
    }
    verdict(what, rsp.id == id && rsp.status == status);
    if (rsp.id != id || rsp.status != status)
        printf("     (id %llu status %d, wanted %d)\n",
               (unsigned long long)rsp.id, rsp.status, status);
}

/* Contract: a read of one full page through grant `ref` at `sector`. */
static blkif_request_t rd(uint64_t id, uint64_t sector, grant_ref_t ref)
{
    blkif_request_t r;

    memset(&r, 0, sizeof(r));
    r.operation = BLKIF_OP_READ;
    r.nr_segments = 1;
    r.id = id;
    r.sector_number = sector;
    r.seg[0].gref = ref;
    r.seg[0].last_sect = 7;
    return r;
}

/* Contract: grants one fresh page to `to` and returns the reference. */
static grant_ref_t grant_new(domid_t to, int ro, void **va)
{
    const struct pvf_os *os = dev.link.os;
    uint64_t frame;
    grant_ref_t ref = 0;
    void *p = os->pages_alloc(os->ctx, 1, &frame);

    if (!p || os->grant(os->ctx, to, frame, ro, &ref) < 0) {
        printf("FAIL cannot grant a page\n");
        exit(1);
    }
    if (va)
        *va = p;
    return ref;
}

/* Unknown ops, bad segment counts and sectors outside page or disk. */
static void simple_cases(void)
{
    blkif_request_t r = rd(1, 0, rw_ref);

    expect("valid read", &r, sizeof(r), BLKIF_RSP_OKAY);
    r.operation = BLKIF_OP_RESERVED_1;
    expect("reserved op -> EOPNOTSUPP", &r, sizeof(r), BLKIF_RSP_EOPNOTSUPP);
    r.operation = 0xee;
    expect("unknown op -> EOPNOTSUPP", &r, sizeof(r), BLKIF_RSP_EOPNOTSUPP);
    r = rd(2, 0, rw_ref);
    r.nr_segments = 0;
    expect("read with 0 segments", &r, sizeof(r), BLKIF_RSP_ERROR);
    r.nr_segments = 12;
    expect("read with 12 segments", &r, sizeof(r), BLKIF_RSP_ERROR);
    r = rd(3, 0, rw_ref);
    r.seg[0].first_sect = 6;
    r.seg[0].last_sect = 2;
    expect("first_sect > last_sect", &r, sizeof(r), BLKIF_RSP_ERROR);
    r.seg[0].first_sect = 0;
    r.seg[0].last_sect = 8;
    expect("last_sect outside the page", &r, sizeof(r), BLKIF_RSP_ERROR);
    r = rd(4, dev.sectors - 4, rw_ref);
    expect("read crossing the end of the disk", &r, sizeof(r), BLKIF_RSP_ERROR);
    r = rd(5, UINT64_MAX - 2, rw_ref);
    expect("sector number overflow", &r, sizeof(r), BLKIF_RSP_ERROR);
}

/* Grants out of the table, never granted, to another domain, read-only. */
static void grant_cases(void)
{
    blkif_request_t r = rd(10, 0, 0x7fffffff);

    expect("grant ref out of table", &r, sizeof(r), BLKIF_RSP_ERROR);
    r = rd(11, 0, 6);
    expect("reserved, never granted ref", &r, sizeof(r), BLKIF_RSP_ERROR);
    r = rd(12, 0, foreign_ref);
    expect("grant to another domain", &r, sizeof(r), BLKIF_RSP_ERROR);
    r = rd(13, 0, ro_ref);
    expect("read into a read-only grant", &r, sizeof(r), BLKIF_RSP_ERROR);
    r.operation = BLKIF_OP_WRITE;
    r.id = 14;
    expect("write from a read-only grant", &r, sizeof(r), BLKIF_RSP_OKAY);
}

/* Contract: an indirect request of n segments described by ind_page. */
static blkif_request_indirect_t ind(uint64_t id, unsigned n, grant_ref_t page_ref)
{
    blkif_request_indirect_t r;

    memset(&r, 0, sizeof(r));
    r.operation = BLKIF_OP_INDIRECT;
    r.indirect_op = BLKIF_OP_READ;
    r.nr_segments = (uint16_t)n;
    r.id = id;
    r.indirect_grefs[0] = page_ref;
    return r;
}

/* Broken indirect requests and an out-of-range discard. */
static void indirect_cases(void)
{
    blkif_request_indirect_t r;
    blkif_request_discard_t d;

    for (unsigned i = 0; i < 16; i++)
        ind_page[i] = (struct blkif_request_segment){ .gref = rw_ref, .last_sect = 7 };
    r = ind(20, 16, ind_ref);
    expect("valid indirect read", &r, sizeof(r), BLKIF_RSP_OKAY);
    r = ind(21, 0, ind_ref);
    expect("indirect with 0 segments", &r, sizeof(r), BLKIF_RSP_ERROR);
    r = ind(22, 4000, ind_ref);
    expect("indirect with 4000 segments", &r, sizeof(r), BLKIF_RSP_ERROR);
    r = ind(23, 16, 0x7ffffff0);
    expect("indirect page grant invalid", &r, sizeof(r), BLKIF_RSP_ERROR);
    ind_page[9].last_sect = 200;
    r = ind(24, 16, ind_ref);
    expect("indirect segment outside its page", &r, sizeof(r), BLKIF_RSP_ERROR);
    ind_page[9].last_sect = 7;
    ind_page[3].gref = 0x7fffff00;
    r = ind(25, 16, ind_ref);
    expect("indirect segment with a bad grant", &r, sizeof(r), BLKIF_RSP_ERROR);
    r = ind(26, 16, ind_ref);
    r.indirect_op = BLKIF_OP_DISCARD;
    expect("indirect discard", &r, sizeof(r), BLKIF_RSP_ERROR);
    memset(&d, 0, sizeof(d));
    d.operation = BLKIF_OP_DISCARD;
    d.id = 27;
    d.sector_number = dev.sectors - 1;
    d.nr_sectors = 2;
    expect("discard past the end", &d, sizeof(d), BLKIF_RSP_ERROR);
}

/* The request is rewritten with garbage right after the kick: whatever the
 * backend copied, it must answer once and stay up. */
static void race_case(void)
{
    blkif_request_t r = rd(30, 0, rw_ref);
    blkif_request_t *slot = RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt);
    blkif_response_t rsp;

    push_raw(&r, sizeof(r));
    for (int i = 0; i < 20000; i++) {
        slot->nr_segments = (uint8_t)i;
        slot->seg[0].gref = (grant_ref_t)i * 7919u;
        slot->sector_number = (uint64_t)i << 40;
        slot->operation = (uint8_t)i;
    }
    verdict("request rewritten during the kick is answered",
            next_response(&rsp) == 0);
}

/* A whole ring of valid requests at once is served completely. */
static void full_ring_case(void)
{
    unsigned n = RING_SIZE(&q->ring), good = 0;

    for (unsigned i = 0; i < n; i++) {
        blkif_request_t r = rd(100 + i, i * 8, rw_ref);

        memcpy(RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt), &r, sizeof(r));
        q->ring.req_prod_pvt++;
    }
    {
        int notify;

        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->ring, notify);
        dev.link.os->evtchn_notify(dev.link.os->ctx, q->port);
        (void)notify;
    }
    for (unsigned i = 0; i < n; i++) {
        blkif_response_t rsp;

        if (next_response(&rsp) == 0 && rsp.status == BLKIF_RSP_OKAY)
            good++;
    }
    verdict("a full ring of valid requests is served", good == n);
}

/* A producer index far ahead of the ring gets the device dropped. */
static void garbage_index_case(void)
{
    int st;

    q->ring.sring->req_prod += 5000;
    dev.link.os->evtchn_notify(dev.link.os->ctx, q->port);
    st = pvf_wait_state(dev.link.os, dev.link.backend, XenbusStateClosing,
                        XenbusStateClosed, 0, 5000);
    verdict("garbage producer index drops the device", st >= XenbusStateClosing);
}

int main(int argc, char **argv)
{
    struct blkfront_opts o = { .max_queues = 1, .ring_order = 0, .max_segs = 11 };
    char node[96];

    if (argc != 3) {
        fprintf(stderr, "usage: hostile-blk FE VDEV\n");
        return 1;
    }
    dom = hosted_dom_create((domid_t)atoi(argv[1]), 4096, 1);
    snprintf(node, sizeof(node), "/local/domain/%s/device/vbd/%s", argv[1], argv[2]);
    if (!dom || blkfront_init(&dev, hosted_dom_os(dom), node, &o) < 0 ||
        blkfront_connect(&dev, 15000) < 0) {
        printf("FAIL cannot connect %s\n", node);
        return 1;
    }
    q = &dev.q[0];
    rw_ref = grant_new(dev.link.backend_id, 0, NULL);
    ro_ref = grant_new(dev.link.backend_id, 1, NULL);
    foreign_ref = grant_new((domid_t)(dev.link.backend_id + 3), 0, NULL);
    ind_ref = grant_new(dev.link.backend_id, 0, (void **)&ind_page);
    simple_cases();
    grant_cases();
    indirect_cases();
    race_case();
    full_ring_case();
    garbage_index_case();
    pvf_switch_state(dev.link.os, dev.link.node, XenbusStateClosed);
    hosted_dom_destroy(dom);
    printf("hostile-blk: %d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
