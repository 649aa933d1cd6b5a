/*
 * transport_hosted.c - the "hosted" transport: backends and frontends are
 * plain host processes (layout in hosted_layout.h).
 *
 * Grant map checks the granter's v1 entry exactly as the hypervisor would
 * (permit_access, granted to us, read-only honoured, frame inside the
 * domain's grantable pages) and then mmaps just that page of the domain's
 * memfd, so a backend can only touch pages it was granted.  Grant copy
 * checks the same way and copies through one whole-memory mapping per
 * domain.  Known difference from Xen: the granter's GTF_reading/GTF_writing
 * bits are not maintained (only the hypervisor could do so atomically).
 * Domains are cached by domid and trusted without a system call while their
 * header's magic is intact (a hosted domain clears it when it goes away);
 * any failed grant check is retried once against a fresh lookup of the
 * published memfd, which picks up a frontend that restarted (even after a
 * crash).  Old memory stays mapped until the transport closes because
 * in-flight mappings may still point into it.
 */
#define _GNU_SOURCE
#include "common/transport_impl.h"
#include "hosted_layout.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <fcntl.h>
#include <xenstore.h>

struct hosted_dom {
    struct hosted_dom *next;
    domid_t domid;
    int fd;
    dev_t dev;
    ino_t ino;
    uint8_t *mem;                  /* whole memfd, read-write */
    size_t size;
    struct pvk_hosted_hdr hdr;     /* snapshot taken at load */
    grant_entry_v1_t *gnt;
    uint32_t nr_grants;
};

struct hosted_priv {
    pthread_mutex_t lock;
    struct hosted_dom *doms;       /* newest first */
};

struct hosted_ev {
    struct pvk_evtchn_hdr hdr;
    int fd;
    struct sockaddr_un self, peer;
};

/* Contract: checks a header snapshot against the file size. */
static int hdr_valid(const struct pvk_hosted_hdr *h, size_t size, domid_t domid)
{
    return h->magic == PVK_HOSTED_MAGIC && h->domid == domid &&
           (uint64_t)h->nr_pages * PVK_PAGE_SIZE <= size &&
           h->gnt_first == 1 && h->gnt_pages > 0 &&
           h->gnt_first + h->gnt_pages == h->data_first &&
           h->data_first < h->nr_pages;
}

