/*
 * main.c - pvkit-netback: the network backend daemon.
 *
 * Usage: pvkit-netback [--transport xen|hosted] [--max-queues N]
 * It watches backend/vif under its own domain's home and serves every vif
 * the toolstack creates there, for any number of frontend domains, until
 * SIGINT or SIGTERM; tap devices are created in the daemon's network
 * namespace.  The xenbus-backend core (core/xbback.c) runs the daemon and
 * the store side; this file holds netback's option (range-checked, cli.h)
 * and its default.  Each connected queue has its own thread (nqueue.c).
 * Exit status: 0 after a signal or --help, 1 if setup failed, 2 on a usage
 * error (unknown option, stray argument, a number out of its range, a
 * missing hosted directory or store socket: one line each).
 */
#define _GNU_SOURCE
#include "netback.h"
#include "common/cli.h"

#include <stdio.h>

#define PROG "pvkit-netback"
#define USAGE "usage: " PROG " [--transport xen|hosted] [--max-queues N]\n"

/* Contract: prints the usage and what each option allows on stdout. */
static void usage(void)
{
    printf(USAGE
           "  --transport xen|hosted  xen (dom0 devices, default) or hosted (needs\n"
           "                          XENSTORED_PATH and PVKIT_HOSTED_DIR)\n"
           "  --max-queues N          queue pairs per vif offered, 1..%u (default 4)\n"
           "  -h, --help              this text\n"
           "Exit status: 0 after SIGINT/SIGTERM or --help, 1 if setup failed,\n"
           "2 on a usage error.\n", NETBACK_MAX_QUEUES);
}

/* Contract: takes --max-queues; a value out of range exits 2. */
static void option(void *ctx, int c, const char *arg)
{
    struct xbb_backend *nb = ctx;

    if (c == 'q')
        nb->max_queues = (unsigned)pvk_cli_num(PROG, "--max-queues", arg,
                                               1, NETBACK_MAX_QUEUES);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "max-queues", required_argument, NULL, 'q' },
        { NULL, 0, NULL, 0 },
    };
    static const struct pvk_cli cli = {
        .prog = PROG, .options = opts, .usage = usage, .option = option,
    };
    struct xbb_backend nb = { .cls = &vif_class, .max_queues = 4 };

    return xbb_main(&nb, &cli, argc, argv);
}
