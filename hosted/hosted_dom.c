/*
 * hosted_dom.c - implementation of hosted_dom.h (host code, not
 * freestanding).
 *
 * Memory: a bump allocator over the data pages of the memfd, with a free
 * list of single pages; multi-page allocations (rings) always come from the
 * bump region so they are contiguous both virtually and in frame numbers.
 * Grants: entries from GNTTAB_NR_RESERVED_ENTRIES upward, recycled through a
 * free stack; granting writes domid and frame before flags (with a release
 * fence), revoking clears flags.  Event channels: port N is the datagram
 * socket dom<D>.port<N>.fe; notify sends one byte to dom<D>.port<N>.be.
 */
#define _GNU_SOURCE
#include "hosted_dom.h"
#include "hosted_layout.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#define MAX_PORTS 64
#define GNT_PAGES 16

struct hosted_dom {
    struct pvf_os os;
    domid_t domid;
    int memfd;
    uint8_t *mem;
    size_t size;
    struct pvk_hosted_hdr *hdr;
    grant_entry_v1_t *gnt;
    uint32_t nr_grants, next_gref, nr_free_grefs;
    grant_ref_t *free_grefs;
    uint32_t next_page;
    uint32_t *free_pages;
    uint32_t nr_free_pages;
    int port_fd[MAX_PORTS];
    struct xs_handle *xs;
    char link[256];
    int console;                /* console keys were published */
};

/* Contract: pvf_os.zalloc: calloc. */
static void *g_zalloc(void *ctx, unsigned long size)
{
    (void)ctx;
    return calloc(1, size);
}

/* Contract: pvf_os.free: free (NULL allowed). */
static void g_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* Contract: frame number of a page inside the memfd mapping. */
static uint32_t frame_of(struct hosted_dom *d, void *va)
{
    return (uint32_t)(((uint8_t *)va - d->mem) / PVK_PAGE_SIZE);
}

/* Contract: pvf_os.pages_alloc; NULL when the memfd is exhausted. */
static void *g_pages_alloc(void *ctx, unsigned n, uint64_t *frames)
{
    struct hosted_dom *d = ctx;
    uint32_t first;

    if (n == 1 && d->nr_free_pages) {
        first = d->free_pages[--d->nr_free_pages];
    } else {
        if (d->next_page + n > d->hdr->nr_pages)
            return NULL;
        first = d->next_page;
        d->next_page += n;
    }
    memset(d->mem + (size_t)first * PVK_PAGE_SIZE, 0, (size_t)n * PVK_PAGE_SIZE);
    for (unsigned i = 0; i < n; i++)
        frames[i] = first + i;
    return d->mem + (size_t)first * PVK_PAGE_SIZE;
}

/* Contract: pvf_os.pages_free: pages go to the single-page free list. */
static void g_pages_free(void *ctx, void *va, unsigned n)
{
    struct hosted_dom *d = ctx;

    for (unsigned i = 0; va && i < n; i++)
        d->free_pages[d->nr_free_pages++] = frame_of(d, va) + i;
}

/* Contract: pvf_os.grant: fills a v1 entry, flags last; -XEN_ENOSPC if full. */
static int g_grant(void *ctx, domid_t to, uint64_t frame, int ro, grant_ref_t *ref)
{
    struct hosted_dom *d = ctx;
    grant_ref_t r;

    if (d->nr_free_grefs)
        r = d->free_grefs[--d->nr_free_grefs];
    else if (d->next_gref < d->nr_grants)
        r = d->next_gref++;
    else
        return -XEN_ENOSPC;
    d->gnt[r].domid = to;
    d->gnt[r].frame = (uint32_t)frame;
    __atomic_store_n(&d->gnt[r].flags,
                     (uint16_t)(GTF_permit_access | (ro ? GTF_readonly : 0)),
                     __ATOMIC_RELEASE);
    *ref = r;
    return 0;
}

/* Contract: pvf_os.ungrant: clears the entry and recycles the ref. */
static int g_ungrant(void *ctx, grant_ref_t ref)
{
    struct hosted_dom *d = ctx;

    if (ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= d->nr_grants)
        return -XEN_EINVAL;
    __atomic_store_n(&d->gnt[ref].flags, 0, __ATOMIC_RELEASE);
    d->free_grefs[d->nr_free_grefs++] = ref;
    return 0;
}

