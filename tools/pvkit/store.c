/*
 * store: a domain's XenStore tree, written and removed as libxl does (store.h).
 */
#define _GNU_SOURCE
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <xenstore.h>

#include "devices.h"
#include "util.h"

/* Bytes of the path of one transaction step. */
#define STORE_TX_PATH 256

struct xs_handle *store_open(void)
{
    return xs_open(0);
}

void store_close(struct xs_handle *xs)
{
    if (xs)
        xs_close(xs);
}

/* A fresh copy of PATH's value, or NULL. */
static char *read_str(struct xs_handle *xs, xs_transaction_t t, const char *path)
{
    unsigned int len;
    char *v = xs_read(xs, t, path, &len);
    return v;
}

void store_fill_names(struct xs_handle *xs, struct dominfo_list *l)
{
    for (size_t i = 0; i < l->nr; i++) {
        struct dominfo *d = &l->doms[i];
        char path[64];
        snprintf(path, sizeof(path), "/local/domain/%u/name", d->domid);
        char *v = xs ? read_str(xs, XBT_NULL, path) : NULL;
        snprintf(d->name, sizeof(d->name), "%s", v ? v : d->domid == 0 ? "Domain-0" : "(null)");
        free(v);
    }
}

bool store_name_in_use(const struct dominfo_list *l, const char *name, uint32_t *domid)
{
    for (size_t i = 0; i < l->nr; i++)
        if (strcmp(l->doms[i].name, name) == 0) {
            *domid = l->doms[i].domid;
            return true;
        }
    return false;
}

/* Formats FMT with AP into PATH (STORE_TX_PATH bytes); false if X has
 * already failed (the step is then skipped). */
static bool tx_path(const struct store_tx *x, char *path, const char *fmt, va_list ap)
{
    if (x->rc)
        return false;
    vsnprintf(path, STORE_TX_PATH, fmt, ap);
    return true;
}

void store_tx_write(struct store_tx *x, const char *value, const char *fmt, ...)
{
    char path[STORE_TX_PATH];
    va_list ap;
    va_start(ap, fmt);
    bool go = tx_path(x, path, fmt, ap);
    va_end(ap);
    if (go && !xs_write(x->xs, x->t, path, value, (unsigned)strlen(value)))
        x->rc = -(errno ? errno : EIO);
}

void store_tx_mknod(struct store_tx *x, struct xs_permissions *perms, unsigned nr,
                    const char *fmt, ...)
{
    char path[STORE_TX_PATH];
    va_list ap;
    va_start(ap, fmt);
    bool go = tx_path(x, path, fmt, ap);
    va_end(ap);
    if (go && (!xs_write(x->xs, x->t, path, "", 0) || !xs_set_permissions(x->xs, x->t, path, perms, nr)))
        x->rc = -(errno ? errno : EIO);
}

void store_tx_rm(struct store_tx *x, const char *path)
{
    if (!x->rc && !xs_rm(x->xs, x->t, path) && errno != ENOENT)
        x->rc = -(errno ? errno : EIO);
}

int store_transact(struct xs_handle *xs, void (*fill)(struct store_tx *x, void *arg), void *arg)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        struct store_tx x = {.xs = xs, .t = xs_transaction_start(xs)};
        if (x.t == XBT_NULL)
            return -(errno ? errno : EIO);
        fill(&x, arg);
        if (x.rc) {
            xs_transaction_end(xs, x.t, true);
            return x.rc;
        }
        if (xs_transaction_end(xs, x.t, false))
            return 0;
        if (errno != EAGAIN)
            return -(errno ? errno : EIO);
    }
    return -EAGAIN;
}

