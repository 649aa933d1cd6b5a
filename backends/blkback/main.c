/*
 * main.c - pvkit-blkback: the block backend daemon.
 *
 * Usage: pvkit-blkback [--transport xen|hosted] [--max-queues N]
 *        [--max-ring-order N] [--max-indirect N] [--max-persistent N]
 * It watches backend/vbd under its own domain's home and serves every
 * device the toolstack creates there, for any number of frontend domains,
 * until SIGINT or SIGTERM.  The main thread runs only the store side
 * (watch events, handshakes); each connected ring has its own thread
 * (queue.c).  Exit status: 0 after a signal or --help, 1 if setup failed,
 * 2 on a usage error (unknown option, stray argument, a number out of its
 * range, a missing hosted directory or store socket: one line each).
 */
#define _GNU_SOURCE
#include "blkback.h"
#include "../common/cli.h"
#include "../common/log.h"
#include "../common/xsutil.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define WATCH_ROOT "vbd"

/* Contract: finds the vbd for (fe, id) in the list; NULL if none. */
static struct vbd *find(struct blkback *bb, domid_t fe, unsigned id)
{
    for (struct vbd *v = bb->vbds; v; v = v->next)
        if (v->fe_domid == fe && v->devid == id)
            return v;
    return NULL;
}

/* Contract: unlinks and destroys `v`. */
static void forget(struct blkback *bb, struct vbd *v)
{
    struct vbd **pp = &bb->vbds;

    while (*pp != v)
        pp = &(*pp)->next;
    *pp = v->next;
    vbd_destroy(v);
}

/* Contract: brings device (fe, id) up to date, creating or removing it. */
static void device_changed(struct blkback *bb, domid_t fe, unsigned id)
{
    struct vbd *v = find(bb, fe, id);
    char path[160];

    snprintf(path, sizeof(path), "%s/%u/%u", bb->root, fe, id);
    if (xsu_state(bb->xs, path) < 0) {
        if (v)
            forget(bb, v);
        return;
    }
    if (!v) {
        v = vbd_create(bb, fe, id);
        if (!v)
            return;
        v->next = bb->vbds;
        bb->vbds = v;
    }
    vbd_update(v);
}

/* Contract: parses "<root>/<fe>/<id>[/...]"; 0 on success. */
static int parse_dev_path(const struct blkback *bb, const char *path,
                          unsigned *fe, unsigned *id)
{
    size_t n = strlen(bb->root);
    char *end;
    unsigned long a, b;

    if (strncmp(path, bb->root, n) != 0 || path[n] != '/')
        return -1;
    a = strtoul(path + n + 1, &end, 10);
    if (*end != '/' || a > 0x7fef)
        return -1;
    b = strtoul(end + 1, &end, 10);
    if ((*end != '/' && *end != '\0') || b > UINT32_MAX)
        return -1;
    *fe = (unsigned)a;
    *id = (unsigned)b;
    return 0;
}

/* Contract: visits every device under the root (initial watch fire). */
static void scan_all(struct blkback *bb)
{
    unsigned nfe = 0;
    char **fes = xs_directory(bb->xs, XBT_NULL, bb->root, &nfe);

    for (unsigned i = 0; fes && i < nfe; i++) {
        char dir[128];
        unsigned nid = 0;
        char **ids;

        snprintf(dir, sizeof(dir), "%s/%s", bb->root, fes[i]);
        ids = xs_directory(bb->xs, XBT_NULL, dir, &nid);
        for (unsigned j = 0; ids && j < nid; j++)
            device_changed(bb, (domid_t)strtoul(fes[i], NULL, 10),
                           (unsigned)strtoul(ids[j], NULL, 10));
        free(ids);
    }
    free(fes);
}

/* Contract: dispatches one watch event. */
static void on_watch(struct blkback *bb, const char *path, const char *token)
{
    unsigned fe, id;

    if (strcmp(token, WATCH_ROOT) != 0) {
        for (struct vbd *v = bb->vbds; v; v = v->next)
            if (strcmp(v->path, token) == 0) {
                device_changed(bb, v->fe_domid, v->devid);
                return;
            }
        return;
    }
    if (parse_dev_path(bb, path, &fe, &id) == 0)
        device_changed(bb, (domid_t)fe, id);
    else if (strcmp(path, bb->root) == 0)
        scan_all(bb);
}

/* Contract: drains the store's watch queue. */
static void drain_watches(struct blkback *bb)
{
    char **ev;

    while ((ev = xs_check_watch(bb->xs)) != NULL) {
        on_watch(bb, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
        free(ev);
    }
}

/* Contract: handles devices whose queues reported a broken ring. */
static void handle_failures(struct blkback *bb)
{
    uint64_t n;

    if (read(bb->wake_fd, &n, sizeof(n)) < 0)
        return;
    for (struct vbd *v = bb->vbds; v; v = v->next)
        if (atomic_load(&v->failed))
            vbd_update(v);
}

#define PROG "pvkit-blkback"
#define USAGE "usage: " PROG " [--transport xen|hosted] [--max-queues N] " \
              "[--max-ring-order N] [--max-indirect N] [--max-persistent N]\n"
#define MAX_PERSISTENT_LIMIT 32768u

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
           "  --max-persistent N      persistent grants per ring, 0 (off)..%u\n"
           "                          (default 2048)\n"
           "  -h, --help              this text\n"
           "Exit status: 0 after SIGINT/SIGTERM or --help, 1 if setup failed,\n"
           "2 on a usage error.\n",
           PVK_MAX_RING_ORDER, PVK_MAX_RING_ORDER,
           BLKIF_MAX_SEGMENTS_PER_REQUEST + 1, PVK_BLK_MAX_INDIRECT_SEGS,
           PVK_BLK_MAX_INDIRECT_SEGS, MAX_PERSISTENT_LIMIT);
}

