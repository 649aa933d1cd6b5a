/*
 * pvkit-consoled: serves every domU's console from dom0, as Xen's
 * xenconsoled does.
 *
 * Every SCAN_MS it lists the domains (getdomaininfo). Each new domU's
 * console (once it runs or its name is in xenstore: a domain the toolstack
 * is still creating waits, paused, until its tree is written) is taken over from the hypervisor (PVKIT_DOMCTL_console_takeover:
 * the hypervisor stops draining the ring), its ring page mapped through
 * grant reference 0 (libxengnttab) and its port bound (libxenevtchn). What
 * the guest prints is appended to LOG_DIR/NAME.log (NAME from xenstore's
 * /local/domain/N/name, made safe by cons_log_name) and copied to the
 * client attached to that console, if any. A domain that is dying or gone
 * is drained one last time and released.
 *
 * Clients (`pvkit console`, console_attach.c) connect to a unix socket and
 * send one line, "ATTACH <domid>"; the answer is "OK <name>" or
 * "ERR <why>", then the connection carries raw bytes both ways. A newer
 * client of the same console replaces the older one.
 *
 * Hostile guests: the ring is read through cons.c (indices never trusted),
 * at most DRAIN_BUDGET bytes per console per wake-up, so a flooding guest
 * delays no other console by more than that; a log that reaches LOG_MAX
 * bytes is moved to NAME.log.old and started again; a client that does not
 * read loses output rather than stalling the daemon; input waits in a
 * small per-console buffer until the guest makes room.
 *
 * Usage: pvkit-consoled [--log-dir DIR] [--socket PATH]
 */
#define _GNU_SOURCE /* accept4 */
#include "hv.h" /* first: Xen's headers define console_mfn as a macro */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenstore.h>
#include <xen/grant_table.h>

#include "cons.h"
#include "consoled.h"

#define MAX_CONSOLES  64
#define MAX_PENDING   8         /* clients that have not said ATTACH yet */
#define SCAN_MS       250
#define HELLO_MS      2000      /* a client must say ATTACH within this */
#define DRAIN_BUDGET  65536
#define LOG_MAX       (1 << 20)
#define INPUT_BUF     1024

struct console {
    bool used;
    bool seen;                  /* in the latest scan */
    uint32_t domid;
    char log_name[CONS_LOG_NAME_MAX];
    struct xencons_interface *ring;
    evtchn_port_t local_port;
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

static struct hv *hv;
static xenevtchn_handle *xce;
static xengnttab_handle *xgt;
static struct xs_handle *xs;
static const char *log_dir = CONSOLED_LOG_DIR;
static const char *socket_path = CONSOLED_SOCKET;
static struct console consoles[MAX_CONSOLES];
static struct pending pendings[MAX_PENDING];
static uint32_t refused[MAX_CONSOLES];  /* domains whose console cannot be taken */
static size_t nr_refused;
static volatile sig_atomic_t stop_requested, reopen_requested;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pvkit-consoled: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- logs ----------------------------------------------------------------- */

static int open_log(struct console *c)
{
    char path[PATH_MAX];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", log_dir, c->log_name);
    c->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (c->log_fd < 0) {
        say("%s: %s", path, strerror(errno));
        return -errno;
    }
    c->log_bytes = fstat(c->log_fd, &st) == 0 ? (size_t)st.st_size : 0;
    return 0;
}

/* Moves a full log to NAME.log.old and starts a new one. */
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

static void detach_client(struct console *c)
{
    if (c->client_fd >= 0)
        close(c->client_fd);
    c->client_fd = -1;
    c->input_len = 0;
}

/* Copies what the guest printed to the log and the client, within the budget. */
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
        xenevtchn_notify(xce, c->local_port); /* room in `out` again */
}

/* Moves waiting input into the guest's ring, as far as it has room. */
static void feed(struct console *c)
{
    if (!c->input_len)
        return;
    size_t put = cons_put(c->ring, c->input, c->input_len);
    if (!put)
        return;
    memmove(c->input, c->input + put, c->input_len - put);
    c->input_len -= put;
    xenevtchn_notify(xce, c->local_port);
}

static void domain_name(uint32_t domid, char *log_name)
{
    char path[64];
    unsigned int len = 0;
    char *name = NULL;

    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    if (xs)
        name = xs_read(xs, XBT_NULL, path, &len);
    cons_log_name(name, domid, log_name);
    free(name);
}

/*
 * Whether the toolstack has written domid's name yet. A domain `pvkit
 * create` has built is paused until its tree is written: it is attached
 * once it has a name (or runs), so its log is named after it.
 */
