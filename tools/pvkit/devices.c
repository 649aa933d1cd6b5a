/*
 * devices: vbd and vif nodes added and removed as libxl does (devices.h).
 */
#define _GNU_SOURCE
#include "devices.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xenstore.h>

#include "store.h"
#include "util.h"

/* Disk index of the letters at *P (a = 0, z = 25, aa = 26, ...), advancing *P. */
static long disk_index(const char **p)
{
    long n = 0;
    if (!islower((unsigned char)**p))
        return -1;
    while (islower((unsigned char)**p)) {
        if (n > (1L << 20))
            return -1;
        n = n * 26 + (**p - 'a' + 1);
        (*p)++;
    }
    return n - 1;
}

long devices_vdev_number(const char *vdev)
{
    const char *p = vdev;
    enum { XVD, HD, SD } kind;
    if (!strncmp(p, "xvd", 3))
        kind = XVD, p += 3;
    else if (!strncmp(p, "hd", 2))
        kind = HD, p += 2;
    else if (!strncmp(p, "sd", 2))
        kind = SD, p += 2;
    else
        return -EINVAL;
    long disk = disk_index(&p), part = 0;
    if (disk < 0)
        return -EINVAL;
    if (*p) {
        char *end;
        if (!isdigit((unsigned char)*p) || (*p == '0' && p[1]))
            return -EINVAL;
        part = strtol(p, &end, 10);
        if (*end || part > 255)
            return -EINVAL;
    }
    switch (kind) {
    case XVD:
        if (disk < 16 && part < 16)
            return (202L << 8) | (disk << 4) | part;
        if (disk < (1L << 20))
            return (1L << 28) | (disk << 8) | part;
        return -EINVAL;
    case HD:
        if (disk < 4 && part < 64)
            return ((disk < 2 ? 3L : 22L) << 8) | ((disk & 1) << 6) | part;
        return -EINVAL;
    case SD:
        if (disk < 16 && part < 16)
            return (8L << 8) | (disk << 4) | part;
        return -EINVAL;
    }
    return -EINVAL;
}

/* What one device's transaction writes. */
struct device_nodes {
    uint32_t domid;
    const char *kind;       /* "vbd", "vif" */
    unsigned id;
    const struct domcfg_disk *disk;
    const struct domcfg_vif *vif;
};

static bool exists(struct store_tx *x, const char *path)
{
    unsigned len;
    char *v = xs_read(x->xs, x->t, path, &len);
    free(v);
    return v != NULL;
}

/* How many devices KIND DOMID has (its backend nodes), in transaction X. */
static unsigned count_devices(struct store_tx *x, uint32_t domid, const char *kind)
{
    char path[96];
    unsigned nr = 0;
    snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", kind, domid);
    free(xs_directory(x->xs, x->t, path, &nr));
    return nr;
}

static void write_nodes(struct store_tx *x, void *arg)
{
    const struct device_nodes *n = arg;
    char fe[96], be[96], num[32], mac[18];
    struct xs_permissions fe_perm[2] = {{.id = n->domid, .perms = XS_PERM_NONE},
                                        {.id = 0, .perms = XS_PERM_READ}};
    struct xs_permissions be_perm[2] = {{.id = 0, .perms = XS_PERM_NONE},
                                        {.id = n->domid, .perms = XS_PERM_READ}};

    snprintf(fe, sizeof(fe), "/local/domain/%u/device/%s/%u", n->domid, n->kind, n->id);
    snprintf(be, sizeof(be), "/local/domain/0/backend/%s/%u/%u", n->kind, n->domid, n->id);
    if (exists(x, fe) || exists(x, be)) {
        x->rc = -EEXIST;
        return;
    }
    if (count_devices(x, n->domid, n->kind) >= (n->disk ? DOMCFG_MAX_DISKS : DOMCFG_MAX_VIFS)) {
        x->rc = -ENOSPC;
        return;
    }
    store_tx_mknod(x, fe_perm, 2, "%s", fe);
    store_tx_mknod(x, be_perm, 2, "%s", be);
    store_tx_write(x, be, "%s/backend", fe);
    store_tx_write(x, "0", "%s/backend-id", fe);
    store_tx_write(x, "1", "%s/state", fe);
    store_tx_write(x, fe, "%s/frontend", be);
    snprintf(num, sizeof(num), "%u", n->domid);
    store_tx_write(x, num, "%s/frontend-id", be);
    store_tx_write(x, "1", "%s/online", be);
    store_tx_write(x, "1", "%s/state", be);
    snprintf(num, sizeof(num), "%u", n->id);
    if (n->disk) {
        const struct domcfg_disk *d = n->disk;
        struct stat st;
        bool blk = stat(d->target, &st) == 0 && S_ISBLK(st.st_mode);
        store_tx_write(x, num, "%s/virtual-device", fe);
        store_tx_write(x, d->cdrom ? "cdrom" : "disk", "%s/device-type", fe);
        store_tx_write(x, d->target, "%s/params", be);
        store_tx_write(x, d->readonly ? "r" : "w", "%s/mode", be);
        store_tx_write(x, d->vdev, "%s/dev", be);
        store_tx_write(x, blk ? "phy" : "file", "%s/type", be);
        store_tx_write(x, d->cdrom ? "cdrom" : "disk", "%s/device-type", be);
        store_tx_write(x, d->cdrom ? "1" : "0", "%s/removable", be);
        store_tx_write(x, "1", "%s/bootable", be);
        store_tx_write(x, d->readonly ? "0" : "1", "%s/discard-enable", be);
    } else {
        const struct domcfg_vif *v = n->vif;
        snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", v->mac[0], v->mac[1],
                 v->mac[2], v->mac[3], v->mac[4], v->mac[5]);
        store_tx_write(x, num, "%s/handle", fe);
        store_tx_write(x, mac, "%s/mac", fe);
        store_tx_write(x, num, "%s/handle", be);
        store_tx_write(x, mac, "%s/mac", be);
        store_tx_write(x, v->bridge ? v->bridge : DEVICES_DEFAULT_BRIDGE, "%s/bridge", be);
        store_tx_write(x, "vif", "%s/type", be);
        store_tx_write(x, "/etc/xen/scripts/vif-bridge", "%s/script", be);
        if (v->ip)
            store_tx_write(x, v->ip, "%s/ip", be);
        if (v->vifname)
            store_tx_write(x, v->vifname, "%s/vifname", be);
    }
}

