/*
 * xbback.c - the xenbus-backend core (xbback.h): daemon, device discovery,
 * the backend's xenbus state machine, error reporting and queue threads.
 *
 * Discovery: one watch on the root (token = the class type) sees devices
 * appear and go; one watch per device on its frontend's state (token = the
 * device's backend path) drives the state machine.  A device whose backend
 * state cannot be read is destroyed.  Every frontend path is checked to be
 * absolute and short enough before use; every number parsed from a watched
 * path is range-checked (domid <= 0x7fef, id <= UINT32_MAX).
 */
#define _GNU_SOURCE
#include "xbback.h"
#include "common/cli.h"
#include "common/log.h"
#include "common/xsutil.h"
#include "proto/keys.h"
#include "proto/xbstate.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* Contract: records the state both locally and in the store. */
static void set_state(struct xbb_dev *d, int state)
{
    if (xsu_switch_state(d->be->xs, d->path, state) < 0)
        pvk_err("%s: cannot switch to %s", d->path, xbstate_name(state));
    d->state = state;
}

/* Contract: writes `msg` to error/<backend node>/error in our home, as
 * xenbus_dev_fatal does, and logs it (rate-limited). */
static void report_error(struct xbb_dev *d, const char *msg)
{
    char dir[256];

    snprintf(dir, sizeof(dir), "/local/domain/%u/error/backend/%s/%u/%u",
             pvk_transport_self(d->be->t), d->be->cls->type, d->fe_domid, d->id);
    xsu_printf(d->be->xs, XBT_NULL, dir, "error", "%s", msg);
    pvk_log_guest("%s: %s", d->path, msg);
}

/* Contract: reports `msg`, stops the queues and goes Closing. */
static void fail_closing(struct xbb_dev *d, const char *msg)
{
    d->be->cls->disconnect(d);
    report_error(d, msg);
    set_state(d, XenbusStateClosing);
}

/* Contract: probes once: class probe, then InitWait; -1 if refused. */
static int probe(struct xbb_dev *d)
{
    if (d->be->cls->probe(d) < 0) {
        report_error(d, d->be->cls->probe_error);
        set_state(d, XenbusStateClosing);
        return -1;
    }
    d->probed = 1;
    set_state(d, XenbusStateInitWait);
    return 0;
}

/* Contract: brings `d` in line with its frontend's state. */
static void dev_update(struct xbb_dev *d)
{
    const struct xbb_class *cls = d->be->cls;
    int fe;

    if (atomic_load(&d->failed) && d->state == XenbusStateConnected) {
        atomic_store(&d->failed, 0);
        fail_closing(d, cls->drop_error);
        return;
    }
    if (!d->probed && probe(d) < 0)
        return;
    fe = xsu_state(d->be->xs, d->fepath);
    switch (xbstate_backend_action(d->state, fe < 0 ? XenbusStateUnknown : fe)) {
    case XBACT_CONNECT:
        if (cls->connect(d) < 0)
            fail_closing(d, cls->connect_error);
        else
            set_state(d, XenbusStateConnected);
        break;
    case XBACT_CLOSING:
        cls->disconnect(d);
        set_state(d, XenbusStateClosing);
        break;
    case XBACT_CLOSED:
        cls->disconnect(d);
        if (cls->closed)
            cls->closed(d);
        set_state(d, XenbusStateClosed);
        break;
    case XBACT_RESET:
        set_state(d, XenbusStateInitWait);
        break;
    case XBACT_NONE:
        break;
    }
}

/* Contract: a new device for (fe, id): reads `frontend`, watches its
 * state; NULL if the frontend path is missing or unusable. */
static struct xbb_dev *dev_create(struct xbb_backend *be, domid_t fe,
                                  unsigned id)
{
    struct xbb_dev *d = calloc(1, be->cls->dev_size);
    char *fepath, w[192];

    if (!d)
        return NULL;
    d->be = be;
    d->fe_domid = fe;
    d->id = id;
    snprintf(d->path, sizeof(d->path), "%s/%u/%u", be->root, fe, id);
    if (be->cls->init)
        be->cls->init(d);
    fepath = xsu_read(be->xs, XBT_NULL, d->path, PVK_KEY_FRONTEND);
    if (!fepath || fepath[0] != '/' || strlen(fepath) >= sizeof(d->fepath) - 32) {
        free(fepath);
        free(d);
        return NULL;
    }
    strcpy(d->fepath, fepath);
    free(fepath);
    snprintf(w, sizeof(w), "%s/state", d->fepath);
    d->watching = xs_watch(be->xs, w, d->path);
    d->state = xsu_state(be->xs, d->path);
    return d;
}

