/*
 * consoled.c - pvkit-consoled: the daemon side of guest console rings, in
 * the manner of xenconsoled.
 *
 * Usage: pvkit-consoled [--transport xen|hosted] [--log-dir DIR] [--sock-dir DIR]
 *        pvkit-consoled --attach SOCKET      (interactive client)
 *        pvkit-consoled --help
 * Exit status: 0 after SIGINT/SIGTERM or --help, 1 if setup failed, 2 on a
 * usage error (unknown option, stray argument, a log or socket directory
 * that does not exist, a missing hosted directory or store socket).
 * It watches /local/domain; every domain whose console/ node has a `port`
 * (and `type` absent or "xenconsoled") gets its ring (grant ref
 * GNTTAB_RESERVED_CONSOLE, mapped writable) and event channel bound.  Guest
 * output is appended to DIR/guest-<domid>.log and copied to the attached
 * client, if any; a client attaches through the Unix socket
 * SOCKDIR/console-<domid>.sock (also published as console/tty), and what it
 * sends is fed to the guest's input ring.  A console whose node disappears
 * is torn down.  Single-threaded poll loop.
 * Invariants: the daemon only advances out_cons and in_prod; a ring whose
 * producer runs more than the ring size ahead is resynchronised (its bytes
 * dropped, one rate-limited log line), never trusted.
 */
#define _GNU_SOURCE
#include "../common/cli.h"
#include "../common/log.h"
#include "../common/transport.h"
#include "../common/xsutil.h"
#include "proto/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CONS 64

struct cons {
    struct cons *next;
    domid_t domid;
    evtchn_port_t remote_port;
    struct xencons_interface *intf;
    struct pvk_evtchn *ev;
    int log_fd, listen_fd, client_fd;
    char sock[108];
};

struct consoled {
    struct pvk_transport *t;
    struct xs_handle *xs;
    const char *log_dir, *sock_dir;
    struct cons *list;
};

/* Contract: releases one console completely. */
static void cons_free(struct consoled *cd, struct cons *c)
{
    if (c->client_fd >= 0)
        close(c->client_fd);
    if (c->listen_fd >= 0) {
        close(c->listen_fd);
        unlink(c->sock);
    }
    if (c->log_fd >= 0)
        close(c->log_fd);
    pvk_evtchn_unbind(c->ev);
    if (c->intf)
        pvk_grant_unmap(cd->t, c->intf, 1);
    free(c);
}

/* Contract: a listening Unix socket at c->sock; fd or -1. */
static int listen_on(struct cons *c)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0 || strlen(c->sock) >= sizeof(a.sun_path))
        goto fail;
    strcpy(a.sun_path, c->sock);
    unlink(c->sock);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 1) < 0)
        goto fail;
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Contract: maps, binds and opens everything for domain d's console. */
static struct cons *cons_new(struct consoled *cd, domid_t d, evtchn_port_t port)
{
    struct cons *c = calloc(1, sizeof(*c));
    grant_ref_t ref = GNTTAB_RESERVED_CONSOLE;
    char path[256], dir[64];

    if (!c)
        return NULL;
    c->domid = d;
    c->remote_port = port;
    c->log_fd = c->listen_fd = c->client_fd = -1;
    snprintf(path, sizeof(path), "%s/guest-%u.log", cd->log_dir, d);
    snprintf(c->sock, sizeof(c->sock), "%s/console-%u.sock", cd->sock_dir, d);
    c->intf = pvk_grant_map(cd->t, d, 1, &ref, 1);
    if (c->intf)
        c->ev = pvk_evtchn_bind(cd->t, d, port);
    c->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    c->listen_fd = listen_on(c);
    if (!c->intf || !c->ev || c->log_fd < 0 || c->listen_fd < 0) {
        pvk_err("domain %u: cannot attach console: %s", d, strerror(errno));
        cons_free(cd, c);
        return NULL;
    }
    snprintf(dir, sizeof(dir), "/local/domain/%u/console", d);
    xsu_printf(cd->xs, XBT_NULL, dir, PVK_CONS_TTY, "%s", c->sock);
    return c;
}