int devices_check_target(const struct domcfg_disk *d, char *why, size_t len)
{
    struct stat st;
    if (stat(d->target, &st) < 0 || access(d->target, d->readonly ? R_OK : R_OK | W_OK) < 0) {
        int rc = -errno;
        snprintf(why, len, "%s: %s", d->target, strerror(errno));
        return rc;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        snprintf(why, len, "%s: not a regular file or block device", d->target);
        return -EINVAL;
    }
    return 0;
}

int devices_add_disk(struct xs_handle *xs, uint32_t domid, const struct domcfg_disk *d)
{
    long id = devices_vdev_number(d->vdev);
    if (id < 0)
        return (int)id;
    struct device_nodes n = {.domid = domid, .kind = "vbd", .id = (unsigned)id, .disk = d};
    return store_transact(xs, write_nodes, &n);
}

/* A locally administered-looking Xen MAC, as libxl picks one: 00:16:3e + 3 random bytes. */
static void random_mac(unsigned char mac[6])
{
    unsigned char r[3] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, r, sizeof(r)) != (ssize_t)sizeof(r)) {
        unsigned long t = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 8);
        r[0] = (unsigned char)t, r[1] = (unsigned char)(t >> 8), r[2] = (unsigned char)(t >> 16);
    }
    if (fd >= 0)
        close(fd);
    mac[0] = 0x00, mac[1] = 0x16, mac[2] = 0x3e;
    mac[3] = r[0] & 0x7f, mac[4] = r[1], mac[5] = r[2];
}

int devices_add_vif(struct xs_handle *xs, uint32_t domid, unsigned devid, struct domcfg_vif *v)
{
    if (!v->has_mac) {
        random_mac(v->mac);
        v->has_mac = true;
    }
    struct device_nodes n = {.domid = domid, .kind = "vif", .id = devid, .vif = v};
    return store_transact(xs, write_nodes, &n);
}

unsigned devices_free_vif_id(struct xs_handle *xs, uint32_t domid)
{
    char path[96];
    unsigned nr = 0, id = 0;
    snprintf(path, sizeof(path), "/local/domain/%u/device/vif", domid);
    char **ids = xs_directory(xs, XBT_NULL, path, &nr);
    for (bool taken = true; taken; id += taken) {
        taken = false;
        for (unsigned i = 0; ids && i < nr && !taken; i++)
            taken = strtoul(ids[i], NULL, 10) == id;
    }
    free(ids);
    return id;
}

/* The backend's state, or -1 if it has none. */
static int backend_state(struct xs_handle *xs, const char *be)
{
    char path[128];
    unsigned len;
    snprintf(path, sizeof(path), "%s/state", be);
    char *v = xs_read(xs, XBT_NULL, path, &len);
    int s = v ? atoi(v) : -1;
    free(v);
    return s;
}

struct closing {
    const char *be;
};

static void ask_close(struct store_tx *x, void *arg)
{
    const struct closing *c = arg;
    store_tx_write(x, "0", "%s/online", c->be);
    store_tx_write(x, "5", "%s/state", c->be);
}

