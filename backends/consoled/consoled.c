/*
 * consoled.c - pvkit-consoled: serves every domU's primary console from the
 * management domain, as Xen's xenconsoled does. The one console daemon: the
 * dom0 image runs it on the `xen` transport, the hosted tests on `hosted`.
 *
 * Usage: pvkit-consoled [--transport xen|hosted] [--log-dir DIR] [--socket PATH]
 *        pvkit-consoled --help
 * Exit status: 0 after SIGINT/SIGTERM or --help, 1 if setup failed (the
 * socket, the transport, the store or the hypervisor), 2 on a usage error
 * (unknown option, stray argument, a log directory that does not exist, a
 * missing hosted directory or store socket).
 *
 * Every SCAN_MS it looks for consoles to serve. Where they come from
 * depends on the transport:
 *   xen    - the hypervisor's domain list (getdomaininfo). Each new domU's
 *            console (once it runs or its name is in the store: a domain
 *            the toolstack is still creating waits, paused, until its tree
 *            is written) is taken over from the hypervisor
 *            (PVKIT_DOMCTL_console_takeover: it stops draining the ring and
 *            says the port); a dying or vanished domain is released.
 *   hosted - the store: a domain whose console/ node has a `port` (and a
 *            `type` absent or "xenconsoled") is served, and released when
 *            the node goes.
 * Either way its ring page is mapped through grant reference 0
 * (GNTTAB_RESERVED_CONSOLE) and its port bound, through the transport.
 * What the guest prints is appended to LOG_DIR/NAME.log (NAME from the
 * store's /local/domain/N/name, made safe by cons_log_name; d<N> without
 * one) and copied to the client attached to that console, if any.
 *
 * Clients (`pvkit console`, tools/pvkit/console_attach.c) connect to the
 * unix socket and send one line, "ATTACH <domid>"; the answer is
 * "OK <name>" or "ERR <why>", then the connection carries raw bytes both
 * ways (tools/pvkit/consoled.h). A newer client of the same console
 * replaces the older one. SIGHUP reopens the logs.
 *
 * Invariants: the ring is read and written only through cons.c (indices
 * never trusted), at most DRAIN_BUDGET bytes per console per wake-up, so a
 * flooding guest delays no other console by more than that; a log that
 * reaches LOG_MAX bytes is moved to NAME.log.old and started again; a
 * client that does not read loses output rather than stalling the daemon;
 * input waits in a small per-console buffer until the guest makes room.
 * Single-threaded poll loop; a console is `used` exactly while its ring is
 * mapped and its port bound.
 */
#define _GNU_SOURCE /* accept4 */
#include "tools/pvkit/hv.h" /* first: Xen's headers define console_mfn as a macro */
#include "../common/cli.h"
#include "../common/log.h"
#include "../common/transport.h"
#include "../common/xsutil.h"
#include "cons.h"
#include "proto/keys.h"
#include "tools/pvkit/consoled.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#define PROG          "pvkit-consoled"
#define MAX_CONSOLES  64
#define MAX_FOUND     1024      /* domains one scan looks at */
#define MAX_PENDING   8         /* clients that have not said ATTACH yet */
#define SCAN_MS       250
#define HELLO_MS      2000      /* a client must say ATTACH within this */
#define DRAIN_BUDGET  65536
#define LOG_MAX       (1 << 20)
#define INPUT_BUF     1024

struct console {
    bool used;
    bool seen;                  /* live in the latest scan */
    uint32_t domid;
    char log_name[CONS_LOG_NAME_MAX];
    struct xencons_interface *ring;
    struct pvk_evtchn *ev;
    int log_fd;
    size_t log_bytes;
    int client_fd;              /* -1: none attached */
    char input[INPUT_BUF];      /* from the client, waiting for room in the ring */
    size_t input_len;
};

struct pending {
    int fd;                     /* -1: free */
    char line[64];
    size_t len;
    uint64_t deadline_ms;
};

