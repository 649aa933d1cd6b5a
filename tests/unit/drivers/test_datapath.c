/*
 * test_datapath.c - cmocka tests of the block data path end to end inside
 * one process: the portable blkfront core (on the hosted glue) talks to a
 * blkback queue thread (backends/blkback/queue.c) over the hosted transport
 * (memfd grants, socket event channels), without a store: the handshake is
 * replaced by wiring the ring references and port directly.  Covers random
 * bit-exact I/O (direct and indirect, persistent and not, one- and
 * multi-page rings, queue depth > 1), the persistent cache's size, flush ordering, writes to a file
 * done without an io_uring worker thread, discard, read-only
 * refusal and the "garbage ring index" kill switch.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "blkback/blkback.h"
#include "blkfront/blkfront.h"
#include "hosted/hosted_dom.h"

#define DISK_BYTES (8u << 20)
#define DISK_SECTORS (DISK_BYTES / 512)

struct rig {
    char dir[64], file[96];
    struct hosted_dom *dom;
    struct blkback bb;
    struct vbd v;
    struct vbd_queue q;
    struct blkfront_dev dev;
    uint8_t *shadow;
    int done, status;
};

static struct rig *current;    /* the live rig, freed by teardown if a test fails */

/* Contract: builds a connected frontend/backend pair with these options. */
static struct rig *rig_new(int persistent, unsigned order, int readonly)
{
    struct rig *r = calloc(1, sizeof(*r));
    int fd;

    strcpy(r->dir, "/tmp/pvk-unit-XXXXXX");
    assert_non_null(mkdtemp(r->dir));
    setenv("PVKIT_HOSTED_DIR", r->dir, 1);
    snprintf(r->file, sizeof(r->file), "%s/disk.img", r->dir);
    fd = open(r->file, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0 && ftruncate(fd, DISK_BYTES) == 0);
    r->shadow = calloc(1, DISK_BYTES);
    r->dom = hosted_dom_create(7, 16384, 0);
    assert_non_null(r->dom);
    r->bb.core.cls = &vbd_class;
    r->bb.core.t = pvk_transport_open("hosted");
    assert_non_null(r->bb.core.t);
    r->bb.core.wake_fd = eventfd(0, EFD_NONBLOCK);
    r->bb.max_persistent = persistent ? 8224 : 0;   /* the daemon's default */
    r->v.dev.be = &r->bb.core;
    r->v.dev.fe_domid = 7;
    r->v.fd = fd;
    r->v.lim = (struct blkreq_limits){ .sectors = DISK_SECTORS,
        .max_indirect_segs = 256, .readonly = (uint8_t)readonly, .flush = 1,
        .discard = 1 };
    r->v.persistent = persistent;
    r->v.nr_queues = 1;
    r->dev.link.os = hosted_dom_os(r->dom);
    r->dev.link.backend_id = 0;
    r->dev.vdev = 51712;
    r->dev.nr_queues = 1;
    r->dev.ring_order = order;
    r->dev.max_segs = 256;
    r->dev.feat_flush = r->dev.feat_discard = 1;
    assert_int_equal(blkfront_rings_alloc(&r->dev), 0);
    r->q.vbd = &r->v;
    r->q.nr_ring_pages = 1u << order;
    memcpy(r->q.ring_refs, r->dev.q[0].ring_ref, sizeof(r->q.ring_refs));
    r->q.port = r->dev.q[0].port;
    assert_int_equal(queue_start(&r->q), 0);
    current = r;
    return r;
}

/* Contract: stops the queue and removes everything rig_new made. */
static void rig_free(struct rig *r)
{
    char cmd[128];

    queue_stop(&r->q);
    blkfront_rings_free(&r->dev);
    hosted_dom_destroy(r->dom);
    pvk_transport_close(r->bb.core.t);
    close(r->bb.core.wake_fd);
    close(r->v.fd);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
    free(r->shadow);
    free(r);
    current = NULL;
    assert_int_equal(system(cmd), 0);
}

/* Contract: cmocka teardown: releases the rig a failed test left behind. */
static int teardown(void **state)
{
    (void)state;
    if (current)
        rig_free(current);
    return 0;
}

/* Contract: counts a completion, remembering a bad status. */
static void on_done(void *arg, uint64_t cookie, int status)
{
    struct rig *r = arg;

    (void)cookie;
    r->done++;
    if (status != BLKIF_RSP_OKAY)
        r->status = status;
}