int devices_remove(struct xs_handle *xs, uint32_t domid, const char *kind, unsigned id,
                   unsigned timeout_ms)
{
    char fe[96], be[96];
    snprintf(fe, sizeof(fe), "/local/domain/%u/device/%s/%u", domid, kind, id);
    snprintf(be, sizeof(be), "/local/domain/0/backend/%s/%u/%u", kind, domid, id);
    if (backend_state(xs, be) < 0)
        return -ENOENT;
    struct closing c = {.be = be};
    int rc = timeout_ms ? store_transact(xs, ask_close, &c) : 0;
    for (unsigned waited = 0; !rc && waited < timeout_ms && backend_state(xs, be) != 6;
         waited += 20)
        nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
    bool closed = backend_state(xs, be) == 6;
    xs_rm(xs, XBT_NULL, fe);
    xs_rm(xs, XBT_NULL, be);
    if (rc && rc != -ENOENT)
        return rc;
    return closed || timeout_ms == 0 ? 0 : -ETIMEDOUT;
}

void devices_remove_all(struct xs_handle *xs, uint32_t domid)
{
    char path[96];
    for (const char *kind = "vbd\0vif\0"; *kind; kind += strlen(kind) + 1) {
        snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", kind, domid);
        xs_rm(xs, XBT_NULL, path);
        snprintf(path, sizeof(path), "/local/domain/%u/device/%s", domid, kind);
        xs_rm(xs, XBT_NULL, path);
    }
}

const char *devices_backend_name(const char *kind)
{
    return strcmp(kind, "vbd") == 0 ? "pvkit-blkback" : "pvkit-netback";
}

int devices_backend_pid(const char *kind, pid_t *pid)
{
    const char *name = devices_backend_name(kind);
    char path[96];
    long v = 0;
    snprintf(path, sizeof(path), DEVICES_RUN_DIR "/%s.pid", name + strlen("pvkit-"));
    FILE *f = fopen(path, "r");
    if (!f)
        return -ENOENT;
    int n = fscanf(f, "%ld", &v);
    fclose(f);
    if (n != 1 || v <= 0)
        return -ENOENT;
    *pid = (pid_t)v;
    return process_is(*pid, name) ? 0 : -ESRCH;
}

/* The number at PATH, or -1 if there is none. */
static long read_num(struct xs_handle *xs, const char *path)
{
    unsigned len;
    char *v = xs_read(xs, XBT_NULL, path, &len);
    char *end;
    long n = v ? strtol(v, &end, 10) : -1;
    if (v && (end == v || *end))
        n = -1;
    free(v);
    return n;
}

/* The string at PATH into OUT (SIZE bytes), "" if there is none. */
static void read_str(struct xs_handle *xs, const char *path, char *out, size_t size)
{
    unsigned len;
    char *v = xs_read(xs, XBT_NULL, path, &len);
    snprintf(out, size, "%s", v ? v : "");
    free(v);
}

/* A frontend key, at FE/KEY or else FE/queue-0/KEY (multi-queue). */
static long read_fe_num(struct xs_handle *xs, const char *fe, const char *key)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", fe, key);
    long n = read_num(xs, path);
    if (n >= 0)
        return n;
    snprintf(path, sizeof(path), "%s/queue-0/%s", fe, key);
    return read_num(xs, path);
}

/* Fills I for device ID of kind KIND of DOMID from its nodes. */
static void read_info(struct xs_handle *xs, uint32_t domid, const char *kind, unsigned id,
                      struct devices_info *i)
{
    char fe[96], path[160];
    bool vbd = strcmp(kind, "vbd") == 0;
    snprintf(fe, sizeof(fe), "/local/domain/%u/device/%s/%u", domid, kind, id);
    snprintf(i->be_path, sizeof(i->be_path), "/local/domain/0/backend/%s/%u/%u", kind, domid, id);
    i->id = id;
    snprintf(path, sizeof(path), "%s/state", fe);
    i->fe_state = (int)read_num(xs, path);
    i->evtch = read_fe_num(xs, fe, "event-channel");
    i->rref = read_fe_num(xs, fe, vbd ? "ring-ref" : "tx-ring-ref");
    i->rref_rx = vbd ? -1 : read_fe_num(xs, fe, "rx-ring-ref");
    snprintf(path, sizeof(path), "%s/mac", i->be_path);
    read_str(xs, path, i->mac, sizeof(i->mac));
}