/* What one scan sees of a domain. */
struct found {
    uint32_t domid;
    bool live;                  /* a console already served stays served */
    bool ready;                 /* a console not served yet is taken now */
};

static struct pvk_transport *transport;
static struct xs_handle *xs;
static struct hv *hv;           /* xen transport only: consoles come from the hypervisor */
static const char *log_dir = CONSOLED_LOG_DIR;
static const char *socket_path = CONSOLED_SOCKET;
static struct console consoles[MAX_CONSOLES];
static struct pending pendings[MAX_PENDING];
static uint32_t refused[MAX_CONSOLES];  /* domains whose console cannot be taken */
static size_t nr_refused;
static volatile sig_atomic_t stop_requested, reopen_requested;

/* Contract: the monotonic clock in milliseconds. */
static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- logs ----------------------------------------------------------------- */

/* Contract: opens (appending) c's log into c->log_fd and notes its size; 0 or -errno. */
static int open_log(struct console *c)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", log_dir, c->log_name);
    c->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (c->log_fd < 0) {
        pvk_err("%s: %s", path, strerror(errno));
        return -errno;
    }
    c->log_bytes = fstat(c->log_fd, &st) == 0 ? (size_t)st.st_size : 0;
    return 0;
}

/* Contract: moves a full log to NAME.log.old and starts a new one. */
static void rotate_log(struct console *c)
{
    char path[PATH_MAX], old[PATH_MAX + 4];

    snprintf(path, sizeof(path), "%s/%s", log_dir, c->log_name);
    snprintf(old, sizeof(old), "%s.old", path);
    close(c->log_fd);
    rename(path, old);
    if (open_log(c))
        c->log_fd = -1;
}

/* Contract: appends n bytes to c's log, rotating it at LOG_MAX. */
static void log_write(struct console *c, const char *buf, size_t n)
{
    if (c->log_fd < 0)
        return;
    if (c->log_bytes + n > LOG_MAX)
        rotate_log(c);
    if (c->log_fd >= 0 && write(c->log_fd, buf, n) == (ssize_t)n)
        c->log_bytes += n;
}

/* ---- one console ---------------------------------------------------------- */

/* Contract: drops c's client, if any, and the input it had sent. */
static void detach_client(struct console *c)
{
    if (c->client_fd >= 0)
        close(c->client_fd);
    c->client_fd = -1;
    c->input_len = 0;
}