static bool has_name(uint32_t domid)
{
    char path[64];
    unsigned int len = 0;
    char *name;

    if (!xs)
        return false;
    snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
    name = xs_read(xs, XBT_NULL, path, &len);
    bool found = name != NULL;
    free(name);
    return found;
}

static bool is_refused(uint32_t domid)
{
    for (size_t i = 0; i < nr_refused; i++)
        if (refused[i] == domid)
            return true;
    return false;
}

/* Takes over, maps and binds domid's console; on failure leaves nothing. */
static void attach_console(uint32_t domid)
{
    struct console *c = NULL;
    uint64_t mfn;
    uint32_t port;
    int rc;

    for (size_t i = 0; i < MAX_CONSOLES && !c; i++)
        if (!consoles[i].used)
            c = &consoles[i];
    if (!c)
        return;
    if ((rc = hv_console_takeover(hv, domid, &mfn, &port))) {
        say("d%u: console not taken over: %s", domid, strerror(-rc));
        if (nr_refused < MAX_CONSOLES)
            refused[nr_refused++] = domid;
        return;
    }
    *c = (struct console){ .domid = domid, .log_fd = -1, .client_fd = -1 };
    c->ring = xengnttab_map_grant_ref(xgt, domid, GNTTAB_RESERVED_CONSOLE,
                                      PROT_READ | PROT_WRITE);
    if (!c->ring) {
        say("d%u: cannot map the console ring: %s", domid, strerror(errno));
        return;
    }
    xenevtchn_port_or_error_t lp = xenevtchn_bind_interdomain(xce, domid, port);
    if (lp < 0) {
        say("d%u: cannot bind the console port %u: %s", domid, port, strerror(errno));
        xengnttab_unmap(xgt, c->ring, 1);
        return;
    }
    c->local_port = (evtchn_port_t)lp;
    domain_name(domid, c->log_name);
    open_log(c);
    c->used = c->seen = true;
    say("d%u: serving its console (log %s/%s)", domid, log_dir, c->log_name);
    drain(c);
}

static void release_console(struct console *c)
{
    drain(c);
    detach_client(c);
    xenevtchn_unbind(xce, c->local_port);
    xengnttab_unmap(xgt, c->ring, 1);
    if (c->log_fd >= 0)
        close(c->log_fd);
    say("d%u: console released", c->domid);
    c->used = false;
}

static struct console *console_of(uint32_t domid)
{
    for (size_t i = 0; i < MAX_CONSOLES; i++)
        if (consoles[i].used && consoles[i].domid == domid)
            return &consoles[i];
    return NULL;
}

/* Serves new domUs, releases those dying or gone. */
static void scan(void)
{
    struct dominfo_list l = { 0 };

    if (hv_list_domains(hv, &l))
        return;
    for (size_t i = 0; i < MAX_CONSOLES; i++)
        consoles[i].seen = false;
    for (size_t i = 0; i < l.nr; i++) {
        const struct dominfo *d = &l.doms[i];
        struct console *c = console_of(d->domid);
        if (d->domid == 0 || d->dying)
            continue;
        if (c)
            c->seen = true;
        else if (!is_refused(d->domid) && (!d->paused || has_name(d->domid)))
            attach_console(d->domid);
    }
    for (size_t i = 0; i < MAX_CONSOLES; i++)
        if (consoles[i].used && !consoles[i].seen)
            release_console(&consoles[i]);
    /* A refused id may be given to a new domain once the old one is gone. */
    for (size_t i = 0; i < nr_refused;)
        if (!dominfo_find(&l, refused[i]))
            refused[i] = refused[--nr_refused];
        else
            i++;
    dominfo_list_free(&l);
}

/* ---- clients -------------------------------------------------------------- */

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

/* The console a client's line "ATTACH <domid>" names, or NULL. */
static struct console *named_console(const char *line)
{
    char *end;
    unsigned long domid;

    if (strncmp(line, "ATTACH ", 7) || line[7] < '0' || line[7] > '9')
        return NULL;
    domid = strtoul(line + 7, &end, 10);
    if ((*end != '\n' && *end != 0) || domid >= 0x7ff0)
        return NULL;
    if (!console_of((uint32_t)domid))
        scan(); /* a domain created a moment ago */
    return console_of((uint32_t)domid);
}

/* A pending client said its line: attach it, or answer why not and close. */
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

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        reopen_requested = 1;
    else
        stop_requested = 1;
}

