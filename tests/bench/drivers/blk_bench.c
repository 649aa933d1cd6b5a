/*
 * blk_bench.c - block benchmark: the same workload through pvkit (portable
 * blkfront -> hosted transport -> pvkit-blkback -> file) and directly on
 * the same file (io_uring from this process, same queue depth, same sizes,
 * same page cache), measured back to back in one run.
 *   blk-bench FE VDEV DISK SECONDS
 * The pvkit side uses the frontend's zero-copy buffers (blkfront_buf_alloc),
 * as a guest that grants its own I/O pages would; the raw side reads and
 * writes ordinary buffers.  Prints, per workload, "blk <workload>: <value> <unit> (raw <value>,
 * ratio <r>)" for 4 KiB random read/write at queue depth 1 and 32 and
 * 1 MiB sequential read/write (queue depth 4).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <liburing.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "blkfront/blkfront.h"
#include "bench.h"
#include "hosted/hosted_dom.h"

#define MAXQD 32

struct workload {
    const char *name;
    uint32_t bytes;       /* per request */
    unsigned qd;
    int write, seq;
};

static const struct workload loads[] = {
    { "4k-randread-qd1", 4096, 1, 0, 0 },
    { "4k-randwrite-qd1", 4096, 1, 1, 0 },
    { "4k-randread-qd32", 4096, 32, 0, 0 },
    { "4k-randwrite-qd32", 4096, 32, 1, 0 },
    { "1m-seqread", 1 << 20, 4, 0, 1 },
    { "1m-seqwrite", 1 << 20, 4, 1, 1 },
};

static struct hosted_dom *dom;
static struct blkfront_dev dev;
static uint64_t disk_sectors, next_seq;
static unsigned done;
static uint8_t *bufs[MAXQD];
static struct blkfront_buf zbufs[MAXQD];

/* Contract: monotonic seconds. */
static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Contract: the next offset (in sectors) for workload w. */
static uint64_t next_sector(const struct workload *w)
{
    uint64_t span = disk_sectors - w->bytes / 512;

    if (w->seq) {
        uint64_t s = next_seq;

        next_seq = (next_seq + w->bytes / 512) % span;
        return s - s % (w->bytes / 512);
    }
    return ((uint64_t)rand() % (span / 8)) * 8;
}

/* Contract: counts a completion; any failed request aborts the run. */
static void on_done(void *arg, uint64_t cookie, int status)
{
    (void)arg;
    (void)cookie;
    if (status != BLKIF_RSP_OKAY) {
        fprintf(stderr, "blk-bench: request failed (%d)\n", status);
        exit(1);
    }
    done++;
}

/* Contract: runs w through pvkit for `secs`; returns requests per second. */
static double run_pvkit(const struct workload *w, double secs)
{
    unsigned inflight = 0, issued = 0;
    double t0 = now(), t;

    done = 0;
    next_seq = 0;
    do {
        while (inflight < w->qd) {
            if (blkfront_submit_buf(&dev, 0,
                                    w->write ? BLKIF_OP_WRITE : BLKIF_OP_READ,
                                    next_sector(w), &zbufs[issued % w->qd],
                                    w->bytes, issued) < 0)
                break;
            inflight++;
            issued++;
        }
        if (!blkfront_poll(&dev, 0, on_done, NULL))
            hosted_dom_wait(dom, 1);
        inflight = issued - done;
        t = now();
    } while (t - t0 < secs);
    while (done < issued) {
        if (!blkfront_poll(&dev, 0, on_done, NULL))
            hosted_dom_wait(dom, 1);
    }
    return done / (now() - t0);
}

/* Contract: runs w on the file directly with io_uring; requests per second. */
static double run_raw(const struct workload *w, int fd, double secs)
{
    struct io_uring ring;
    struct iovec iov[MAXQD];
    unsigned inflight = 0, count = 0, slot = 0;
    double t0 = now();

    next_seq = 0;
    if (io_uring_queue_init(64, &ring, 0) < 0)
        exit(1);
    while (now() - t0 < secs || inflight) {
        struct io_uring_cqe *cqe;

        while (inflight < w->qd && now() - t0 < secs) {
            struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
            off_t off = (off_t)(next_sector(w) * 512);

            iov[slot] = (struct iovec){ bufs[slot], w->bytes };
            if (w->write)
                io_uring_prep_writev(sqe, fd, &iov[slot], 1, off);
            else
                io_uring_prep_readv(sqe, fd, &iov[slot], 1, off);
            slot = (slot + 1) % MAXQD;
            inflight++;
        }
        io_uring_submit_and_wait(&ring, 1);
        while (io_uring_peek_cqe(&ring, &cqe) == 0) {
            if (cqe->res != (int)w->bytes)
                exit(1);
            io_uring_cqe_seen(&ring, cqe);
            inflight--;
            count++;
        }
    }
    io_uring_queue_exit(&ring);
    return count / (now() - t0);
}

/* Contract: prints one "blk" line (MB/s for 1 MiB, IOPS otherwise). */
static void report(const struct workload *w, double pv, double raw)
{
    if (w->bytes >= (1u << 20))
        printf("blk %s: %.0f MB/s (raw %.0f MB/s, ratio %.2f)\n", w->name,
               pv * w->bytes / 1e6, raw * w->bytes / 1e6, pv / raw);
    else
        printf("blk %s: %.0f IOPS (raw %.0f IOPS, ratio %.2f)\n", w->name, pv,
               raw, pv / raw);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct blkfront_opts o = { .max_queues = 1, .ring_order = 1, .max_segs = 256 };
    char node[96];
    double secs;
    int fd;

    secs = bench_seconds(argc, argv, 4, "blk-bench FE VDEV DISK SECONDS");
    dom = hosted_dom_create((domid_t)atoi(argv[1]), 65536, 1);
    snprintf(node, sizeof(node), "/local/domain/%s/device/vbd/%s", argv[1], argv[2]);
    fd = open(argv[3], O_RDWR);
    if (!dom || fd < 0 || blkfront_init(&dev, hosted_dom_os(dom), node, &o) < 0 ||
        blkfront_connect(&dev, 15000) < 0) {
        fprintf(stderr, "blk-bench: cannot connect %s\n", node);
        return 1;
    }
    disk_sectors = dev.sectors;
    for (unsigned i = 0; i < MAXQD; i++) {
        bufs[i] = aligned_alloc(4096, 1 << 20);
        memset(bufs[i], (int)i, 1 << 20);
        /* Only the 1 MiB workloads (queue depth 4) need large buffers. */
        if (blkfront_buf_alloc(&dev, &zbufs[i], i < 4 ? 256 : 1) < 0) {
            fprintf(stderr, "blk-bench: cannot allocate buffers\n");
            return 1;
        }
    }
    for (size_t i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
        double pv = run_pvkit(&loads[i], secs);
        double raw = run_raw(&loads[i], fd, secs);

        report(&loads[i], pv, raw);
    }
    for (unsigned i = 0; i < MAXQD; i++)
        blkfront_buf_free(&dev, &zbufs[i]);
    blkfront_disconnect(&dev, 15000);
    hosted_dom_destroy(dom);
    close(fd);
    return 0;
}