/* Contract: copies what the guest printed to the log and the client, within the budget. */
static void drain(struct console *c)
{
    char buf[4096];
    size_t total = 0, n;

    while (total < DRAIN_BUDGET && (n = cons_take(c->ring, buf, sizeof(buf))) > 0) {
        total += n;
        log_write(c, buf, n);
        if (c->client_fd >= 0 && send(c->client_fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
            errno != EAGAIN && errno != EWOULDBLOCK)
            detach_client(c);
    }
    if (total)
        pvk_evtchn_notify(c->ev); /* room in `out` again */
}

/* Contract: moves waiting input into the guest's ring, as far as it has room. */
static void feed(struct console *c)
{
    if (!c->input_len)
        return;
    size_t put = cons_put(c->ring, c->input, c->input_len);
    if (!put)
        return;
    memmove(c->input, c->input + put, c->input_len - put);
    c->input_len -= put;
    pvk_evtchn_notify(c->ev);
}

/* Contract: domid's name from the store (malloc'd), or NULL if it has none. */
static char *domain_name(uint32_t domid)
{
    char path[64];
    unsigned int len = 0;

    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    return xs_read(xs, XBT_NULL, path, &len);
}

/* Contract: whether domid's console was refused and not to be tried again. */
static bool is_refused(uint32_t domid)
{
    for (size_t i = 0; i < nr_refused; i++)
        if (refused[i] == domid)
            return true;
    return false;
}

/*
 * Contract: takes domid's console for this daemon and says its port: from
 * the hypervisor (which stops draining it) on the xen transport, from the
 * store's console/port on the hosted one. 0 or -errno.
 */
static int take_console(uint32_t domid, evtchn_port_t *port)
{
    char dir[64];
    uint64_t mfn;
    uint32_t p;
    int rc;

    if (hv) {
        rc = hv_console_takeover(hv, domid, &mfn, &p);
    } else {
        snprintf(dir, sizeof(dir), "/local/domain/%u/console", domid);
        rc = xsu_get_u32(xs, XBT_NULL, dir, PVK_CONS_PORT, &p) ? -ENOENT : 0;
    }
    if (rc == 0)
        *port = p;
    return rc;
}

/* Contract: takes over, maps and binds domid's console; on failure leaves nothing. */
static void attach_console(uint32_t domid)
{
    grant_ref_t ref = GNTTAB_RESERVED_CONSOLE;
    struct console *c = NULL;
    evtchn_port_t port;
    char *name;
    int rc;

    for (size_t i = 0; i < MAX_CONSOLES && !c; i++)
        if (!consoles[i].used)
            c = &consoles[i];
    if (!c)
        return;
    if ((rc = take_console(domid, &port))) {
        pvk_err("d%u: console not taken over: %s", domid, strerror(-rc));
        if (nr_refused < MAX_CONSOLES)
            refused[nr_refused++] = domid;
        return;
    }
    *c = (struct console){ .domid = domid, .log_fd = -1, .client_fd = -1 };
    c->ring = pvk_grant_map(transport, (domid_t)domid, 1, &ref, 1);
    if (!c->ring) {
        pvk_err("d%u: cannot map the console ring: %s", domid, strerror(errno));
        return;
    }
    c->ev = pvk_evtchn_bind(transport, (domid_t)domid, port);
    if (!c->ev) {
        pvk_err("d%u: cannot bind the console port %u: %s", domid, port, strerror(errno));
        pvk_grant_unmap(transport, c->ring, 1);
        return;
    }
    name = domain_name(domid);
    cons_log_name(name, domid, c->log_name);
    free(name);
    open_log(c);
    c->used = c->seen = true;
    pvk_info("d%u: serving its console (log %s/%s)", domid, log_dir, c->log_name);
    drain(c);
}

/* Contract: drains c one last time and releases everything it holds. */
static void release_console(struct console *c)
{
    drain(c);
    detach_client(c);
    pvk_evtchn_unbind(c->ev);
    pvk_grant_unmap(transport, c->ring, 1);
    if (c->log_fd >= 0)
        close(c->log_fd);
    pvk_info("d%u: console released", c->domid);
    c->used = false;
}

/* Contract: the console served for domid, or NULL. */
static struct console *console_of(uint32_t domid)
{
    for (size_t i = 0; i < MAX_CONSOLES; i++)
        if (consoles[i].used && consoles[i].domid == domid)
            return &consoles[i];
    return NULL;
}

/* ---- where consoles come from --------------------------------------------- */

/*
 * Contract: every domain the hypervisor has, at most max, into f: live if
 * it is a domU not dying, ready if it also runs or has a name in the store
 * (a domain `pvkit create` has built is paused until its tree is written:
 * it is attached once it has a name, so its log is named after it).
 * Returns the count, or -errno.
 */
static int find_in_hypervisor(struct found *f, size_t max)
{
    struct dominfo_list l = { 0 };
    size_t n = 0;
    int rc = hv_list_domains(hv, &l);

    if (rc)
        return rc;
    for (size_t i = 0; i < l.nr && n < max; i++) {
        const struct dominfo *d = &l.doms[i];
        bool live = d->domid != 0 && !d->dying;
        char *name = live && d->paused ? domain_name(d->domid) : NULL;

        f[n++] = (struct found){ .domid = d->domid, .live = live,
                                 .ready = live && (!d->paused || name) };
        free(name);
    }
    dominfo_list_free(&l);
    return (int)n;
}

/*
 * Contract: every domain under /local/domain, at most max, into f: live
 * and ready alike if it is not this daemon's own and its console/ node has
 * a port and a type absent or "xenconsoled". Returns the count, or -errno.
 */
static int find_in_store(struct found *f, size_t max)
{
    unsigned nr = 0;
    char **doms = xs_directory(xs, XBT_NULL, "/local/domain", &nr);
    size_t n = 0;

    if (!doms)
        return errno == ENOENT ? 0 : -errno;
    for (unsigned i = 0; i < nr && n < max; i++) {
        uint32_t domid = (uint32_t)strtoul(doms[i], NULL, 10), port;
        char dir[64], *type;
        bool wanted;

        snprintf(dir, sizeof(dir), "/local/domain/%u/console", domid);
        type = xsu_read(xs, XBT_NULL, dir, PVK_CONS_TYPE);
        wanted = domid != pvk_transport_self(transport) &&
                 xsu_get_u32(xs, XBT_NULL, dir, PVK_CONS_PORT, &port) == 0 &&
                 (!type || strcmp(type, PVK_CONS_TYPE_XENCONSOLED) == 0);
        free(type);
        f[n++] = (struct found){ .domid = domid, .live = wanted, .ready = wanted };
    }
    free(doms);
    return (int)n;
}

/* Contract: serves new consoles, releases those whose domain is dying or gone. */
static void scan(void)
{
    static struct found f[MAX_FOUND];
    int n = hv ? find_in_hypervisor(f, MAX_FOUND) : find_in_store(f, MAX_FOUND);
    bool present;

    if (n < 0)
        return;
    for (size_t i = 0; i < MAX_CONSOLES; i++)
        consoles[i].seen = false;
    for (int i = 0; i < n; i++) {
        struct console *c = console_of(f[i].domid);
        if (c && f[i].live)
            c->seen = true;
        else if (!c && f[i].ready && !is_refused(f[i].domid))
            attach_console(f[i].domid);
    }
    for (size_t i = 0; i < MAX_CONSOLES; i++)
        if (consoles[i].used && !consoles[i].seen)
            release_console(&consoles[i]);
    /* A refused id may be given to a new domain once the old one is gone. */
    for (size_t i = 0; i < nr_refused;) {
        present = false;
        for (int k = 0; k < n && !present; k++)
            present = f[k].domid == refused[i];
        if (!present)
            refused[i] = refused[--nr_refused];
        else
            i++;
    }
}

/* ---- clients -------------------------------------------------------------- */

/* Contract: sends one formatted line to fd without blocking (lost if it would). */
static void answer(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void answer(int fd, const char *fmt, ...)
{
    char line[160];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0)
        (void)!send(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1,
                    MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Contract: the console a client's line "ATTACH <domid>" names, or NULL. */
static struct console *named_console(const char *line)
{
    char *end;
    unsigned long domid;

    if (strncmp(line, "ATTACH ", 7) || line[7] < '0' || line[7] > '9')
        return NULL;
    domid = strtoul(line + 7, &end, 10);
    if ((*end != '\n' && *end != 0) || domid >= DOMID_FIRST_RESERVED)
        return NULL;
    if (!console_of((uint32_t)domid))
        scan(); /* a domain created a moment ago */
    return console_of((uint32_t)domid);
}

/* Contract: a pending client said its line: attach it, or answer why not and close. */
static void hello(struct pending *p)
{
    struct console *c;

    p->line[p->len] = 0;
    c = named_console(p->line);
    if (!c) {
        answer(p->fd, "ERR no console for that domain\n");
        close(p->fd);
    } else {
        detach_client(c);
        c->client_fd = p->fd;
        answer(p->fd, "OK %.*s\n", (int)(strlen(c->log_name) - 4), c->log_name);
    }
    p->fd = -1;
}

/* Contract: reads what a pending client sent; a whole line (or a full buffer) is its hello. */
static void pending_read(struct pending *p)
{
    ssize_t n = recv(p->fd, p->line + p->len, sizeof(p->line) - 1 - p->len, MSG_DONTWAIT);
    if (n <= 0) {
        close(p->fd);
        p->fd = -1;
        return;
    }
    p->len += (size_t)n;
    if (memchr(p->line, '\n', p->len) || p->len == sizeof(p->line) - 1)
        hello(p);
}

/* Contract: accepts a client as pending (HELLO_MS to say its line), or answers busy. */
static void accept_client(int listen_fd)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    for (size_t i = 0; i < MAX_PENDING; i++)
        if (pendings[i].fd < 0) {
            pendings[i] = (struct pending){ .fd = fd, .deadline_ms = now_ms() + HELLO_MS };
            return;
        }
    answer(fd, "ERR busy\n");
    close(fd);
}

/* Contract: buffers what c's client typed and feeds the ring; a closed client is dropped. */
static void client_read(struct console *c)
{
    ssize_t n = recv(c->client_fd, c->input + c->input_len, sizeof(c->input) - c->input_len,
                     MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        detach_client(c);
        return;
    }
    if (n > 0)
        c->input_len += (size_t)n;
    feed(c);
}

/* Contract: a listening unix socket at path (mode 0600), or -errno. */
static int listen_on(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(sa.sun_path))
        return -ENAMETOOLONG;
    strcpy(sa.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0600) || listen(fd, 8)) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* ---- the loop ------------------------------------------------------------- */

/* Contract: SIGHUP asks for the logs to be reopened, SIGINT/SIGTERM for a stop. */
static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reopen_requested = 1;
    else
        stop_requested = 1;
}