/* Contract: waits until `want` completions arrived (5 s limit). */
static void wait_done(struct rig *r, int want)
{
    for (int spins = 0; r->done < want && spins < 5000; spins++) {
        blkfront_poll(&r->dev, 0, on_done, r);
        if (r->done < want)
            hosted_dom_wait(r->dom, 1);
    }
    assert_int_equal(r->done, want);
}

/* Contract: one synchronous request; returns its status. */
static int io(struct rig *r, uint8_t op, uint64_t sector, void *buf, uint32_t n)
{
    r->done = 0;
    r->status = BLKIF_RSP_OKAY;
    assert_int_equal(blkfront_submit(&r->dev, 0, op, sector, buf, n, 1), 0);
    wait_done(r, 1);
    return r->status;
}

/* Contract: random writes (batches of non-overlapping requests) then checks. */
static void random_io(struct rig *r, int rounds, unsigned depth)
{
    static uint8_t bufs[8][256 * 4096];
    uint8_t *check = malloc(DISK_BYTES);
    uint8_t *file = malloc(DISK_BYTES);
    int fd;

    for (int round = 0; round < rounds; round++) {
        uint64_t lo = 0;

        r->done = 0;
        r->status = BLKIF_RSP_OKAY;
        for (unsigned k = 0; k < depth; k++) {
            uint32_t nsect = 1 + (uint32_t)(rand() % (256 * 8));
            uint64_t span = DISK_SECTORS / depth;
            uint64_t sector = lo + (uint64_t)rand() % (span - nsect);

            lo += span;
            for (uint32_t i = 0; i < nsect * 512; i++)
                bufs[k][i] = (uint8_t)rand();
            memcpy(r->shadow + sector * 512, bufs[k], nsect * 512);
            assert_int_equal(blkfront_submit(&r->dev, 0, BLKIF_OP_WRITE, sector,
                                             bufs[k], nsect * 512, k), 0);
        }
        wait_done(r, (int)depth);
        assert_int_equal(r->status, BLKIF_RSP_OKAY);
    }
    for (uint64_t s = 0; s < DISK_SECTORS; s += 2048)
        assert_int_equal(io(r, BLKIF_OP_READ, s, check + s * 512, 2048 * 512), 0);
    assert_memory_equal(check, r->shadow, DISK_BYTES);
    fd = open(r->file, O_RDONLY);
    assert_int_equal(pread(fd, file, DISK_BYTES, 0), DISK_BYTES);
    close(fd);
    assert_memory_equal(file, r->shadow, DISK_BYTES);
    free(check);
    free(file);
}

/* Random I/O with persistent grants on a one-page ring. */
static void rw_persistent_one_page(void **state)
{
    struct rig *r = rig_new(1, 0, 0);

    (void)state;
    srand(1);
    random_io(r, 40, 1);
    random_io(r, 20, 8);
    assert_int_equal(r->dev.bad_responses, 0);
    rig_free(r);
}

/* The persistent cache takes a full ring of the largest requests (slots x
 * (256 segments + 1 indirect page) = 8224 for a one-page ring), within the
 * disk's --max-persistent: a 4-page ring would want 128 x 257, and gets the
 * disk's 8224; a disk with 4 rings gives each a quarter. */
static void persistent_cache_sized_by_ring(void **state)
{
    struct rig *r = rig_new(1, 0, 0);

    (void)state;
    assert_int_equal(r->q.pc.max, 32 * (256 + 1));
    srand(4);
    random_io(r, 4, 8);
    rig_free(r);
    r = rig_new(1, 2, 0);
    assert_int_equal(r->q.pc.max, 8224);
    queue_stop(&r->q);
    r->v.nr_queues = 4;
    assert_int_equal(queue_start(&r->q), 0);
    assert_int_equal(r->q.pc.max, 8224 / 4);
    random_io(r, 2, 8);
    rig_free(r);
}

/* Random I/O with per-request mappings on a four-page ring. */
static void rw_mapped_multipage(void **state)
{
    struct rig *r = rig_new(0, 2, 0);

    (void)state;
    srand(2);
    assert_int_equal(RING_SIZE(&r->dev.q[0].ring), 128);
    random_io(r, 20, 8);
    rig_free(r);
}

/* A write and a flush queued back to back: once the flush is answered the
 * write must be complete and in the backing file. */