/* Contract: copies guest output to the log and the client; acks the ring. */
static void drain_output(struct cons *c)
{
    struct xencons_interface *i = c->intf;
    XENCONS_RING_IDX prod = __atomic_load_n(&i->out_prod, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX cons = i->out_cons;
    char buf[sizeof(i->out)];
    unsigned n = 0;

    if (prod - cons > sizeof(i->out)) {
        pvk_log_guest("domain %u: console output index out of range", c->domid);
        cons = prod;
    }
    while (cons != prod)
        buf[n++] = i->out[MASK_XENCONS_IDX(cons++, i->out)];
    __atomic_store_n(&i->out_cons, cons, __ATOMIC_RELEASE);
    if (n && write(c->log_fd, buf, n) < 0)
        pvk_err("domain %u: log: %s", c->domid, strerror(errno));
    if (n && c->client_fd >= 0)
        send(c->client_fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    pvk_evtchn_notify(c->ev);
}

/* Contract: moves what the client sent into the guest's input ring. */
static void feed_input(struct cons *c)
{
    struct xencons_interface *i = c->intf;
    XENCONS_RING_IDX cons = __atomic_load_n(&i->in_cons, __ATOMIC_ACQUIRE);
    XENCONS_RING_IDX prod = i->in_prod;
    char buf[sizeof(i->in)];
    size_t space = prod - cons > sizeof(i->in) ? 0 : sizeof(i->in) - (prod - cons);
    ssize_t n;

    if (space == 0)
        return;
    n = recv(c->client_fd, buf, space, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN)) {
        close(c->client_fd);
        c->client_fd = -1;
        return;
    }
    for (ssize_t k = 0; k < n; k++)
        i->in[MASK_XENCONS_IDX(prod++, i->in)] = buf[k];
    __atomic_store_n(&i->in_prod, prod, __ATOMIC_RELEASE);
    if (n > 0)
        pvk_evtchn_notify(c->ev);
}

/* Contract: re-reads domain d's console node; creates or drops its console. */
static void domain_changed(struct consoled *cd, domid_t d)
{
    char dir[64];
    struct cons **pp = &cd->list, *c;
    uint64_t port;
    char *type;
    int wanted;

    snprintf(dir, sizeof(dir), "/local/domain/%u/console", d);
    type = xsu_read(cd->xs, XBT_NULL, dir, PVK_CONS_TYPE);
    wanted = xsu_get_u64(cd->xs, XBT_NULL, dir, PVK_CONS_PORT, &port) == 0 &&
             port <= UINT32_MAX &&
             (!type || strcmp(type, PVK_CONS_TYPE_XENCONSOLED) == 0);
    free(type);
    while (*pp && (*pp)->domid != d)
        pp = &(*pp)->next;
    c = *pp;
    if (c && (!wanted || c->remote_port != port)) {
        *pp = c->next;
        cons_free(cd, c);
        c = NULL;
    }
    if (!c && wanted) {
        c = cons_new(cd, d, (evtchn_port_t)port);
        if (c) {
            c->next = cd->list;
            cd->list = c;
            drain_output(c);
        }
    }
}

/* Contract: handles one watch event on /local/domain. */
static void on_watch(struct consoled *cd, const char *path)
{
    const char *p = path + strlen("/local/domain");
    char *end;
    unsigned long d;

    if (strncmp(path, "/local/domain/", 14) != 0) {
        unsigned n = 0;
        char **doms = xs_directory(cd->xs, XBT_NULL, "/local/domain", &n);

        for (unsigned i = 0; doms && i < n; i++)
            domain_changed(cd, (domid_t)strtoul(doms[i], NULL, 10));
        free(doms);
        return;
    }
    d = strtoul(p + 1, &end, 10);
    if (end != p + 1 && d < DOMID_FIRST_RESERVED &&
        (*end == '\0' || strncmp(end, "/console", 8) == 0))
        domain_changed(cd, (domid_t)d);
}

/* Contract: accepts a client, replacing any earlier one. */
static void accept_client(struct cons *c)
{
    int fd = accept4(c->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

    if (fd < 0)
        return;
    if (c->client_fd >= 0)
        close(c->client_fd);
    c->client_fd = fd;
}

/* Contract: one poll round over the store, signals and all consoles. */
static int poll_once(struct consoled *cd, int sfd)
{
    struct pollfd p[2 + 3 * MAX_CONS];
    struct cons *who[2 + 3 * MAX_CONS];
    unsigned n = 2;
    char **ev;

    p[0] = (struct pollfd){ .fd = xs_fileno(cd->xs), .events = POLLIN };
    p[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
    for (struct cons *c = cd->list; c && n + 3 <= 2 + 3 * MAX_CONS; c = c->next) {
        who[n] = c;
        p[n++] = (struct pollfd){ .fd = pvk_evtchn_fd(c->ev), .events = POLLIN };
        who[n] = c;
        p[n++] = (struct pollfd){ .fd = c->listen_fd, .events = POLLIN };
        who[n] = c;
        p[n++] = (struct pollfd){ .fd = c->client_fd, .events = POLLIN };
    }
    if (poll(p, n, -1) < 0)
        return errno == EINTR ? 0 : -1;
    if (p[1].revents)
        return -1;
    for (unsigned k = 2; k < n; k += 3) {
        struct cons *c = who[k];

        if (p[k].revents) {
            pvk_evtchn_ack(c->ev);
            drain_output(c);
        }
        if (p[k + 1].revents)
            accept_client(c);
        if (p[k + 2].revents && c->client_fd >= 0)
            feed_input(c);
    }
    if (p[0].revents)
        while ((ev = xs_check_watch(cd->xs)) != NULL) {
            on_watch(cd, ev[XS_WATCH_PATH]);
            free(ev);
        }
    return 0;
}

/* Contract: relays stdin to the console socket and the socket to stdout. */
static int attach(const char *path)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char buf[4096];

    if (strlen(path) >= sizeof(a.sun_path)) {
        fprintf(stderr, "pvkit-consoled: --attach %s: path too long (at most %zu bytes)\n",
                path, sizeof(a.sun_path) - 1);
        return 2;
    }
    if (fd < 0) {
        fprintf(stderr, "pvkit-consoled: socket: %s\n", strerror(errno));
        return 1;
    }
    strcpy(a.sun_path, path);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        fprintf(stderr, "pvkit-consoled: --attach %s: %s\n", path, strerror(errno));
        return 1;
    }
    for (;;) {
        struct pollfd p[2] = { { .fd = 0, .events = POLLIN },
                               { .fd = fd, .events = POLLIN } };
        ssize_t n;

        if (poll(p, 2, -1) < 0)
            return 1;
        if (p[0].revents) {
            n = read(0, buf, sizeof(buf));
            if (n <= 0 || send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
                return 0;
        }
        if (p[1].revents) {
            n = recv(fd, buf, sizeof(buf), 0);
            if (n <= 0 || write(1, buf, (size_t)n) < 0)
                return 0;
        }
    }
}

#define PROG "pvkit-consoled"
#define USAGE "usage: " PROG " [--transport xen|hosted] [--log-dir DIR] " \
              "[--sock-dir DIR]\n       " PROG " --attach SOCKET\n"

/* Contract: prints the usage and what each option means on stdout. */
static void usage(void)
{
    printf(USAGE
           "  --transport xen|hosted  xen (dom0 devices, default) or hosted (needs\n"
           "                          XENSTORED_PATH and PVKIT_HOSTED_DIR)\n"
           "  --log-dir DIR           guest-<domid>.log files (default /var/log/pvkit;\n"
           "                          must exist)\n"
           "  --sock-dir DIR          console-<domid>.sock attach sockets (default\n"
           "                          /run/pvkit; must exist)\n"
           "  --attach SOCKET         interactive client: stdin to the guest, its\n"
           "                          output to stdout\n"
           "  -h, --help              this text\n"
           "Exit status: 0 after SIGINT/SIGTERM or --help, 1 if setup failed,\n"
           "2 on a usage error.\n");
}

int main(int argc, char **argv)
{
    /* A getopt table like blkback's and xenstored's: data in the library's own shape, not shared logic. */
    static const struct option opts[] = {
        { "transport", required_argument, NULL, 't' },
        { "log-dir", required_argument, NULL, 'l' },
        { "sock-dir", required_argument, NULL, 's' },
        { "attach", required_argument, NULL, 'a' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct consoled cd = { .log_dir = "/var/log/pvkit", .sock_dir = "/run/pvkit" };
    const char *kind = "xen", *attach_to = NULL;
    sigset_t set;
    int c, sfd;

    pvk_log_init(PROG);
    opterr = 0;   /* pvk_cli_bad_option says it in one line */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 't': kind = optarg; pvk_cli_transport(PROG, kind); break;
        case 'l': cd.log_dir = optarg; break;
        case 's': cd.sock_dir = optarg; break;
        case 'a': attach_to = optarg; break;
        case 'h': usage(); return 0;
        default:
            pvk_cli_bad_option(PROG, c, argv);
        }
    }
    pvk_cli_no_args(PROG, argc, argv, optind);
    if (attach_to)
        return attach(attach_to);
    pvk_cli_dir(PROG, "--log-dir", cd.log_dir);
    pvk_cli_dir(PROG, "--sock-dir", cd.sock_dir);
    pvk_cli_hosted_env(PROG, kind);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (pvk_connect(kind, &cd.t, &cd.xs) < 0)
        return 1;
    if (sfd < 0 || xs_fileno(cd.xs) < 0 ||
        !xs_watch(cd.xs, "/local/domain", "domains")) {
        pvk_err("cannot watch /local/domain: %s", strerror(errno));
        xs_close(cd.xs);
        pvk_transport_close(cd.t);
        return 1;
    }
    while (poll_once(&cd, sfd) == 0)
        ;
    while (cd.list) {
        struct cons *n = cd.list->next;

        cons_free(&cd, cd.list);
        cd.list = n;
    }
    xs_close(cd.xs);
    pvk_transport_close(cd.t);
    return 0;
}