/* The whole tree of D inside transaction X (store.h lists it). */
static void write_tree(struct store_tx *x, void *arg)
{
    const struct store_domain *d = arg;
    unsigned n = d->domid;
    char dom[32], vm[64], lx[32], num[32];
    struct xs_permissions roperm[2] = {{.id = 0, .perms = XS_PERM_NONE},
                                       {.id = n, .perms = XS_PERM_READ}};
    struct xs_permissions rwperm[1] = {{.id = n, .perms = XS_PERM_NONE}};
    struct xs_permissions noperm[1] = {{.id = 0, .perms = XS_PERM_NONE}};
    struct xs_permissions feperm[2] = {{.id = n, .perms = XS_PERM_NONE},
                                       {.id = 0, .perms = XS_PERM_READ}};

    snprintf(dom, sizeof(dom), "/local/domain/%u", n);
    snprintf(vm, sizeof(vm), "/vm/%s", d->uuid);
    snprintf(lx, sizeof(lx), "/libxl/%u", n);

    store_tx_rm(x, dom);
    store_tx_mknod(x, roperm, 2, "%s", dom);
    store_tx_rm(x, vm);
    store_tx_mknod(x, roperm, 2, "%s", vm);
    store_tx_rm(x, lx);
    store_tx_mknod(x, noperm, 1, "%s", lx);
    store_tx_mknod(x, noperm, 1, "%s/device", lx);
    store_tx_write(x, vm, "%s/vm", dom);
    store_tx_write(x, d->name, "%s/name", dom);
    for (const char *sub = "cpu\0memory\0device\0control\0"; *sub; sub += strlen(sub) + 1)
        store_tx_mknod(x, roperm, 2, "%s/%s", dom, sub);
    for (const char *sub = "control/shutdown\0control/feature-poweroff\0control/feature-reboot\0"
                           "control/feature-suspend\0control/sysrq\0"
                           "device/suspend/event-channel\0data\0drivers\0feature\0attr\0error\0";
         *sub; sub += strlen(sub) + 1)
        store_tx_mknod(x, rwperm, 1, "%s/%s", dom, sub);
    store_tx_write(x, d->uuid, "%s/uuid", vm);
    store_tx_write(x, d->name, "%s/name", vm);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    snprintf(num, sizeof(num), "%ld.%02ld", (long)tv.tv_sec, (long)tv.tv_usec / 10000);
    store_tx_write(x, num, "%s/start_time", vm);
    store_tx_write(x, "1", "%s/control/platform-feature-multiprocessor-suspend", dom);
    store_tx_write(x, "1", "%s/control/platform-feature-xs_reset_watches", dom);
    store_tx_write(x, "pv", "%s/type", lx);

    /* libxl__build_post */
    snprintf(num, sizeof(num), "%llu", (unsigned long long)d->max_kb);
    store_tx_write(x, num, "%s/memory/static-max", dom);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)d->target_kb);
    store_tx_write(x, num, "%s/memory/target", dom);
    store_tx_write(x, "0", "%s/memory/videoram", dom);
    snprintf(num, sizeof(num), "%u", n);
    store_tx_write(x, num, "%s/domid", dom);
    snprintf(num, sizeof(num), "%u", d->store_port);
    store_tx_write(x, num, "%s/store/port", dom);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)d->store_mfn);
    store_tx_write(x, num, "%s/store/ring-ref", dom);
    for (unsigned i = 0; i < d->max_vcpus; i++)
        store_tx_write(x, i < d->vcpus ? "online" : "offline", "%s/cpu/%u/availability", dom, i);

    /* The primary console (libxl__device_console_add), backend in dom0. */
    char be[96];
    snprintf(be, sizeof(be), "/local/domain/0/backend/console/%u/0", n);
    struct xs_permissions beperm[2] = {{.id = 0, .perms = XS_PERM_NONE},
                                       {.id = n, .perms = XS_PERM_READ}};
    store_tx_rm(x, be);
    store_tx_mknod(x, beperm, 2, "%s", be);
    store_tx_write(x, dom, "%s/frontend", be);
    snprintf(num, sizeof(num), "%u", n);
    store_tx_write(x, num, "%s/frontend-id", be);
    store_tx_write(x, "1", "%s/online", be);
    store_tx_write(x, "1", "%s/state", be);
    store_tx_write(x, d->name, "%s/domain", be);
    store_tx_write(x, "ioemu", "%s/protocol", be);
    store_tx_mknod(x, feperm, 2, "%s/console", dom);
    store_tx_write(x, be, "%s/console/backend", dom);
    store_tx_write(x, "0", "%s/console/backend-id", dom);
    store_tx_write(x, "1048576", "%s/console/limit", dom);
    store_tx_write(x, "xenconsoled", "%s/console/type", dom);
    store_tx_write(x, "pty", "%s/console/output", dom);
    store_tx_write(x, "", "%s/console/tty", dom);
    snprintf(num, sizeof(num), "%u", d->console_port);
    store_tx_write(x, num, "%s/console/port", dom);
    snprintf(num, sizeof(num), "%llu", (unsigned long long)d->console_mfn);
    store_tx_write(x, num, "%s/console/ring-ref", dom);

    /* pvkit's record of the configuration (owner 0 only, as /libxl). */
    store_tx_write(x, d->config ? d->config : "", "%s/pvkit/config", lx);
    store_tx_write(x, d->kernel ? d->kernel : "", "%s/pvkit/kernel", lx);
    store_tx_write(x, d->ramdisk ? d->ramdisk : "", "%s/pvkit/ramdisk", lx);
    store_tx_write(x, d->cmdline ? d->cmdline : "", "%s/pvkit/cmdline", lx);
    store_tx_write(x, d->on_poweroff, "%s/pvkit/on_poweroff", lx);
    store_tx_write(x, d->on_reboot, "%s/pvkit/on_reboot", lx);
    store_tx_write(x, d->on_crash, "%s/pvkit/on_crash", lx);
}