/* Contract: fills the socket address of one end of a port. */
static int port_addr(struct hosted_dom *d, unsigned port, int be,
                     struct sockaddr_un *a)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    return pvk_hosted_port_path(a->sun_path, sizeof(a->sun_path), d->domid,
                                port, be);
}

/* Contract: pvf_os.evtchn_alloc: binds dom<D>.port<P>.fe. */
static int g_evtchn_alloc(void *ctx, domid_t remote, evtchn_port_t *port)
{
    struct hosted_dom *d = ctx;
    struct sockaddr_un a;

    (void)remote;
    for (unsigned p = 1; p < MAX_PORTS; p++) {
        if (d->port_fd[p] >= 0)
            continue;
        if (port_addr(d, p, 0, &a) < 0)
            return -XEN_E2BIG;
        unlink(a.sun_path);
        d->port_fd[p] = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (d->port_fd[p] < 0 ||
            bind(d->port_fd[p], (struct sockaddr *)&a, sizeof(a)) < 0) {
            if (d->port_fd[p] >= 0)
                close(d->port_fd[p]);
            d->port_fd[p] = -1;
            return -XEN_EIO;
        }
        *port = p;
        return 0;
    }
    return -XEN_ENOSPC;
}

/* Contract: pvf_os.evtchn_notify: one datagram to the backend end. */
static void g_evtchn_notify(void *ctx, evtchn_port_t port)
{
    struct hosted_dom *d = ctx;
    struct sockaddr_un a;

    if (port >= MAX_PORTS || d->port_fd[port] < 0 || port_addr(d, port, 1, &a) < 0)
        return;
    sendto(d->port_fd[port], "", 1, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof(a));
}

/* Contract: pvf_os.evtchn_close: closes and unlinks our end. */
static void g_evtchn_close(void *ctx, evtchn_port_t port)
{
    struct hosted_dom *d = ctx;
    struct sockaddr_un a;

    if (port >= MAX_PORTS || d->port_fd[port] < 0)
        return;
    close(d->port_fd[port]);
    d->port_fd[port] = -1;
    if (port_addr(d, port, 0, &a) == 0)
        unlink(a.sun_path);
}

/* Contract: maps errno after a failed libxenstore call to -XEN_E*. */
static int xs_err(void)
{
    switch (errno) {
    case ENOENT: return -XEN_ENOENT;
    case EAGAIN: return -XEN_EAGAIN;
    case EACCES: return -XEN_EACCES;
    case EINVAL: return -XEN_EINVAL;
    default:     return -XEN_EIO;
    }
}

/* Contract: pvf_os.store_read (value truncated to len - 1 bytes). */
static int g_store_read(void *ctx, uint32_t tx, const char *path, char *buf,
                        unsigned len)
{
    struct hosted_dom *d = ctx;
    unsigned n;
    char *v;

    if (!d->xs)
        return -XEN_ENOSYS;
    v = xs_read(d->xs, tx, path, &n);
    if (!v)
        return xs_err();
    if (n >= len)
        n = len - 1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    free(v);
    return (int)n;
}

/* Contract: pvf_os.store_write. */
static int g_store_write(void *ctx, uint32_t tx, const char *path, const char *val)
{
    struct hosted_dom *d = ctx;

    if (!d->xs)
        return -XEN_ENOSYS;
    return xs_write(d->xs, tx, path, val, (unsigned)strlen(val)) ? 0 : xs_err();
}

/* Contract: pvf_os.store_tx_start. */
static int g_tx_start(void *ctx, uint32_t *tx)
{
    struct hosted_dom *d = ctx;

    if (!d->xs)
        return -XEN_ENOSYS;
    *tx = xs_transaction_start(d->xs);
    return *tx ? 0 : xs_err();
}

/* Contract: pvf_os.store_tx_end; -XEN_EAGAIN on conflict. */
static int g_tx_end(void *ctx, uint32_t tx, int abort)
{
    struct hosted_dom *d = ctx;

    if (!d->xs)
        return -XEN_ENOSYS;
    return xs_transaction_end(d->xs, tx, abort != 0) ? 0 : xs_err();
}

