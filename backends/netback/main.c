/*
 * main.c - pvkit-netback: the network backend daemon.
 *
 * Usage: pvkit-netback [--transport xen|hosted] [--max-queues N]
 * It watches backend/vif under its own domain's home and serves every vif
 * the toolstack creates there, for any number of frontend domains, until
 * SIGINT or SIGTERM; tap devices are created in the daemon's network
 * namespace.  The main thread runs only the store side; each connected
 * queue has its own thread (nqueue.c).  Exit status: 0 after a signal or
 * --help, 1 if setup failed, 2 on a usage error (unknown option, stray
 * argument, a number out of its range, a missing hosted directory or store
 * socket: one line each).
 */
#define _GNU_SOURCE
#include "netback.h"
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

#define WATCH_ROOT "vif"

/* Contract: finds the vif for (fe, id) in the list; NULL if none. */
static struct vif *find(struct netback *nb, domid_t fe, unsigned id)
{
    for (struct vif *v = nb->vifs; v; v = v->next)
        if (v->fe_domid == fe && v->handle == id)
            return v;
    return NULL;
}

/* Contract: unlinks and destroys `v`. */
static void forget(struct netback *nb, struct vif *v)
{
    struct vif **pp = &nb->vifs;

    while (*pp != v)
        pp = &(*pp)->next;
    *pp = v->next;
    vif_destroy(v);
}

/* Contract: brings device (fe, id) up to date, creating or removing it. */
static void device_changed(struct netback *nb, domid_t fe, unsigned id)
{
    struct vif *v = find(nb, fe, id);
    char path[160];

    snprintf(path, sizeof(path), "%s/%u/%u", nb->root, fe, id);
    if (xsu_state(nb->xs, path) < 0) {
        if (v)
            forget(nb, v);
        return;
    }
    if (!v) {
        v = vif_create(nb, fe, id);
        if (!v)
            return;
        v->next = nb->vifs;
        nb->vifs = v;
    }
    vif_update(v);
}

/* Contract: parses "<root>/<fe>/<id>[/...]"; 0 on success. */
static int parse_dev_path(const struct netback *nb, const char *path,
                          unsigned *fe, unsigned *id)
{
    size_t n = strlen(nb->root);
    char *end;
    unsigned long a, b;

    if (strncmp(path, nb->root, n) != 0 || path[n] != '/')
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
static void scan_all(struct netback *nb)
{
    unsigned nfe = 0;
    char **fes = xs_directory(nb->xs, XBT_NULL, nb->root, &nfe);

    for (unsigned i = 0; fes && i < nfe; i++) {
        char dir[128];
        unsigned nid = 0;
        char **ids;

        snprintf(dir, sizeof(dir), "%s/%s", nb->root, fes[i]);
        ids = xs_directory(nb->xs, XBT_NULL, dir, &nid);
        for (unsigned j = 0; ids && j < nid; j++)
            device_changed(nb, (domid_t)strtoul(fes[i], NULL, 10),
                           (unsigned)strtoul(ids[j], NULL, 10));
        free(ids);
    }
    free(fes);
}

/* Contract: dispatches one watch event. */
static void on_watch(struct netback *nb, const char *path, const char *token)
{
    unsigned fe, id;

    if (strcmp(token, WATCH_ROOT) != 0) {
        for (struct vif *v = nb->vifs; v; v = v->next)
            if (strcmp(v->path, token) == 0) {
                device_changed(nb, v->fe_domid, v->handle);
                return;
            }
        return;
    }
    if (parse_dev_path(nb, path, &fe, &id) == 0)
        device_changed(nb, (domid_t)fe, id);
    else if (strcmp(path, nb->root) == 0)
        scan_all(nb);
}

/* Contract: drains the store's watch queue. */
static void drain_watches(struct netback *nb)
{
    char **ev;

    while ((ev = xs_check_watch(nb->xs)) != NULL) {
        on_watch(nb, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
        free(ev);
    }
}

/* Contract: handles vifs whose queues reported broken rings. */
static void handle_failures(struct netback *nb)
{
    uint64_t n;

    if (read(nb->wake_fd, &n, sizeof(n)) < 0)
        return;
    for (struct vif *v = nb->vifs; v; v = v->next)
        if (atomic_load(&v->failed))
            vif_update(v);
}

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

/*
 * Contract: parses options into nb; --help prints the usage and exits 0;
 * an unknown option, a stray argument or a value out of its range is one
 * line on stderr and exit 2 (cli.h).
 */
static const char *parse_args(int argc, char **argv, struct netback *nb)
{
    static const struct option opts[] = {
        { "transport", required_argument, NULL, 't' },
        { "max-queues", required_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *kind = "xen";
    int c;

    nb->max_queues = 4;
    opterr = 0;   /* pvk_cli_bad_option says it in one line */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't': kind = optarg; pvk_cli_transport(PROG, kind); break;
        case 'q':
            nb->max_queues = (unsigned)pvk_cli_num(PROG, "--max-queues", optarg,
                                                   1, NETBACK_MAX_QUEUES);
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
static int setup(struct netback *nb, const char *kind)
{
    nb->t = pvk_transport_open(kind);
    if (!nb->t) {
        pvk_err("transport %s: %s: %s", kind, pvk_transport_failed_on(),
                strerror(errno));
        return -1;
    }
    nb->xs = pvk_store_open(nb->t);
    if (!nb->xs) {
        pvk_err("cannot connect to xenstore at %s: %s",
                pvk_transport_failed_on(), strerror(errno));
        return -1;
    }
    snprintf(nb->root, sizeof(nb->root), "/local/domain/%u/backend/vif",
             pvk_transport_self(nb->t));
    nb->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (xs_fileno(nb->xs) < 0 || nb->wake_fd < 0 ||
        !xs_watch(nb->xs, nb->root, WATCH_ROOT)) {
        pvk_err("cannot watch %s: %s", nb->root, strerror(errno));
        return -1;
    }
    return 0;
}

/* Contract: serves until a termination signal arrives. */
static void run(struct netback *nb, int sfd)
{
    struct pollfd p[3] = {
        { .fd = xs_fileno(nb->xs), .events = POLLIN },
        { .fd = nb->wake_fd, .events = POLLIN },
        { .fd = sfd, .events = POLLIN },
    };

    for (;;) {
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            return;
        if (p[2].revents)
            return;
        if (p[0].revents)
            drain_watches(nb);
        if (p[1].revents)
            handle_failures(nb);
    }
}

int main(int argc, char **argv)
{
    struct netback nb = { 0 };
    const char *kind = parse_args(argc, argv, &nb);
    sigset_t set;
    int sfd;

    pvk_log_init("pvkit-netback");
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0 || setup(&nb, kind) < 0) {
        if (nb.xs)
            xs_close(nb.xs);
        pvk_transport_close(nb.t);
        return 1;
    }
    run(&nb, sfd);
    while (nb.vifs)
        forget(&nb, nb.vifs);
    xs_close(nb.xs);
    pvk_transport_close(nb.t);
    return 0;
}