static int cmp_info(const void *a, const void *b)
{
    const struct devices_info *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int devices_list(struct xs_handle *xs, uint32_t domid, const char *kind,
                 struct devices_info **out, size_t *nr)
{
    char path[96];
    unsigned n = 0;
    snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", kind, domid);
    char **ids = xs_directory(xs, XBT_NULL, path, &n);
    *out = NULL;
    *nr = 0;
    if (!ids || n == 0) {
        free(ids);
        return 0;
    }
    *out = calloc(n, sizeof(**out));
    if (!*out) {
        free(ids);
        return -ENOMEM;
    }
    for (unsigned k = 0; k < n; k++) {
        char *end;
        unsigned long id = strtoul(ids[k], &end, 10);
        if (*end || end == ids[k] || id > UINT32_MAX)
            continue;
        read_info(xs, domid, kind, (unsigned)id, &(*out)[(*nr)++]);
    }
    free(ids);
    qsort(*out, *nr, sizeof(**out), cmp_info);
    return 0;
}

int devices_vif_by_mac(struct xs_handle *xs, uint32_t domid, const char *mac, unsigned *id)
{
    struct devices_info *l;
    size_t nr;
    int rc = devices_list(xs, domid, "vif", &l, &nr);
    if (rc)
        return rc;
    rc = -ENOENT;
    for (size_t k = 0; k < nr && rc; k++)
        if (strcasecmp(l[k].mac, mac) == 0) {
            *id = l[k].id;
            rc = 0;
        }
    free(l);
    return rc;
}

/* A fresh copy of the string at BE/KEY, or NULL if there is none. */
static char *read_be(struct xs_handle *xs, const char *be, const char *key)
{
    char path[160];
    unsigned len;
    snprintf(path, sizeof(path), "%s/%s", be, key);
    return xs_read(xs, XBT_NULL, path, &len);
}

/* Adds to DC the disk at vbd backend node BE; skipped if it names no image
 * or vdev (what is left of a node a backend wrote to after its removal).
 * 0, or -E2BIG if DC has DOMCFG_MAX_DISKS already. */
static int read_disk(struct xs_handle *xs, const char *be, struct domcfg *dc)
{
    if (dc->nr_disks >= DOMCFG_MAX_DISKS)
        return -E2BIG;
    struct domcfg_disk *d = &dc->disks[dc->nr_disks];
    char *mode = read_be(xs, be, "mode"), *type = read_be(xs, be, "device-type");
    d->target = read_be(xs, be, "params");
    d->vdev = read_be(xs, be, "dev");
    d->cdrom = type && strcmp(type, "cdrom") == 0;
    d->readonly = d->cdrom || !mode || strcmp(mode, "w") != 0;
    free(mode);
    free(type);
    if (d->target && d->vdev)
        dc->nr_disks++;
    else
        domcfg_disk_free(d);
    return 0;
}

/* Adds to DC the vif at vif backend node BE (a key it lacks stays unset);
 * skipped if it has no MAC (what a backend left). 0, or -E2BIG if DC has
 * DOMCFG_MAX_VIFS already. */
static int read_vif(struct xs_handle *xs, const char *be, struct domcfg *dc)
{
    if (dc->nr_vifs >= DOMCFG_MAX_VIFS)
        return -E2BIG;
    struct domcfg_vif *v = &dc->vifs[dc->nr_vifs];
    char *mac = read_be(xs, be, "mac");
    v->has_mac = mac && domcfg_parse_mac(mac, v->mac) == 0;
    free(mac);
    v->bridge = read_be(xs, be, "bridge");
    v->ip = read_be(xs, be, "ip");
    v->vifname = read_be(xs, be, "vifname");
    if (v->has_mac)
        dc->nr_vifs++;
    else
        domcfg_vif_free(v);
    return 0;
}

/* Adds each KIND device of DOMID to DC with READ (read_disk or read_vif). 0 or -errno. */
static int read_kind(struct xs_handle *xs, uint32_t domid, const char *kind,
                     int (*read)(struct xs_handle *, const char *, struct domcfg *),
                     struct domcfg *dc)
{
    struct devices_info *l = NULL;
    size_t nr = 0;
    int rc = devices_list(xs, domid, kind, &l, &nr);
    for (size_t i = 0; !rc && i < nr; i++)
        rc = read(xs, l[i].be_path, dc);
    free(l);
    return rc;
}

int devices_read_config(struct xs_handle *xs, uint32_t domid, struct domcfg *dc)
{
    int rc = read_kind(xs, domid, "vbd", read_disk, dc);
    if (!rc)
        rc = read_kind(xs, domid, "vif", read_vif, dc);
    if (rc) {
        for (size_t i = 0; i < dc->nr_disks; i++)
            domcfg_disk_free(&dc->disks[i]);
        for (size_t i = 0; i < dc->nr_vifs; i++)
            domcfg_vif_free(&dc->vifs[i]);
        dc->nr_disks = dc->nr_vifs = 0;
    }
    return rc;
}