/* Contract: pvf_os.store_watch; the token is the path. */
static int g_watch(void *ctx, const char *path)
{
    struct hosted_dom *d = ctx;

    if (!d->xs)
        return -XEN_ENOSYS;
    return xs_watch(d->xs, path, path) ? 0 : xs_err();
}

/* Contract: pvf_os.store_unwatch. */
static int g_unwatch(void *ctx, const char *path)
{
    struct hosted_dom *d = ctx;

    if (!d->xs)
        return -XEN_ENOSYS;
    return xs_unwatch(d->xs, path, path) ? 0 : xs_err();
}

/* Contract: waits for the watch fd, then drains all queued events. */
static int g_store_wait(void *ctx, unsigned ms)
{
    struct hosted_dom *d = ctx;
    struct pollfd p = { .fd = xs_fileno(d->xs), .events = POLLIN };
    char **ev;
    int got = 0;

    if (!d->xs)
        return -XEN_ENOSYS;
    if (poll(&p, 1, (int)ms) <= 0)
        return -XEN_ETIMEDOUT;
    while ((ev = xs_check_watch(d->xs)) != NULL) {
        got = 1;
        free(ev);
    }
    return got ? 0 : -XEN_ETIMEDOUT;
}

/* Contract: pvf_os.now_ms: CLOCK_MONOTONIC in milliseconds. */
static uint64_t g_now_ms(void *ctx)
{
    struct timespec ts;

    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Contract: creates, sizes, maps and publishes the domain's memfd. */
static int mem_create(struct hosted_dom *d, unsigned nr_pages)
{
    char target[64];

    d->memfd = memfd_create("pvkit-hosted-dom", MFD_CLOEXEC);
    d->size = (size_t)nr_pages * PVK_PAGE_SIZE;
    if (d->memfd < 0 || ftruncate(d->memfd, (off_t)d->size) < 0)
        return -1;
    d->mem = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, d->memfd, 0);
    if (d->mem == MAP_FAILED) {
        d->mem = NULL;
        return -1;
    }
    d->hdr = (struct pvk_hosted_hdr *)d->mem;
    d->hdr->magic = PVK_HOSTED_MAGIC;
    d->hdr->domid = d->domid;
    d->hdr->nr_pages = nr_pages;
    d->hdr->gnt_first = 1;
    d->hdr->gnt_pages = GNT_PAGES;
    d->hdr->data_first = 1 + GNT_PAGES;
    d->hdr->pid = (uint32_t)getpid();
    d->gnt = (grant_entry_v1_t *)(d->mem + PVK_PAGE_SIZE);
    d->nr_grants = GNT_PAGES * PVK_PAGE_SIZE / sizeof(grant_entry_v1_t);
    d->next_gref = GNTTAB_NR_RESERVED_ENTRIES;
    d->next_page = d->hdr->data_first;
    snprintf(target, sizeof(target), "/proc/%d/fd/%d", getpid(), d->memfd);
    mkdir(pvk_hosted_dir(), 0700);
    if (pvk_hosted_mem_path(d->link, sizeof(d->link), d->domid) < 0)
        return -1;
    unlink(d->link);
    return symlink(target, d->link);
}

/* Contract: fills the glue table with this file's functions. */
static void fill_os(struct hosted_dom *d)
{
    d->os = (struct pvf_os){
        .ctx = d, .self = d->domid,
        .zalloc = g_zalloc, .free = g_free,
        .pages_alloc = g_pages_alloc, .pages_free = g_pages_free,
        .grant = g_grant, .ungrant = g_ungrant,
        .evtchn_alloc = g_evtchn_alloc, .evtchn_notify = g_evtchn_notify,
        .evtchn_close = g_evtchn_close,
        .store_read = g_store_read, .store_write = g_store_write,
        .store_tx_start = g_tx_start, .store_tx_end = g_tx_end,
        .store_watch = g_watch, .store_unwatch = g_unwatch,
        .store_wait = g_store_wait, .now_ms = g_now_ms,
    };
}

