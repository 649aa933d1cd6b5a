/*
 * transport.c - run-time selection of a transport, dispatch of the
 * transport.h calls through its operations table, and a daemon's start-up
 * (transport and store, with its one-line errors).
 */
#include "transport_impl.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Start-up diagnostics only: written and read by the main thread. */
static char failed_on[512] = "(nothing)";

void pvk_transport_set_failed_on(const char *what)
{
    snprintf(failed_on, sizeof(failed_on), "%s", what);
}

const char *pvk_transport_failed_on(void)
{
    return failed_on;
}

const char *pvk_store_socket_path(void)
{
    static char buf[512];
    const char *p = getenv("XENSTORED_PATH");
    const char *dir = getenv("XENSTORED_RUNDIR");

    if (p)
        return p;
    snprintf(buf, sizeof(buf), "%s/socket", dir ? dir : "/var/run/xenstored");
    return buf;
}

static const struct pvk_transport_ops *const all_ops[] = {
    &pvk_transport_xen_ops,
    &pvk_transport_hosted_ops,
};

/* Contract: see transport.h. */
struct pvk_transport *pvk_transport_open(const char *kind)
{
    for (size_t i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++) {
        struct pvk_transport *t;

        if (strcmp(all_ops[i]->name, kind) != 0)
            continue;
        t = calloc(1, sizeof(*t));
        if (!t)
            return NULL;
        t->ops = all_ops[i];
        if (t->ops->open(t) < 0) {
            int e = errno;

            free(t);
            errno = e;
            return NULL;
        }
        return t;
    }
    pvk_transport_set_failed_on(kind);
    errno = EINVAL;
    return NULL;
}

void pvk_transport_close(struct pvk_transport *t)
{
    if (!t)
        return;
    t->ops->close(t);
    free(t);
}

const char *pvk_transport_kind(const struct pvk_transport *t)
{
    return t->ops->name;
}

domid_t pvk_transport_self(const struct pvk_transport *t)
{
    return t->self;
}

void *pvk_grant_map(struct pvk_transport *t, domid_t domid, uint32_t count,
                    const grant_ref_t *refs, int writable)
{
    if (count == 0) {
        errno = EINVAL;
        return NULL;
    }
    return t->ops->map(t, domid, count, refs, writable);
}

int pvk_grant_unmap(struct pvk_transport *t, void *addr, uint32_t count)
{
    return t->ops->unmap(t, addr, count);
}

int pvk_grant_copy(struct pvk_transport *t, uint32_t count,
                   struct pvk_copy_seg *segs)
{
    return t->ops->copy(t, count, segs);
}

struct pvk_evtchn *pvk_evtchn_bind(struct pvk_transport *t, domid_t domid,
                                   evtchn_port_t remote_port)
{
    return t->ops->bind(t, domid, remote_port);
}

int pvk_evtchn_fd(struct pvk_evtchn *ev)
{
    return ((struct pvk_evtchn_hdr *)ev)->ops->ev_fd(ev);
}

void pvk_evtchn_notify(struct pvk_evtchn *ev)
{
    ((struct pvk_evtchn_hdr *)ev)->ops->ev_notify(ev);
}

void pvk_evtchn_ack(struct pvk_evtchn *ev)
{
    ((struct pvk_evtchn_hdr *)ev)->ops->ev_ack(ev);
}

void pvk_evtchn_unbind(struct pvk_evtchn *ev)
{
    if (ev)
        ((struct pvk_evtchn_hdr *)ev)->ops->ev_unbind(ev);
}

struct xs_handle *pvk_store_open(struct pvk_transport *t)
{
    return t->ops->store_open(t);
}

/* Contract: see transport.h. */
int pvk_connect(const char *kind, struct pvk_transport **t,
                struct xs_handle **xs)
{
    *xs = NULL;
    *t = pvk_transport_open(kind);
    if (!*t) {
        pvk_err("transport %s: %s: %s", kind, pvk_transport_failed_on(),
                strerror(errno));
        return -1;
    }
    *xs = pvk_store_open(*t);
    if (!*xs) {
        pvk_err("cannot connect to xenstore at %s: %s",
                pvk_transport_failed_on(), strerror(errno));
        pvk_transport_close(*t);
        *t = NULL;
        return -1;
    }
    return 0;
}
