/*
 * main.c - pvkit-blkback: the block backend daemon.
 *
 * Usage: pvkit-blkback [--transport xen|hosted] [--max-queues N]
 *        [--max-ring-order N] [--max-indirect N] [--max-persistent N]
 * It watches backend/vbd under its own domain's home and serves every
 * device the toolstack creates there, for any number of frontend domains,
 * until SIGINT or SIGTERM.  The xenbus-backend core (core/xbback.c) runs
 * the daemon and the store side; this file holds blkback's options (each
 * range-checked, cli.h) and their defaults.  Each connected ring has its
 * own thread (queue.c).  Exit status: 0 after a signal or --help, 1 if
 * setup failed, 2 on a usage error (unknown option, stray argument, a
 * number out of its range, a missing hosted directory or store socket:
 * one line each).
 */
#define _GNU_SOURCE
#include "blkback.h"
#include "common/cli.h"

#include <stdio.h>
#include <stdlib.h>

#define PROG "pvkit-blkback"
#define USAGE "usage: " PROG " [--transport xen|hosted] [--max-queues N] " \
              "[--max-ring-order N] [--max-indirect N] [--max-persistent N]\n"
#define MAX_PERSISTENT_LIMIT 32768u
/* 32 slots x (256 segments + 1 indirect page) */
#define DEFAULT_PERSISTENT   8224u

/* Contract: prints the usage and what each option allows on stdout. */
static void usage(void)
{
    printf(USAGE
           "  --transport xen|hosted  xen (dom0 devices, default) or hosted (needs\n"
           "                          XENSTORED_PATH and PVKIT_HOSTED_DIR)\n"
           "  --max-queues N          rings per disk offered, 1..16 (default 4)\n"
           "  --max-ring-order N      log2 of ring pages offered, 0..%u (default %u)\n"
           "  --max-indirect N        indirect segments per request, 0 (off) or\n"
           "                          %u..%u (default %u)\n"
           "  --max-persistent N      persistent grants per disk (shared by its\n"
           "                          rings), 0 (off)..%u (default %u: a one-page\n"
           "                          ring full of 256-segment requests)\n"
           "  -h, --help              this text\n"
           "Exit status: 0 after SIGINT/SIGTERM or --help, 1 if setup failed,\n"
           "2 on a usage error.\n",
           PVK_MAX_RING_ORDER, PVK_MAX_RING_ORDER,
           BLKIF_MAX_SEGMENTS_PER_REQUEST + 1, PVK_BLK_MAX_INDIRECT_SEGS,
           PVK_BLK_MAX_INDIRECT_SEGS, MAX_PERSISTENT_LIMIT, DEFAULT_PERSISTENT);
}

/* Contract: takes one blkback option; a value out of range exits 2. */
static void option(void *ctx, int c, const char *arg)
{
    struct xbb_backend *be = ctx;
    struct blkback *bb = xbb_container_of(be, struct blkback, core);

    switch (c) {
    case 'q':
        be->max_queues = (unsigned)pvk_cli_num(PROG, "--max-queues", arg, 1, 16);
        break;
    case 'o':
        bb->max_ring_order = (unsigned)pvk_cli_num(PROG, "--max-ring-order",
                                                   arg, 0, PVK_MAX_RING_ORDER);
        break;
    case 'i':
        bb->max_indirect = (unsigned)pvk_cli_num(PROG, "--max-indirect", arg,
                                                 0, PVK_BLK_MAX_INDIRECT_SEGS);
        if (bb->max_indirect > 0 &&
            bb->max_indirect <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
            /* Not more than a direct request carries: meaningless. */
            fprintf(stderr, PROG ": --max-indirect %s: out of range "
                    "(allowed 0 or %u..%u)\n", arg,
                    BLKIF_MAX_SEGMENTS_PER_REQUEST + 1, PVK_BLK_MAX_INDIRECT_SEGS);
            exit(2);
        }
        break;
    case 'p':
        bb->max_persistent = (unsigned)pvk_cli_num(PROG, "--max-persistent",
                                                   arg, 0, MAX_PERSISTENT_LIMIT);
        break;
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "max-queues", required_argument, NULL, 'q' },
        { "max-ring-order", required_argument, NULL, 'o' },
        { "max-indirect", required_argument, NULL, 'i' },
        { "max-persistent", required_argument, NULL, 'p' },
        { NULL, 0, NULL, 0 },
    };
    static const struct pvk_cli cli = {
        .prog = PROG, .options = opts, .usage = usage, .option = option,
    };
    struct blkback bb = {
        .core = { .cls = &vbd_class, .max_queues = 4 },
        .max_ring_order = PVK_MAX_RING_ORDER,
        .max_indirect = PVK_BLK_MAX_INDIRECT_SEGS,
        .max_persistent = DEFAULT_PERSISTENT,
    };

    return xbb_main(&bb.core, &cli, argc, argv);
}
