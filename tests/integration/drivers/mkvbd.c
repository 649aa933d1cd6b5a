/*
 * mkvbd.c - the toolstack's part of a vbd, for the hosted tests: creates
 * the frontend and backend nodes of one disk in a single transaction, with
 * both states at Initialising (docs/linux-pv-interface.md §3.1, §3.3), or
 * removes them.  Also waits for a key to take a value.
 *   mkvbd add FE VDEV PARAMS MODE [DEVICE-TYPE]   (backend domain 0;
 *                                     device-type defaults to "disk")
 *   mkvbd del FE VDEV
 *   mkvbd wait PATH VALUE MS          (exit 0 once PATH reads VALUE)
 *   mkvbd addvif FE HANDLE MAC        (a vif, backend domain 0)
 * Talks to the store through libxenstore (XENSTORED_PATH).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

/* Contract: writes key=value under dir inside transaction t. */
static void put(struct xs_handle *xs, xs_transaction_t t, const char *dir,
                const char *key, const char *val)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    if (!xs_write(xs, t, path, val, (unsigned)strlen(val)))
        fprintf(stderr, "mkvbd: write %s: %s\n", path, strerror(errno));
}

/* Contract: writes the key/value pairs of kv (NULL-terminated) under dir. */
static void put_all(struct xs_handle *xs, xs_transaction_t t, const char *dir,
                    const char *const *kv)
{
    for (; kv[0]; kv += 2)
        put(xs, t, dir, kv[0], kv[1]);
}

/* Contract: writes both nodes of device kind/id of domain fe in one
 * transaction (retried while it conflicts): the links between them, the
 * pairs of fextra and bextra, both states Initialising; 0 on commit. */
static int add_device(struct xs_handle *xs, const char *fe, const char *kind, const char *id,
                      const char *const *fextra, const char *const *bextra)
{
    char fpath[128], bpath[128];

    snprintf(fpath, sizeof(fpath), "/local/domain/%s/device/%s/%s", fe, kind, id);
    snprintf(bpath, sizeof(bpath), "/local/domain/0/backend/%s/%s/%s", kind, fe, id);
    for (;;) {
        xs_transaction_t t = xs_transaction_start(xs);

        put(xs, t, fpath, "backend", bpath);
        put(xs, t, fpath, "backend-id", "0");
        put_all(xs, t, fpath, fextra);
        put(xs, t, fpath, "state", "1");
        put(xs, t, bpath, "frontend", fpath);
        put(xs, t, bpath, "frontend-id", fe);
        put(xs, t, bpath, "online", "1");
        put_all(xs, t, bpath, bextra);
        put(xs, t, bpath, "state", "1");
        if (xs_transaction_end(xs, t, false))
            return 0;
        if (errno != EAGAIN)
            return -1;
    }
}

/* Contract: writes both nodes of disk (fe, vdev); 0 on commit. */
static int add(struct xs_handle *xs, const char *fe, const char *vdev,
               const char *params, const char *mode, const char *devtype)
{
    char dev[16];
    unsigned minor = (unsigned)strtoul(vdev, NULL, 10) & 0xff;

    snprintf(dev, sizeof(dev), "xvd%c", 'a' + (int)(minor / 16) % 26);
    const char *const fextra[] = { "virtual-device", vdev, "device-type", devtype, NULL };
    const char *const bextra[] = { "dev", dev, "type", "file", "params", params,
                                   "mode", mode, NULL };
    return add_device(xs, fe, "vbd", vdev, fextra, bextra);
}

/* Contract: writes both nodes of vif (fe, handle); 0 on commit. */
static int addvif(struct xs_handle *xs, const char *fe, const char *handle,
                  const char *mac)
{
    const char *const fextra[] = { "handle", handle, "mac", mac, NULL };
    const char *const bextra[] = { "handle", handle, "mac", mac, "script", "vif-pvkit",
                                   "type", "vif", NULL };
    return add_device(xs, fe, "vif", handle, fextra, bextra);
}

/* Contract: removes both nodes of disk (fe, vdev). */
static int del(struct xs_handle *xs, const char *fe, const char *vdev)
{
    char path[128];
    int ok;

    snprintf(path, sizeof(path), "/local/domain/0/backend/vbd/%s/%s", fe, vdev);
    ok = xs_rm(xs, XBT_NULL, path);
    snprintf(path, sizeof(path), "/local/domain/%s/device/vbd/%s", fe, vdev);
    return ok && xs_rm(xs, XBT_NULL, path) ? 0 : -1;
}

/* Contract: polls PATH until it reads VALUE or ms elapse. */
static int wait_value(struct xs_handle *xs, const char *path, const char *value,
                      long ms)
{
    for (long waited = 0; waited <= ms; waited += 20) {
        unsigned len;
        char *v = xs_read(xs, XBT_NULL, path, &len);
        int match = v && strcmp(v, value) == 0;

        free(v);
        if (match)
            return 0;
        poll(NULL, 0, 20);
    }
    fprintf(stderr, "mkvbd: %s never became %s\n", path, value);
    return -1;
}

int main(int argc, char **argv)
{
    struct xs_handle *xs = xs_open(XS_OPEN_SOCKETONLY);
    int rc = -1;

    if (!xs) {
        fprintf(stderr, "mkvbd: cannot reach xenstore: %s\n", strerror(errno));
        return 1;
    }
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "add") == 0)
        rc = add(xs, argv[2], argv[3], argv[4], argv[5], argc == 7 ? argv[6] : "disk");
    else if (argc == 5 && strcmp(argv[1], "addvif") == 0)
        rc = addvif(xs, argv[2], argv[3], argv[4]);
    else if (argc == 4 && strcmp(argv[1], "del") == 0)
        rc = del(xs, argv[2], argv[3]);
    else if (argc == 5 && strcmp(argv[1], "wait") == 0)
        rc = wait_value(xs, argv[2], argv[3], strtol(argv[4], NULL, 10));
    else
        fprintf(stderr, "usage: mkvbd add FE VDEV PARAMS MODE [TYPE] | del FE VDEV | "
                        "wait PATH VALUE MS | addvif FE HANDLE MAC\n");
    xs_close(xs);
    return rc == 0 ? 0 : 1;
}
