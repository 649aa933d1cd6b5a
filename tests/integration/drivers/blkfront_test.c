/*
 * blkfront_test.c - an end-to-end block frontend for the hosted tests: the
 * portable blkfront core on the hosted glue, talking to pvkit-blkback in
 * another process through xenstore-lite.
 *   blkfront-test verify FE VDEV REF ROUNDS [QUEUES ORDER]
 *       REF must start as a copy of the disk.  Random writes of random
 *       sizes at random offsets (queue depth 8, spread over the queues),
 *       each also written with pwrite to REF; then the whole disk is read
 *       back through the frontend and compared with the expected bytes.
 *   blkfront-test flush FE VDEV DISK    write + flush back to back; after the
 *       flush is answered the data must already be in DISK.
 *   blkfront-test discard FE VDEV DISK  discard frees blocks and reads zero.
 *   blkfront-test readonly FE VDEV      writes refused, reads served.
 *   blkfront-test reconnect FE VDEV     data survives disconnect/connect.
 * Prints "blkfront-test MODE: ok" and exits 0, or a FAIL line and exits 1.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blkfront/blkfront.h"
#include "hosted/hosted_dom.h"

#define TIMEOUT_MS 15000
#define MAXREQ (256 * 4096)

static struct hosted_dom *dom;
static struct blkfront_dev dev;
static const char *mode;
static int done_count, bad_status;

#define CHECK(cond, ...) do { if (!(cond)) { fail(__VA_ARGS__); } } while (0)

/* Contract: prints the FAIL line and exits 1. */
static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
    va_list ap;

    printf("blkfront-test %s: FAIL: ", mode);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    exit(1);
}

/* Contract: counts a completion, remembering the last bad status. */
static void on_done(void *arg, uint64_t cookie, int status)
{
    (void)arg;
    (void)cookie;
    done_count++;
    if (status != BLKIF_RSP_OKAY)
        bad_status = status;
}

/* Contract: polls every queue until `want` completions are in. */
static void wait_done(int want)
{
    for (int spins = 0; done_count < want; spins++) {
        for (unsigned q = 0; q < dev.nr_queues; q++)
            blkfront_poll(&dev, q, on_done, NULL);
        if (done_count < want && !hosted_dom_wait(dom, 10) && spins > 2000)
            fail("timed out waiting for responses (%d of %d)", done_count, want);
    }
}

/* Contract: one synchronous request on queue 0; returns the status. */
static int io(uint8_t op, uint64_t sector, void *buf, uint32_t n)
{
    int rc;

    done_count = 0;
    bad_status = 0;
    rc = blkfront_submit(&dev, 0, op, sector, buf, n, 0);
    if (rc < 0)
        fail("submit op %u: %d", op, rc);
    wait_done(1);
    return bad_status;
}

/* Contract: joins the domain and connects disk VDEV with these options. */
static void start(const char *fe, const char *vdev, unsigned queues, unsigned order)
{
    struct blkfront_opts o = { .max_queues = queues, .ring_order = order,
                               .max_segs = 256 };
    char node[96];
    int rc;

    dom = hosted_dom_create((domid_t)atoi(fe), 65536, 1);
    CHECK(dom, "cannot create hosted domain %s", fe);
    snprintf(node, sizeof(node), "/local/domain/%s/device/vbd/%s", fe, vdev);
    rc = blkfront_init(&dev, hosted_dom_os(dom), node, &o);
    CHECK(rc == 0, "init %s: %d", node, rc);
    rc = blkfront_connect(&dev, TIMEOUT_MS);
    CHECK(rc == 0, "connect %s: %d", node, rc);
}

/* Contract: disconnects (must succeed) and releases the domain. */
static void stop(void)
{
    CHECK(blkfront_disconnect(&dev, TIMEOUT_MS) == 0, "disconnect timed out");
    hosted_dom_destroy(dom);
}

/* Contract: pseudo-random bytes. */
static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rand();
}

/* Contract: random I/O, mirrored to `ref`, then a full read-back compare. */
static void verify(const char *ref, int rounds)
{
    static uint8_t bufs[8][MAXREQ];
    uint64_t bytes = dev.sectors * 512;
    uint8_t *expect = calloc(1, bytes), *got = malloc(MAXREQ);
    int fd = open(ref, O_RDWR);

    CHECK(expect && got && fd >= 0, "cannot open %s", ref);
    CHECK(pread(fd, expect, bytes, 0) == (ssize_t)bytes, "reading %s", ref);
    for (int r = 0; r < rounds; r++) {
        uint64_t span = dev.sectors / 8;

        done_count = 0;
        for (unsigned k = 0; k < 8; k++) {
            uint32_t nsect = 1 + (uint32_t)(rand() % (dev.max_segs * 8));
            uint64_t sector = k * span + (uint64_t)rand() % (span - nsect);

            fill(bufs[k], nsect * 512);
            memcpy(expect + sector * 512, bufs[k], nsect * 512);
            CHECK(pwrite(fd, bufs[k], nsect * 512, (off_t)(sector * 512)) ==
                  (ssize_t)(nsect * 512), "pwrite ref");
            CHECK(blkfront_submit(&dev, k % dev.nr_queues, BLKIF_OP_WRITE,
                                  sector, bufs[k], nsect * 512, k) == 0,
                  "submit write");
        }
        wait_done(8);
        CHECK(bad_status == 0, "write failed with %d", bad_status);
    }
    for (uint64_t s = 0; s < dev.sectors; s += MAXREQ / 512) {
        CHECK(io(BLKIF_OP_READ, s, got, MAXREQ) == 0, "read at %llu",
              (unsigned long long)s);
        CHECK(memcmp(got, expect + s * 512, MAXREQ) == 0,
              "data mismatch in sectors %llu..+%u", (unsigned long long)s,
              MAXREQ / 512);
    }
    close(fd);
    free(expect);
    free(got);
}