/* Contract: stops the data path and frees `d` (not its store nodes). */
static void dev_destroy(struct xbb_dev *d)
{
    char w[192];

    d->be->cls->disconnect(d);
    if (d->watching) {
        snprintf(w, sizeof(w), "%s/state", d->fepath);
        xs_unwatch(d->be->xs, w, d->path);
    }
    if (d->be->cls->release)
        d->be->cls->release(d);
    free(d);
}

/* Contract: finds the device (fe, id); NULL if none. */
static struct xbb_dev *find(struct xbb_backend *be, domid_t fe, unsigned id)
{
    for (struct xbb_dev *d = be->devs; d; d = d->next)
        if (d->fe_domid == fe && d->id == id)
            return d;
    return NULL;
}

/* Contract: unlinks and destroys `d`. */
static void forget(struct xbb_backend *be, struct xbb_dev *d)
{
    struct xbb_dev **pp = &be->devs;

    while (*pp != d)
        pp = &(*pp)->next;
    *pp = d->next;
    dev_destroy(d);
}

/* Contract: brings device (fe, id) up to date, creating or removing it. */
static void device_changed(struct xbb_backend *be, domid_t fe, unsigned id)
{
    struct xbb_dev *d = find(be, fe, id);
    char path[160];

    snprintf(path, sizeof(path), "%s/%u/%u", be->root, fe, id);
    if (xsu_state(be->xs, path) < 0) {
        if (d)
            forget(be, d);
        return;
    }
    if (!d) {
        d = dev_create(be, fe, id);
        if (!d)
            return;
        d->next = be->devs;
        be->devs = d;
    }
    dev_update(d);
}

/* Contract: parses "<root>/<fe>/<id>[/...]"; 0 on success. */
static int parse_dev_path(const struct xbb_backend *be, const char *path,
                          unsigned *fe, unsigned *id)
{
    size_t n = strlen(be->root);
    char *end;
    unsigned long a, b;

    if (strncmp(path, be->root, n) != 0 || path[n] != '/')
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
static void scan_all(struct xbb_backend *be)
{
    unsigned nfe = 0;
    char **fes = xs_directory(be->xs, XBT_NULL, be->root, &nfe);

    for (unsigned i = 0; fes && i < nfe; i++) {
        char dir[128];
        unsigned nid = 0;
        char **ids;

        snprintf(dir, sizeof(dir), "%s/%s", be->root, fes[i]);
        ids = xs_directory(be->xs, XBT_NULL, dir, &nid);
        for (unsigned j = 0; ids && j < nid; j++)
            device_changed(be, (domid_t)strtoul(fes[i], NULL, 10),
                           (unsigned)strtoul(ids[j], NULL, 10));
        free(ids);
    }
    free(fes);
}

/* Contract: dispatches one watch event. */
static void on_watch(struct xbb_backend *be, const char *path, const char *token)
{
    unsigned fe, id;

    if (strcmp(token, be->cls->type) != 0) {
        for (struct xbb_dev *d = be->devs; d; d = d->next)
            if (strcmp(d->path, token) == 0) {
                device_changed(be, d->fe_domid, d->id);
                return;
            }
        return;
    }
    if (parse_dev_path(be, path, &fe, &id) == 0)
        device_changed(be, (domid_t)fe, id);
    else if (strcmp(path, be->root) == 0)
        scan_all(be);
}

/* Contract: drains the store's watch queue. */
static void drain_watches(struct xbb_backend *be)
{
    char **ev;

    while ((ev = xs_check_watch(be->xs)) != NULL) {
        on_watch(be, ev[XS_WATCH_PATH], ev[XS_WATCH_TOKEN]);
        free(ev);
    }
}

/* Contract: handles devices whose queues reported a broken ring. */
static void handle_failures(struct xbb_backend *be)
{
    uint64_t n;

    if (read(be->wake_fd, &n, sizeof(n)) < 0)
        return;
    for (struct xbb_dev *d = be->devs; d; d = d->next)
        if (atomic_load(&d->failed))
            dev_update(d);
}

/* Contract: opens transport, store and watches; 0 or -1 with a message. */
static int setup(struct xbb_backend *be, const char *kind)
{
    if (pvk_connect(kind, &be->t, &be->xs) < 0)
        return -1;
    snprintf(be->root, sizeof(be->root), "/local/domain/%u/backend/%s",
             pvk_transport_self(be->t), be->cls->type);
    be->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (xs_fileno(be->xs) < 0 || be->wake_fd < 0 ||
        !xs_watch(be->xs, be->root, be->cls->type)) {
        pvk_err("cannot watch %s: %s", be->root, strerror(errno));
        return -1;
    }
    return 0;
}

/* Contract: serves until a termination signal arrives. */
static void run(struct xbb_backend *be, int sfd)
{
    struct pollfd p[3] = {
        { .fd = xs_fileno(be->xs), .events = POLLIN },
        { .fd = be->wake_fd, .events = POLLIN },
        { .fd = sfd, .events = POLLIN },
    };

    for (;;) {
        if (poll(p, 3, -1) < 0 && errno != EINTR)
            return;
        if (p[2].revents)
            return;
        if (p[0].revents)
            drain_watches(be);
        if (p[1].revents)
            handle_failures(be);
    }
}

/* Contract: see xbback.h. */
int xbb_main(struct xbb_backend *be, const struct pvk_cli *cli, int argc,
             char **argv)
{
    const char *kind = pvk_cli_parse(cli, be, argc, argv);
    sigset_t set;
    int sfd;

    pvk_log_init(cli->prog);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0 || setup(be, kind) < 0) {
        if (be->xs)
            xs_close(be->xs);
        pvk_transport_close(be->t);
        return 1;
    }
    pvk_info("serving %s", be->root);
    run(be, sfd);
    while (be->devs)
        forget(be, be->devs);
    xs_close(be->xs);
    pvk_transport_close(be->t);
    return 0;
}