static void flush_orders_writes(void **state)
{
    struct rig *r = rig_new(1, 0, 0);
    static uint8_t data[1 << 20], back[1 << 20];
    int fd;

    (void)state;
    memset(data, 0x5a, sizeof(data));
    r->done = 0;
    r->status = 0;
    assert_int_equal(blkfront_submit(&r->dev, 0, BLKIF_OP_WRITE, 4096, data,
                                     sizeof(data), 1), 0);
    assert_int_equal(blkfront_submit(&r->dev, 0, BLKIF_OP_FLUSH_DISKCACHE, 0,
                                     NULL, 0, 2), 0);
    wait_done(r, 2);
    assert_int_equal(r->status, BLKIF_RSP_OKAY);
    fd = open(r->file, O_RDONLY);
    assert_int_equal(pread(fd, back, sizeof(back), 4096 * 512), sizeof(back));
    close(fd);
    assert_memory_equal(back, data, sizeof(data));
    rig_free(r);
}

/* Contract: the number of io_uring worker threads ("iou-wrk-*") of this process. */
static int uring_workers(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d))) {
        char path[300], comm[32] = "";
        FILE *f;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;       /* the thread ended meanwhile */
        if (fgets(comm, sizeof(comm), f) && strncmp(comm, "iou-wrk", 7) == 0)
            n++;
        fclose(f);
    }
    closedir(d);
    return n;
}

/* Writes to a regular file are done by the queue thread itself: no io_uring
 * worker thread appears (a kernel that cannot write a regular file's page
 * cache without blocking hands each io_uring write to one; this host's
 * does, for ext4 and tmpfs), and the data is in the file when answered. */
static void file_writes_stay_in_queue_thread(void **state)
{
    struct rig *r = rig_new(1, 0, 0);
    static uint8_t data[128 * 1024], back[128 * 1024];
    int fd;

    (void)state;
    /* an earlier test's queue thread may have had workers: they end with it */
    for (int i = 0; i < 200 && uring_workers(); i++)
        usleep(10000);
    assert_int_equal(uring_workers(), 0);
    for (unsigned i = 0; i < 32; i++) {
        memset(data, (int)(i + 1), sizeof(data));
        assert_int_equal(io(r, BLKIF_OP_WRITE, i * 256, data, sizeof(data)), 0);
    }
    assert_int_equal(uring_workers(), 0);
    fd = open(r->file, O_RDONLY);
    for (unsigned i = 0; i < 32; i++) {
        memset(data, (int)(i + 1), sizeof(data));
        assert_int_equal(pread(fd, back, sizeof(back), (off_t)i * 256 * 512),
                         sizeof(back));
        assert_memory_equal(back, data, sizeof(data));
    }
    close(fd);
    rig_free(r);
}

/* Discard frees blocks and reads back zero. */
static void discard_punches_hole(void **state)
{
    struct rig *r = rig_new(1, 0, 0);
    static uint8_t data[256 * 1024], back[256 * 1024], zero[256 * 1024];
    struct stat before, after;

    (void)state;
    memset(data, 0xab, sizeof(data));
    assert_int_equal(io(r, BLKIF_OP_WRITE, 1024, data, sizeof(data)), 0);
    assert_int_equal(io(r, BLKIF_OP_FLUSH_DISKCACHE, 0, NULL, 0), 0);
    assert_int_equal(stat(r->file, &before), 0);
    assert_int_equal(io(r, BLKIF_OP_DISCARD, 1024, NULL, sizeof(data)), 0);
    assert_int_equal(stat(r->file, &after), 0);
    assert_true(after.st_blocks < before.st_blocks);
    assert_int_equal(io(r, BLKIF_OP_READ, 1024, back, sizeof(back)), 0);
    assert_memory_equal(back, zero, sizeof(zero));
    assert_int_equal(io(r, BLKIF_OP_DISCARD, DISK_SECTORS - 1, NULL, 1024),
                     BLKIF_RSP_ERROR);
    rig_free(r);
}