/* Contract: closes pending clients that did not say their line in time. */
static void expire_pending(uint64_t now)
{
    for (size_t i = 0; i < MAX_PENDING; i++)
        if (pendings[i].fd >= 0 && now > pendings[i].deadline_ms) {
            close(pendings[i].fd);
            pendings[i].fd = -1;
        }
}

/* Contract: one poll round over the socket, every pending client, every console's port and client. */
static void serve_once(int listen_fd, uint64_t *next_scan)
{
    const short in = POLLIN | POLLHUP | POLLERR;
    struct pollfd fds[1 + MAX_PENDING + 2 * MAX_CONSOLES];
    struct console *owner[MAX_CONSOLES];
    size_t nfds = 0, nown = 0, first = 1 + MAX_PENDING;
    uint64_t now = now_ms();

    fds[nfds++] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
    for (size_t i = 0; i < MAX_PENDING; i++)
        fds[nfds++] = (struct pollfd){ .fd = pendings[i].fd, .events = POLLIN };
    for (size_t i = 0; i < MAX_CONSOLES; i++)
        if (consoles[i].used) {
            struct console *c = &consoles[i];
            bool room = c->client_fd >= 0 && c->input_len < sizeof(c->input);

            owner[nown++] = c;
            fds[nfds++] = (struct pollfd){ .fd = pvk_evtchn_fd(c->ev), .events = POLLIN };
            fds[nfds++] = (struct pollfd){ .fd = room ? c->client_fd : -1, .events = POLLIN };
        }
    int timeout = *next_scan > now ? (int)(*next_scan - now) : 0;
    if (poll(fds, nfds, timeout) < 0)
        return;
    if (fds[0].revents & POLLIN)
        accept_client(listen_fd);
    for (size_t i = 0; i < MAX_PENDING; i++)
        if (pendings[i].fd >= 0 && (fds[1 + i].revents & in))
            pending_read(&pendings[i]);
    for (size_t i = 0; i < nown; i++) {
        struct console *c = owner[i];
        const struct pollfd *port = &fds[first + 2 * i], *client = port + 1;

        if (!c->used || pvk_evtchn_fd(c->ev) != port->fd)
            continue; /* released while serving an earlier one */
        if (port->revents & POLLIN) {
            pvk_evtchn_ack(c->ev);
            drain(c);
            feed(c);
        }
        if (client->fd >= 0 && c->client_fd == client->fd && (client->revents & in))
            client_read(c);
    }
    now = now_ms();
    expire_pending(now);
    if (now >= *next_scan) {
        scan();
        for (size_t i = 0; i < MAX_CONSOLES; i++)
            if (consoles[i].used) { /* output or room we were not told about */
                drain(&consoles[i]);
                feed(&consoles[i]);
            }
        *next_scan = now + SCAN_MS;
    }
}