/*
 * Contract: parses options into bb; --help prints the usage and exits 0;
 * an unknown option, a stray argument or a value out of its range is one
 * line on stderr and exit 2 (cli.h).
 */
static const char *parse_args(int argc, char **argv, struct blkback *bb)
{
    static const struct option opts[] = {
        { "transport", required_argument, NULL, 't' },
        { "max-queues", required_argument, NULL, 'q' },
        { "max-ring-order", required_argument, NULL, 'o' },
        { "max-indirect", required_argument, NULL, 'i' },
        { "max-persistent", required_argument, NULL, 'p' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *kind = "xen";
    int c;

    bb->max_queues = 4;
    bb->max_ring_order = PVK_MAX_RING_ORDER;
    bb->max_indirect = PVK_BLK_MAX_INDIRECT_SEGS;
    bb->max_persistent = 2048;
    opterr = 0;   /* pvk_cli_bad_option says it in one line */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't': kind = optarg; pvk_cli_transport(PROG, kind); break;
        case 'q':
            bb->max_queues = (unsigned)pvk_cli_num(PROG, "--max-queues", optarg, 1, 16);
            break;
        case 'o':
            bb->max_ring_order = (unsigned)pvk_cli_num(PROG, "--max-ring-order",
                                                       optarg, 0, PVK_MAX_RING_ORDER);
            break;
        case 'i':
            bb->max_indirect = (unsigned)pvk_cli_num(PROG, "--max-indirect", optarg,
                                                     0, PVK_BLK_MAX_INDIRECT_SEGS);
            if (bb->max_indirect > 0 &&
                bb->max_indirect <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
                /* Not more than a direct request carries: meaningless. */
                fprintf(stderr, PROG ": --max-indirect %s: out of range "
                        "(allowed 0 or %u..%u)\n", optarg,
                        BLKIF_MAX_SEGMENTS_PER_REQUEST + 1, PVK_BLK_MAX_INDIRECT_SEGS);
                exit(2);
            }
            break;
        case 'p':
            bb->max_persistent = (unsigned)pvk_cli_num(PROG, "--max-persistent",
                                                       optarg, 0, MAX_PERSISTENT_LIMIT);
            break;
        case 'h': usage(); exit(0);
        default:
            pvk_cli_bad_option(PROG, c, argv);
        }
    }
    pvk_cli_no_args(PROG, argc, argv, optind);
    pvk_cli_hosted_env(PROG, kind);
    return kind;
}

/* Contract: opens transport, store and watches; 0 or -1 with a message. */
static int setup(struct blkback *bb, const char *kind)
{
    bb->t = pvk_transport_open(kind);
    if (!bb->t) {
        pvk_err("transport %s: %s: %s", kind, pvk_transport_failed_on(),
                strerror(errno));
        return -1;
    }
    bb->xs = pvk_store_open(bb->t);
    if (!bb->xs) {
        pvk_err("cannot connect to xenstore at %s: %s",
                pvk_transport_failed_on(), strerror(errno));
        return -1;
    }
    snprintf(bb->root, sizeof(bb->root), "/local/domain/%u/backend/vbd",
             pvk_transport_self(bb->t));
    bb->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (xs_fileno(bb->xs) < 0 || bb->wake_fd < 0 ||
        !xs_watch(bb->xs, bb->root, WATCH_ROOT)) {
        pvk_err("cannot watch %s: %s", bb->root, strerror(errno));
        return -1;
    }
    return 0;
}

/* Contract: serves until a termination signal arrives. */
static void run(struct blkback *bb, int sfd)
{
    struct pollfd p[3] = {
        { .fd = xs_fileno(bb->xs), .events = POLLIN },
        { .fd = bb->wake_fd, .events = POLLIN },
        { .fd = sfd, .events = POLLIN },
    };

    for (;;) {
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            return;
        if (p[2].revents)
            return;
        if (p[0].revents)
            drain_watches(bb);
        if (p[1].revents)
            handle_failures(bb);
    }
}

int main(int argc, char **argv)
{
    struct blkback bb = { 0 };
    const char *kind = parse_args(argc, argv, &bb);
    sigset_t set;
    int sfd;

    pvk_log_init("pvkit-blkback");
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0 || setup(&bb, kind) < 0) {
        if (bb.xs)
            xs_close(bb.xs);
        pvk_transport_close(bb.t);
        return 1;
    }
    run(&bb, sfd);
    while (bb.vbds)
        forget(&bb, bb.vbds);
    xs_close(bb.xs);
    pvk_transport_close(bb.t);
    return 0;
}