/* Contract: see xbback.h. */
unsigned xbb_num_queues(const struct xbb_dev *d)
{
    uint64_t nq = xsu_read_u64(d->be->xs, XBT_NULL, d->fepath,
                               PVK_KEY_MQ_NUM_QUEUES, 1);

    return nq == 0 || nq > d->be->max_queues ? 0 : (unsigned)nq;
}

/* Contract: see xbback.h. */
void xbb_queue_dir(const struct xbb_dev *d, unsigned nq, unsigned i, char *buf,
                   size_t len)
{
    if (nq == 1)
        snprintf(buf, len, "%s", d->fepath);
    else
        snprintf(buf, len, "%s/queue-%u", d->fepath, i);
}

/* Contract: see xbback.h. */
void xbb_dev_fail(struct xbb_dev *d, unsigned queue, const char *why)
{
    uint64_t one = 1;

    pvk_log_guest("%s: queue %u: %s, dropping %s", d->path, queue, why,
                  d->be->cls->noun);
    atomic_store(&d->failed, 1);
    if (write(d->be->wake_fd, &one, sizeof(one)) < 0)
        pvk_err("wake main thread: %s", strerror(errno));
}

/* Contract: see xbback.h. */
int xbb_thread_init(struct xbb_thread *th)
{
    th->running = 0;
    th->stop_fd = eventfd(0, EFD_CLOEXEC);
    return th->stop_fd < 0 ? -1 : 0;
}

/* Contract: see xbback.h. */
int xbb_thread_run(struct xbb_thread *th, int ready, void *(*fn)(void *),
                   void (*release)(void *), void *arg)
{
    th->release = release;
    th->arg = arg;
    if (!ready || pthread_create(&th->tid, NULL, fn, arg) != 0) {
        release(arg);
        return -1;
    }
    th->running = 1;
    return 0;
}

/* Contract: see xbback.h. */
void xbb_thread_stop(struct xbb_thread *th)
{
    uint64_t one = 1;

    if (!th->running)
        return;
    if (write(th->stop_fd, &one, sizeof(one)) < 0)
        pvk_err("stop queue: %s", strerror(errno));
    pthread_join(th->tid, NULL);
    th->running = 0;
    th->release(th->arg);
}

/* Contract: see xbback.h. */
void xbb_thread_fini(struct xbb_thread *th)
{
    if (th->stop_fd >= 0)
        close(th->stop_fd);
    th->stop_fd = -1;
}