int store_write_domain(struct xs_handle *xs, const struct store_domain *d)
{
    return store_transact(xs, write_tree, (void *)d);
}

int store_introduce(struct xs_handle *xs, uint32_t domid, uint64_t mfn, uint32_t port)
{
    return xs_introduce_domain(xs, domid, (unsigned long)mfn, port) ? 0 : -(errno ? errno : EIO);
}

void store_remove_domain(struct xs_handle *xs, uint32_t domid)
{
    char path[96];
    if (xs_is_domain_introduced(xs, domid))
        xs_release_domain(xs, domid);
    snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
    char *vm = read_str(xs, XBT_NULL, path);
    if (vm && strncmp(vm, "/vm/", 4) == 0 && !strstr(vm, ".."))
        xs_rm(xs, XBT_NULL, vm);
    free(vm);
    snprintf(path, sizeof(path), "/local/domain/%u", domid);
    xs_rm(xs, XBT_NULL, path);
    snprintf(path, sizeof(path), "/libxl/%u", domid);
    xs_rm(xs, XBT_NULL, path);
    snprintf(path, sizeof(path), "/local/domain/0/backend/console/%u", domid);
    xs_rm(xs, XBT_NULL, path);
    devices_remove_all(xs, domid);
}

int store_request_shutdown(struct xs_handle *xs, uint32_t domid, const char *request)
{
    char path[64];
    snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", domid);
    return xs_write(xs, XBT_NULL, path, request, (unsigned)strlen(request)) ? 0
                                                                             : -(errno ? errno : EIO);
}

int store_set_target(struct xs_handle *xs, uint32_t domid, uint64_t kb)
{
    char path[64], v[32];
    snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
    snprintf(v, sizeof(v), "%llu", (unsigned long long)kb);
    return xs_write(xs, XBT_NULL, path, v, (unsigned)strlen(v)) ? 0 : -(errno ? errno : EIO);
}

int store_start_time(struct xs_handle *xs, uint32_t domid, double *t)
{
    char path[96];
    snprintf(path, sizeof(path), "/local/domain/%u/vm", domid);
    char *vm = read_str(xs, XBT_NULL, path);
    if (!vm)
        return -ENOENT;
    snprintf(path, sizeof(path), "%.60s/start_time", vm);
    free(vm);
    char *st = read_str(xs, XBT_NULL, path);
    if (!st)
        return -ENOENT;
    char *end;
    *t = strtod(st, &end);
    int rc = end == st ? -ENOENT : 0;
    free(st);
    return rc;
}

char *store_record(struct xs_handle *xs, uint32_t domid, const char *key)
{
    char path[96];
    snprintf(path, sizeof(path), "/libxl/%u/pvkit/%s", domid, key);
    return read_str(xs, XBT_NULL, path);
}

int store_set_record(struct xs_handle *xs, uint32_t domid, const char *key, const char *value)
{
    char path[96];
    snprintf(path, sizeof(path), "/libxl/%u/pvkit/%s", domid, key);
    return xs_write(xs, XBT_NULL, path, value, (unsigned)strlen(value)) ? 0 : -(errno ? errno : EIO);
}

void store_new_uuid(char out[37])
{
    unsigned char b[16] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b)) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        srandom((unsigned)(tv.tv_usec ^ tv.tv_sec ^ getpid()));
        for (int i = 0; i < 16; i++)
            b[i] = (unsigned char)random();
    }
    if (fd >= 0)
        close(fd);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
             b[13], b[14], b[15]);
}