/* Contract: reopens every console's log (after an outside rotation). */
static void reopen_logs(void)
{
    for (size_t i = 0; i < MAX_CONSOLES; i++)
        if (consoles[i].used) {
            if (consoles[i].log_fd >= 0)
                close(consoles[i].log_fd);
            if (open_log(&consoles[i]))
                consoles[i].log_fd = -1;
        }
}

/* Contract: prints the usage and what each option means on stdout. */
static void usage(void)
{
    printf("usage: " PROG " [--transport xen|hosted] [--log-dir DIR] [--socket PATH]\n"
           "  --transport xen|hosted  xen (dom0 devices and the hypervisor, default) or\n"
           "                          hosted (needs XENSTORED_PATH and PVKIT_HOSTED_DIR)\n"
           "  --log-dir DIR           NAME.log files (default " CONSOLED_LOG_DIR ";\n"
           "                          must exist)\n"
           "  --socket PATH           where clients attach (default " CONSOLED_SOCKET ")\n"
           "  -h, --help              this text\n"
           "Exit status: 0 after SIGINT/SIGTERM or --help, 1 if setup failed,\n"
           "2 on a usage error.\n");
}

/*
 * Contract: opens the transport `kind`, its store and, on xen, the
 * hypervisor. 0, or -1 after one error line with nothing left open.
 */