/* Contract: opens and maps the memory of `domid`; NULL with errno. */
static struct hosted_dom *dom_load(domid_t domid, const struct stat *st,
                                   const char *path)
{
    struct hosted_dom *d = calloc(1, sizeof(*d));

    if (!d)
        return NULL;
    d->domid = domid;
    d->fd = open(path, O_RDWR | O_CLOEXEC);
    if (d->fd < 0)
        goto fail;
    d->size = (size_t)st->st_size;
    d->dev = st->st_dev;
    d->ino = st->st_ino;
    d->mem = mmap(NULL, d->size, PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
    if (d->mem == MAP_FAILED)
        goto fail_fd;
    memcpy(&d->hdr, d->mem, sizeof(d->hdr));
    if (!hdr_valid(&d->hdr, d->size, domid)) {
        errno = EPROTO;
        goto fail_map;
    }
    d->gnt = (grant_entry_v1_t *)(d->mem + (size_t)d->hdr.gnt_first * PVK_PAGE_SIZE);
    d->nr_grants = d->hdr.gnt_pages * (PVK_PAGE_SIZE / sizeof(grant_entry_v1_t));
    return d;
fail_map:
    munmap(d->mem, d->size);
fail_fd:
    close(d->fd);
fail:
    free(d);
    return NULL;
}

/* Contract: 1 while the owner of d's memory has not retired it (a hosted
 * domain clears its magic when it goes away). */
static int dom_live(const struct hosted_dom *d)
{
    const struct pvk_hosted_hdr *h = (const struct pvk_hosted_hdr *)d->mem;

    return __atomic_load_n(&h->magic, __ATOMIC_RELAXED) == PVK_HOSTED_MAGIC;
}

/* Contract: the newest cached, still live memory of domid, or NULL. */
static struct hosted_dom *dom_cached(struct hosted_priv *p, domid_t domid)
{
    struct hosted_dom *d;

    pthread_mutex_lock(&p->lock);
    for (d = p->doms; d; d = d->next)
        if (d->domid == domid && dom_live(d))
            break;
    pthread_mutex_unlock(&p->lock);
    return d;
}

/*
 * Contract: returns the memory of `domid`.  Without `fresh` a cached, live
 * one is trusted (no system call); with `fresh` the published memfd is
 * looked up again and loaded if it changed (a restarted frontend).
 */
static struct hosted_dom *dom_get(struct hosted_priv *p, domid_t domid, int fresh)
{
    char path[256];
    struct stat st;
    struct hosted_dom *d = fresh ? NULL : dom_cached(p, domid);

    if (d)
        return d;
    if (pvk_hosted_mem_path(path, sizeof(path), domid) < 0 ||
        stat(path, &st) < 0) {
        errno = ESRCH;
        return NULL;
    }
    pthread_mutex_lock(&p->lock);
    for (d = p->doms; d; d = d->next)
        if (d->domid == domid && d->dev == st.st_dev && d->ino == st.st_ino)
            break;
    if (!d) {
        d = dom_load(domid, &st, path);
        if (d) {
            d->next = p->doms;
            p->doms = d;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return d;
}

/*
 * Contract: validates grant `ref` of `d` for access by `self`, writable if
 * asked; returns the frame (page index) or -1 with *st set to a GNTST_ code.
 */
static int64_t grant_frame(const struct hosted_dom *d, domid_t self,
                           grant_ref_t ref, int writable, int16_t *st)
{
    const grant_entry_v1_t *e;
    uint16_t flags;
    uint32_t frame;

    if (ref >= d->nr_grants) {
        *st = GNTST_bad_gntref;
        return -1;
    }
    e = &d->gnt[ref];
    flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);
    frame = __atomic_load_n(&e->frame, __ATOMIC_RELAXED);
    if ((flags & GTF_type_mask) != GTF_permit_access ||
        __atomic_load_n(&e->domid, __ATOMIC_RELAXED) != self) {
        *st = GNTST_bad_gntref;
        return -1;
    }
    if (writable && (flags & GTF_readonly)) {
        *st = GNTST_permission_denied;
        return -1;
    }
    if (frame < d->hdr.data_first || frame >= d->hdr.nr_pages) {
        *st = GNTST_bad_page;
        return -1;
    }
    *st = GNTST_okay;
    return frame;
}

/* Contract: transport open; own domid from PVKIT_HOSTED_DOMID (default 0). */
static int hosted_open(struct pvk_transport *t)
{
    struct hosted_priv *p = calloc(1, sizeof(*p));
    const char *self = getenv("PVKIT_HOSTED_DOMID");
    struct stat st;
    int bad = stat(pvk_hosted_dir(), &st) < 0 ? errno
              : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;

    if (bad) {   /* where domains publish memory and ports: must exist */
        pvk_transport_set_failed_on(pvk_hosted_dir());
        free(p);
        errno = bad;
        return -1;
    }
    if (!p)
        return -1;
    pthread_mutex_init(&p->lock, NULL);
    t->priv = p;
    t->self = self ? (domid_t)strtoul(self, NULL, 10) : 0;
    return 0;
}

/* Contract: unmaps and closes every domain memory ever loaded. */
static void hosted_close(struct pvk_transport *t)
{
    struct hosted_priv *p = t->priv;

    while (p->doms) {
        struct hosted_dom *d = p->doms;

        p->doms = d->next;
        munmap(d->mem, d->size);
        close(d->fd);
        free(d);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

/* Contract: maps every grant of refs from d at base; 0 or -1. */
static int map_all(struct pvk_transport *t, struct hosted_dom *d, uint8_t *base,
                   uint32_t count, const grant_ref_t *refs, int writable)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);

    for (uint32_t i = 0; i < count; i++) {
        int16_t st;
        int64_t frame = grant_frame(d, t->self, refs[i], writable, &st);

        if (frame < 0 ||
            mmap(base + (size_t)i * PVK_PAGE_SIZE, PVK_PAGE_SIZE, prot,
                 MAP_SHARED | MAP_FIXED, d->fd,
                 (off_t)frame * PVK_PAGE_SIZE) == MAP_FAILED)
            return -1;
    }
    return 0;
}

/*
 * Contract: see pvk_grant_map.  A failure with the cached memory is retried
 * once against a fresh lookup, so a restarted frontend is picked up.
 */
static void *hosted_map(struct pvk_transport *t, domid_t domid, uint32_t count,
                        const grant_ref_t *refs, int writable)
{
    struct hosted_dom *d = dom_get(t->priv, domid, 0), *fresh;
    uint8_t *base;

    if (!d)
        return NULL;
    base = mmap(NULL, (size_t)count * PVK_PAGE_SIZE, PROT_NONE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    if (map_all(t, d, base, count, refs, writable) == 0)
        return base;
    fresh = dom_get(t->priv, domid, 1);
    if (fresh && fresh != d && map_all(t, fresh, base, count, refs, writable) == 0)
        return base;
    munmap(base, (size_t)count * PVK_PAGE_SIZE);
    errno = EINVAL;
    return NULL;
}

/* Contract: that of pvk_grant_unmap (transport.h). */
static int hosted_unmap(struct pvk_transport *t, void *addr, uint32_t count)
{
    (void)t;
    return munmap(addr, (size_t)count * PVK_PAGE_SIZE) < 0 ? -errno : 0;
}

/* Contract: performs one copy segment against domain `d` (retrying once
 * against a fresh lookup of the domain, as hosted_map does). */
static void copy_one(struct pvk_transport *t, struct hosted_dom *d,
                     struct pvk_copy_seg *s)
{
    int64_t frame;
    uint8_t *page;

    if ((uint32_t)s->offset + s->len > PVK_PAGE_SIZE) {
        s->status = GNTST_bad_copy_arg;
        return;
    }
    frame = grant_frame(d, t->self, s->ref, s->to_foreign, &s->status);
    if (frame < 0) {
        struct hosted_dom *fresh = dom_get(t->priv, s->domid, 1);

        if (!fresh || fresh == d)
            return;
        d = fresh;
        frame = grant_frame(d, t->self, s->ref, s->to_foreign, &s->status);
        if (frame < 0)
            return;
    }
    page = d->mem + (size_t)frame * PVK_PAGE_SIZE;
    if (s->to_foreign)
        memcpy(page + s->offset, s->local, s->len);
    else
        memcpy(s->local, page + s->offset, s->len);
}

/* Contract: that of pvk_grant_copy; per-segment status, always returns 0. */
static int hosted_copy(struct pvk_transport *t, uint32_t count,
                       struct pvk_copy_seg *segs)
{
    struct hosted_dom *d = NULL;

    for (uint32_t i = 0; i < count; i++) {
        if (!d || d->domid != segs[i].domid)
            d = dom_get(t->priv, segs[i].domid, 0);
        if (!d) {
            segs[i].status = GNTST_bad_domain;
            continue;
        }
        copy_one(t, d, &segs[i]);
    }
    return 0;
}

/* Contract: fills a sockaddr_un from a path; -1 if it does not fit. */
static int set_addr(struct sockaddr_un *a, const char *path)
{
    memset(a, 0, sizeof(*a));
    a->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(a->sun_path))
        return -1;
    strcpy(a->sun_path, path);
    return 0;
}

/*
 * Contract: binds our end of the frontend's port.  Fails with EINVAL if the
 * frontend never allocated the port.  Like Xen, the new port starts pending
 * so that notifications sent before the bind are not lost.
 */
static struct pvk_evtchn *hosted_bind(struct pvk_transport *t, domid_t domid,
                                      evtchn_port_t remote)
{
    struct hosted_ev *ev = calloc(1, sizeof(*ev));
    char fe[256], be[256];
    struct stat st;

    (void)t;
    if (!ev)
        return NULL;
    ev->hdr.ops = &pvk_transport_hosted_ops;
    if (pvk_hosted_port_path(fe, sizeof(fe), domid, remote, 0) < 0 ||
        pvk_hosted_port_path(be, sizeof(be), domid, remote, 1) < 0 ||
        stat(fe, &st) < 0 || !S_ISSOCK(st.st_mode) ||
        set_addr(&ev->peer, fe) < 0 || set_addr(&ev->self, be) < 0) {
        free(ev);
        errno = EINVAL;
        return NULL;
    }
    ev->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    unlink(be);
    if (ev->fd < 0 ||
        bind(ev->fd, (struct sockaddr *)&ev->self, sizeof(ev->self)) < 0) {
        int e = errno;

        if (ev->fd >= 0)
            close(ev->fd);
        free(ev);
        errno = e;
        return NULL;
    }
    sendto(ev->fd, "", 1, MSG_DONTWAIT, (struct sockaddr *)&ev->self,
           sizeof(ev->self));
    return (struct pvk_evtchn *)ev;
}

/* Contract: that of pvk_evtchn_fd: the datagram socket. */
static int hosted_ev_fd(struct pvk_evtchn *e)
{
    return ((struct hosted_ev *)e)->fd;
}

/* Contract: a full peer queue already means "pending", so EAGAIN is fine. */
static void hosted_ev_notify(struct pvk_evtchn *e)
{
    struct hosted_ev *ev = (struct hosted_ev *)e;

    sendto(ev->fd, "", 1, MSG_DONTWAIT, (struct sockaddr *)&ev->peer,
           sizeof(ev->peer));
}

/* Contract: that of pvk_evtchn_ack: drains queued datagrams. */
static void hosted_ev_ack(struct pvk_evtchn *e)
{
    struct hosted_ev *ev = (struct hosted_ev *)e;
    char buf[64];

    while (recv(ev->fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
        ;
}

/* Contract: closes and unlinks our end; the frontend end stays. */
static void hosted_ev_unbind(struct pvk_evtchn *e)
{
    struct hosted_ev *ev = (struct hosted_ev *)e;

    close(ev->fd);
    unlink(ev->self.sun_path);
    free(ev);
}

/* Contract: a socket-only libxenstore connection (XENSTORED_PATH). */
static struct xs_handle *hosted_store_open(struct pvk_transport *t)
{
    struct xs_handle *h = xs_open(XS_OPEN_SOCKETONLY);

    (void)t;
    if (!h) {
        int e = errno;

        pvk_transport_set_failed_on(pvk_store_socket_path());
        errno = e;
    }
    return h;
}

/* An ops table like transport_xen.c's: each transport's own functions, by design. */
const struct pvk_transport_ops pvk_transport_hosted_ops = {
    .name = "hosted",
    .open = hosted_open,
    .close = hosted_close,
    .map = hosted_map,
    .unmap = hosted_unmap,
    .copy = hosted_copy,
    .bind = hosted_bind,
    .ev_fd = hosted_ev_fd,
    .ev_notify = hosted_ev_notify,
    .ev_ack = hosted_ev_ack,
    .ev_unbind = hosted_ev_unbind,
    .store_open = hosted_store_open,
};