static void event(void)
{
    xenevtchn_port_or_error_t port = xenevtchn_pending(xce);
    if (port < 0)
        return;
    for (size_t i = 0; i < MAX_CONSOLES; i++)
        if (consoles[i].used && consoles[i].local_port == (evtchn_port_t)port) {
            drain(&consoles[i]);
            feed(&consoles[i]);
        }
    xenevtchn_unmask(xce, (evtchn_port_t)port);
}

/* One poll round over the event channel, the socket, and every client. */
static void serve_once(int listen_fd, uint64_t *next_scan)
{
    struct pollfd fds[2 + MAX_PENDING + MAX_CONSOLES];
    struct console *owner[MAX_CONSOLES];
    size_t nfds = 0, nown = 0;
    uint64_t now = now_ms();

    fds[nfds++] = (struct pollfd){ .fd = xenevtchn_fd(xce), .events = POLLIN };
    fds[nfds++] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
    for (size_t i = 0; i < MAX_PENDING; i++)
        fds[nfds++] = (struct pollfd){ .fd = pendings[i].fd, .events = POLLIN };
    for (size_t i = 0; i < MAX_CONSOLES; i++)
        if (consoles[i].used && consoles[i].client_fd >= 0 &&
            consoles[i].input_len < sizeof(consoles[i].input)) {
            owner[nown++] = &consoles[i];
            fds[nfds++] = (struct pollfd){ .fd = consoles[i].client_fd, .events = POLLIN };
        }
    int timeout = *next_scan > now ? (int)(*next_scan - now) : 0;
    if (poll(fds, nfds, timeout) < 0)
        return;
    if (fds[0].revents & POLLIN)
        event();
    if (fds[1].revents & POLLIN)
        accept_client(listen_fd);
    for (size_t i = 0; i < MAX_PENDING; i++)
        if (pendings[i].fd >= 0 && (fds[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
            pending_read(&pendings[i]);
    for (size_t i = 0; i < nown; i++)
        if (owner[i]->used && owner[i]->client_fd == fds[2 + MAX_PENDING + i].fd &&
            (fds[2 + MAX_PENDING + i].revents & (POLLIN | POLLHUP | POLLERR)))
            client_read(owner[i]);
    now = now_ms();
    for (size_t i = 0; i < MAX_PENDING; i++)
        if (pendings[i].fd >= 0 && now > pendings[i].deadline_ms) {
            close(pendings[i].fd);
            pendings[i].fd = -1;
        }
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

static int usage(FILE *f, int status)
{
    fprintf(f, "usage: pvkit-consoled [--log-dir DIR] [--socket PATH]\n");
    return status;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "log-dir", required_argument, NULL, 'l' },
        { "socket", required_argument, NULL, 's' },
        { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    int opt, rc, listen_fd;
    uint64_t next_scan = 0;

    while ((opt = getopt_long(argc, argv, "l:s:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'l': log_dir = optarg; break;
        case 's': socket_path = optarg; break;
        case 'h': return usage(stdout, 0);
        default: return usage(stderr, 2);
        }
    }
    if (optind != argc)
        return usage(stderr, 2);
    if (mkdir(log_dir, 0750) && errno != EEXIST) {
        say("%s: %s", log_dir, strerror(errno));
        return 1;
    }
    if ((rc = hv_open(&hv))) {
        say("cannot reach the hypervisor: %s", strerror(-rc));
        return 1;
    }
    xce = xenevtchn_open(NULL, 0);
    xgt = xengnttab_open(NULL, 0);
    if (!xce || !xgt) {
        say("cannot open %s: %s", xce ? "/dev/xen/gntdev" : "/dev/xen/evtchn", strerror(errno));
        return 1;
    }
    /* Names only (without XenStore, logs are d<N>.log). The daemon's socket
     * and never the kernel's xenbus device: XS_OPEN_READONLY asks for
     * socket_ro, which xenstore-lite does not serve, and libxenstore then
     * falls back to /dev/xen/xenbus, where a read blocks until the
     * kernel's own xenbus is up; pvkit-consoled hung there at boot. */
    xs = xs_open(XS_OPEN_SOCKETONLY);
    if ((listen_fd = listen_on(socket_path)) < 0) {
        say("%s: %s", socket_path, strerror(-listen_fd));
        return 1;
    }
    for (size_t i = 0; i < MAX_PENDING; i++)
        pendings[i].fd = -1;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGHUP, on_signal);
    say("serving consoles (logs in %s, clients on %s)", log_dir, socket_path);
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
    unlink(socket_path);
    return 0;
}