/* A read-only vbd refuses writes and out-of-range reads. */
/* Zero-copy buffers: written and read in place, and agree with bounce I/O. */
static void zero_copy_buffers(void **state)
{
    struct rig *r = rig_new(1, 0, 0);
    static uint8_t back[64 * 4096];
    struct blkfront_buf b;

    (void)state;
    assert_int_equal(blkfront_buf_alloc(&r->dev, &b, 64), 0);
    for (unsigned i = 0; i < sizeof(back); i++)
        ((uint8_t *)b.va)[i] = (uint8_t)(i * 7 + 1);
    r->done = 0;
    assert_int_equal(blkfront_submit_buf(&r->dev, 0, BLKIF_OP_WRITE, 512, &b,
                                         sizeof(back), 1), 0);
    wait_done(r, 1);
    assert_int_equal(r->status, 0);
    assert_int_equal(io(r, BLKIF_OP_READ, 512, back, sizeof(back)), 0);
    assert_memory_equal(back, b.va, sizeof(back));
    memset(b.va, 0, sizeof(back));
    r->done = 0;
    assert_int_equal(blkfront_submit_buf(&r->dev, 0, BLKIF_OP_READ, 512, &b,
                                         sizeof(back), 2), 0);
    wait_done(r, 1);
    assert_memory_equal(back, b.va, sizeof(back));
    assert_int_equal(blkfront_submit_buf(&r->dev, 0, BLKIF_OP_READ, 0, &b,
                                         65 * 4096, 3), -XEN_EINVAL);
    blkfront_buf_free(&r->dev, &b);
    rig_free(r);
}

static void readonly_refuses(void **state)
{
    struct rig *r = rig_new(1, 0, 1);
    static uint8_t data[8192];

    (void)state;
    assert_int_equal(io(r, BLKIF_OP_WRITE, 0, data, sizeof(data)), BLKIF_RSP_ERROR);
    assert_int_equal(io(r, BLKIF_OP_READ, 0, data, sizeof(data)), BLKIF_RSP_OKAY);
    assert_int_equal(io(r, BLKIF_OP_READ, DISK_SECTORS - 8, data, sizeof(data)),
                     BLKIF_RSP_ERROR);
    rig_free(r);
}

/* A corrupt producer index marks the vbd failed. */
/* Responses naming unknown or idle slots are counted and ignored. */
static void bogus_responses_ignored(void **state)
{
    struct rig *r = rig_new(1, 0, 0);
    struct blkfront_queue *q = &r->dev.q[0];
    static uint8_t data[4096];

    (void)state;
    assert_int_equal(io(r, BLKIF_OP_READ, 0, data, sizeof(data)), 0);
    for (unsigned i = 0; i < 2; i++) {
        blkif_response_t *rsp = RING_GET_RESPONSE(&q->ring, q->ring.sring->rsp_prod);

        rsp->id = i == 0 ? 9999 : 3;      /* out of range, then an idle slot */
        rsp->operation = BLKIF_OP_READ;
        rsp->status = BLKIF_RSP_OKAY;
        q->ring.sring->rsp_prod++;
    }
    r->done = 0;
    assert_int_equal(blkfront_poll(&r->dev, 0, on_done, r), 2);
    assert_int_equal(r->done, 0);
    assert_int_equal(r->dev.bad_responses, 2);
    assert_int_equal(blkfront_inflight(&r->dev, 0), 0);
    rig_free(r);
}

static void garbage_index_drops_device(void **state)
{
    struct rig *r = rig_new(1, 0, 0);
    static uint8_t data[4096];

    (void)state;
    assert_int_equal(io(r, BLKIF_OP_READ, 0, data, sizeof(data)), 0);
    r->dev.q[0].ring.sring->req_prod += 1000;
    r->dev.link.os->evtchn_notify(r->dev.link.os->ctx, r->dev.q[0].port);
    for (int i = 0; i < 2000 && !atomic_load(&r->v.dev.failed); i++)
        usleep(1000);
    assert_true(atomic_load(&r->v.dev.failed));
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(rw_persistent_one_page, teardown),
        cmocka_unit_test_teardown(persistent_cache_sized_by_ring, teardown),
        cmocka_unit_test_teardown(rw_mapped_multipage, teardown),
        cmocka_unit_test_teardown(flush_orders_writes, teardown),
        cmocka_unit_test_teardown(file_writes_stay_in_queue_thread, teardown),
        cmocka_unit_test_teardown(discard_punches_hole, teardown),
        cmocka_unit_test_teardown(zero_copy_buffers, teardown),
        cmocka_unit_test_teardown(readonly_refuses, teardown),
        cmocka_unit_test_teardown(bogus_responses_ignored, teardown),
        cmocka_unit_test_teardown(garbage_index_drops_device, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