/* Write then flush back to back: the data is in DISK when the flush answers. */
static void flush_test(const char *disk)
{
    static uint8_t data[MAXREQ], back[MAXREQ];
    int fd = open(disk, O_RDONLY);

    CHECK(dev.feat_flush, "backend offers no flush");
    fill(data, sizeof(data));
    done_count = 0;
    bad_status = 0;
    CHECK(blkfront_submit(&dev, 0, BLKIF_OP_WRITE, 2048, data, sizeof(data), 1) == 0,
          "submit write");
    CHECK(blkfront_submit(&dev, 0, BLKIF_OP_FLUSH_DISKCACHE, 0, NULL, 0, 2) == 0,
          "submit flush");
    wait_done(2);
    CHECK(bad_status == 0, "flush failed");
    CHECK(pread(fd, back, sizeof(back), 2048 * 512) == (ssize_t)sizeof(back),
          "pread");
    CHECK(memcmp(back, data, sizeof(data)) == 0, "flushed data not on disk");
    close(fd);
}

/* Discard frees blocks, reads back zero, and is refused past the end. */
static void discard_test(const char *disk)
{
    static uint8_t data[MAXREQ], zero[MAXREQ];
    struct stat a, b;

    CHECK(dev.feat_discard, "backend offers no discard");
    memset(data, 0xcd, sizeof(data));
    CHECK(io(BLKIF_OP_WRITE, 4096, data, sizeof(data)) == 0, "write");
    CHECK(io(BLKIF_OP_FLUSH_DISKCACHE, 0, NULL, 0) == 0, "flush");
    CHECK(stat(disk, &a) == 0, "stat");
    CHECK(io(BLKIF_OP_DISCARD, 4096, NULL, sizeof(data)) == 0, "discard");
    CHECK(stat(disk, &b) == 0 && b.st_blocks < a.st_blocks,
          "discard freed no blocks (%lld -> %lld)", (long long)a.st_blocks,
          (long long)b.st_blocks);
    CHECK(io(BLKIF_OP_READ, 4096, data, sizeof(data)) == 0, "read");
    CHECK(memcmp(data, zero, sizeof(zero)) == 0, "discarded range not zero");
    CHECK(io(BLKIF_OP_DISCARD, dev.sectors - 8, NULL, 8192) == BLKIF_RSP_ERROR,
          "discard past the end accepted");
}

/* A read-only disk says so, refuses writes and discard, serves reads. */
static void readonly_test(void)
{
    static uint8_t data[65536];

    CHECK(dev.info & VDISK_READONLY, "info lacks VDISK_READONLY");
    CHECK(io(BLKIF_OP_WRITE, 0, data, sizeof(data)) == BLKIF_RSP_ERROR,
          "write to a read-only disk accepted");
    CHECK(io(BLKIF_OP_READ, 0, data, sizeof(data)) == 0, "read refused");
    CHECK(blkfront_submit(&dev, 0, BLKIF_OP_DISCARD, 0, NULL, 4096, 0) ==
          -XEN_EOPNOTSUPP, "read-only disk offers discard");
}

/* Data written before a disconnect is read back after reconnecting. */
static void reconnect_test(void)
{
    static uint8_t data[MAXREQ], back[MAXREQ];

    fill(data, sizeof(data));
    CHECK(io(BLKIF_OP_WRITE, 100, data, sizeof(data)) == 0, "write");
    CHECK(blkfront_disconnect(&dev, TIMEOUT_MS) == 0, "disconnect");
    CHECK(blkfront_connect(&dev, TIMEOUT_MS) == 0, "reconnect");
    CHECK(io(BLKIF_OP_READ, 100, back, sizeof(back)) == 0, "read after reconnect");
    CHECK(memcmp(back, data, sizeof(data)) == 0, "data lost across reconnect");
}

int main(int argc, char **argv)
{
    mode = argc > 1 ? argv[1] : "?";
    if (argc < 4)
        fail("usage: blkfront-test MODE FE VDEV ...");
    srand(42);
    if (strcmp(mode, "verify") == 0 && argc >= 6) {
        start(argv[2], argv[3], argc > 6 ? (unsigned)atoi(argv[6]) : 1,
              argc > 7 ? (unsigned)atoi(argv[7]) : 0);
        verify(argv[4], atoi(argv[5]));
    } else if (strcmp(mode, "flush") == 0 && argc == 5) {
        start(argv[2], argv[3], 1, 0);
        flush_test(argv[4]);
    } else if (strcmp(mode, "discard") == 0 && argc == 5) {
        start(argv[2], argv[3], 1, 0);
        discard_test(argv[4]);
    } else if (strcmp(mode, "readonly") == 0) {
        start(argv[2], argv[3], 1, 0);
        readonly_test();
    } else if (strcmp(mode, "reconnect") == 0) {
        start(argv[2], argv[3], 1, 0);
        reconnect_test();
    } else {
        fail("bad arguments");
    }
    stop();
    printf("blkfront-test %s: ok\n", mode);
    return 0;
}