struct hosted_dom *hosted_dom_create(domid_t domid, unsigned nr_pages,
                                     int with_store)
{
    struct hosted_dom *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->domid = domid;
    d->memfd = -1;
    for (unsigned i = 0; i < MAX_PORTS; i++)
        d->port_fd[i] = -1;
    fill_os(d);
    if (nr_pages <= 1 + GNT_PAGES || mem_create(d, nr_pages) < 0)
        goto fail;
    d->free_pages = calloc(nr_pages, sizeof(*d->free_pages));
    d->free_grefs = calloc(d->nr_grants, sizeof(*d->free_grefs));
    if (!d->free_pages || !d->free_grefs)
        goto fail;
    if (with_store) {
        d->xs = xs_open(XS_OPEN_SOCKETONLY);
        if (!d->xs || xs_fileno(d->xs) < 0)
            goto fail;
    }
    return d;
fail:
    hosted_dom_destroy(d);
    return NULL;
}

void hosted_dom_destroy(struct hosted_dom *d)
{
    if (!d)
        return;
    for (unsigned p = 1; p < MAX_PORTS; p++)
        g_evtchn_close(d, p);
    if (d->xs && d->console) {
        char dir[64];

        snprintf(dir, sizeof(dir), "/local/domain/%u/console", d->domid);
        xs_rm(d->xs, XBT_NULL, dir);
    }
    if (d->xs)
        xs_close(d->xs);
    if (d->link[0])
        unlink(d->link);
    if (d->hdr)
        __atomic_store_n(&d->hdr->magic, 0, __ATOMIC_RELEASE);
    if (d->mem)
        munmap(d->mem, d->size);
    if (d->memfd >= 0)
        close(d->memfd);
    free(d->free_pages);
    free(d->free_grefs);
    free(d);
}

const struct pvf_os *hosted_dom_os(struct hosted_dom *d)
{
    return &d->os;
}

int hosted_dom_wait(struct hosted_dom *d, int ms)
{
    struct pollfd p[MAX_PORTS];
    unsigned n = 0;
    int got = 0;

    for (unsigned i = 1; i < MAX_PORTS; i++)
        if (d->port_fd[i] >= 0)
            p[n++] = (struct pollfd){ .fd = d->port_fd[i], .events = POLLIN };
    if (poll(p, n, ms) <= 0)
        return 0;
    for (unsigned i = 0; i < n; i++) {
        char buf[64];

        while (recv(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
            got = 1;
    }
    return got;
}

/* Contract: writes "<dir>/<key>" = val through the glue's store. */
static int put_key(struct hosted_dom *d, const char *dir, const char *key,
                   const char *val)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    return g_store_write(d, 0, path, val);
}

int hosted_dom_console(struct hosted_dom *d, struct xencons_interface **intf,
                       evtchn_port_t *port)
{
    grant_entry_v1_t *e = &d->gnt[GNTTAB_RESERVED_CONSOLE];
    char dir[64], val[24];
    uint64_t frame;
    int rc;

    *intf = g_pages_alloc(d, 1, &frame);
    if (!*intf)
        return -XEN_ENOMEM;
    e->domid = 0;
    e->frame = (uint32_t)frame;
    __atomic_store_n(&e->flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
    rc = g_evtchn_alloc(d, 0, port);
    if (rc < 0)
        return rc;
    snprintf(dir, sizeof(dir), "/local/domain/%u/console", d->domid);
    snprintf(val, sizeof(val), "%llu", (unsigned long long)frame);
    rc = put_key(d, dir, "ring-ref", val);
    snprintf(val, sizeof(val), "%u", *port);
    if (rc == 0)
        rc = put_key(d, dir, "port", val);
    d->console = 1;
    return rc == 0 ? put_key(d, dir, "type", "xenconsoled") : rc;
}

struct xs_handle *hosted_dom_xs(struct hosted_dom *d)
{
    return d->xs;
}

grant_entry_v1_t *hosted_dom_grant_entry(struct hosted_dom *d, grant_ref_t ref)
{
    return ref < d->nr_grants ? &d->gnt[ref] : NULL;
}