static int open_platform(const char *kind)
{
    int rc;

    if (pvk_connect(kind, &transport, &xs) < 0)
        return -1;
    if (strcmp(kind, "xen") == 0 && (rc = hv_open(&hv))) {
        pvk_err("cannot reach the hypervisor: %s", strerror(-rc));
        xs_close(xs);
        pvk_transport_close(transport);
        return -1;
    }
    return 0;
}

/* Contract: takes --log-dir (which must be a directory: else exits 2) or --socket. */
static void option(void *unused, int c, const char *arg)
{
    (void)unused;
    if (c == 'l') {
        pvk_cli_dir(PROG, "--log-dir", arg);
        log_dir = arg;
    } else if (c == 's') {
        socket_path = arg;
    }
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "log-dir", required_argument, NULL, 'l' },
        { "socket", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 },
    };
    static const struct pvk_cli cli = {
        .prog = PROG, .options = opts, .usage = usage, .option = option,
    };
    const char *kind = pvk_cli_parse(&cli, NULL, argc, argv);
    uint64_t next_scan = 0;
    int listen_fd;

    pvk_log_init(PROG);
    pvk_cli_dir(PROG, "--log-dir", log_dir); /* the default: one given was checked */
    if ((listen_fd = listen_on(socket_path)) < 0) {
        pvk_err("%s: %s", socket_path, strerror(-listen_fd));
        return 1;
    }
    if (open_platform(kind) < 0) {
        close(listen_fd);
        unlink(socket_path);
        return 1;
    }
    for (size_t i = 0; i < MAX_PENDING; i++)
        pendings[i].fd = -1;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGHUP, on_signal);
    pvk_info("serving consoles (logs in %s, clients on %s)", log_dir, socket_path);
    while (!stop_requested) {
        if (reopen_requested) {
            reopen_requested = 0;
            reopen_logs();
        }
        serve_once(listen_fd, &next_scan);
    }
    for (size_t i = 0; i < MAX_CONSOLES; i++)
        if (consoles[i].used)
            release_console(&consoles[i]);
    for (size_t i = 0; i < MAX_PENDING; i++)
        if (pendings[i].fd >= 0)
            close(pendings[i].fd);
    close(listen_fd);
    unlink(socket_path);
    if (hv)
        hv_close(hv);
    xs_close(xs);
    pvk_transport_close(transport);
    return 0;
}
