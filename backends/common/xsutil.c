/*
 * xsutil.c - implementation of xsutil.h.  Every helper builds the full path
 * into a bounded buffer and refuses paths that do not fit
 * (XENSTORE_ABS_PATH_MAX), so a long frontend-supplied name cannot overflow.
 */
#include "xsutil.h"
#include "proto/xbstate.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xen/io/xs_wire.h>

/* Contract: joins dir and key; returns 0 or -1 if too long. */
static int join(char *buf, size_t len, const char *dir, const char *key)
{
    int n = snprintf(buf, len, "%s/%s", dir, key);

    return n < 0 || (size_t)n >= len ? -1 : 0;
}

char *xsu_read(struct xs_handle *xs, xs_transaction_t t, const char *dir,
               const char *key)
{
    char path[XENSTORE_ABS_PATH_MAX + 1];
    unsigned len;

    if (join(path, sizeof(path), dir, key) < 0)
        return NULL;
    return xs_read(xs, t, path, &len);
}

int xsu_get_u64(struct xs_handle *xs, xs_transaction_t t, const char *dir,
                const char *key, uint64_t *v)
{
    char *s = xsu_read(xs, t, dir, key);
    char *end;
    int rc = -1;

    if (!s)
        return -1;
    errno = 0;
    *v = strtoull(s, &end, 10);
    if (end != s && *end == '\0' && errno == 0 && s[0] != '-')
        rc = 0;
    free(s);
    return rc;
}

int xsu_get_u32(struct xs_handle *xs, xs_transaction_t t, const char *dir,
                const char *key, uint32_t *v)
{
    uint64_t v64;

    if (xsu_get_u64(xs, t, dir, key, &v64) < 0 || v64 > UINT32_MAX)
        return -1;
    *v = (uint32_t)v64;
    return 0;
}

uint64_t xsu_read_u64(struct xs_handle *xs, xs_transaction_t t,
                      const char *dir, const char *key, uint64_t def)
{
    uint64_t v;

    return xsu_get_u64(xs, t, dir, key, &v) == 0 ? v : def;
}

int xsu_printf(struct xs_handle *xs, xs_transaction_t t, const char *dir,
               const char *key, const char *fmt, ...)
{
    char path[XENSTORE_ABS_PATH_MAX + 1], val[256];
    va_list ap;
    int n;

    if (join(path, sizeof(path), dir, key) < 0)
        return -1;
    va_start(ap, fmt);
    n = vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(val))
        return -1;
    return xs_write(xs, t, path, val, (unsigned)n) ? 0 : -1;
}

int xsu_state(struct xs_handle *xs, const char *dir)
{
    char *s = xsu_read(xs, XBT_NULL, dir, "state");
    int st;

    if (!s)
        return -1;
    st = xbstate_parse(s, (unsigned)strlen(s));
    free(s);
    return st;
}

int xsu_switch_state(struct xs_handle *xs, const char *dir, int state)
{
    for (int tries = 0; tries < 100; tries++) {
        xs_transaction_t t = xs_transaction_start(xs);

        if (t == XBT_NULL)
            return -1;
        char *old = xsu_read(xs, t, dir, "state");
        if (!old) {
            xs_transaction_end(xs, t, true);
            errno = ENOENT;
            return -1;
        }
        free(old);
        if (xsu_printf(xs, t, dir, "state", "%d", state) < 0) {
            xs_transaction_end(xs, t, true);
            return -1;
        }
        if (xs_transaction_end(xs, t, false))
            return 0;
        if (errno != EAGAIN)
            return -1;
    }
    return -1;
}
