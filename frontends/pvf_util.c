/*
 * pvf_util.c - implementation of pvf_util.h (freestanding).
 */
#include "pvf_util.h"
#include "proto/keys.h"
#include "proto/xbstate.h"

unsigned pvf_strlen(const char *s)
{
    unsigned n = 0;

    while (s[n])
        n++;
    return n;
}

int pvf_strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int pvf_join(char *buf, unsigned len, const char *a, const char *b)
{
    unsigned la = pvf_strlen(a), lb = b ? pvf_strlen(b) : 0;
    unsigned need = la + (b ? 1 + lb : 0) + 1;

    if (need > len)
        return -XEN_E2BIG;
    __builtin_memcpy(buf, a, la);
    if (b) {
        buf[la] = '/';
        __builtin_memcpy(buf + la + 1, b, lb);
    }
    buf[need - 1] = '\0';
    return 0;
}

unsigned pvf_utoa(uint64_t v, char *buf, unsigned len)
{
    char tmp[21];
    unsigned n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < sizeof(tmp));
    if (n + 1 > len)
        n = len ? len - 1 : 0;
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    if (len)
        buf[n] = '\0';
    return n;
}

int pvf_parse_u64(const char *s, uint64_t *v)
{
    uint64_t r = 0;

    if (!*s)
        return -XEN_EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || r > (UINT64_MAX - 9) / 10)
            return -XEN_EINVAL;
        r = r * 10 + (uint64_t)(*s - '0');
    }
    *v = r;
    return 0;
}

int pvf_get_u64(const struct pvf_os *os, uint32_t tx, const char *dir,
                const char *key, uint64_t *v)
{
    char path[256], val[32];
    int rc = pvf_join(path, sizeof(path), dir, key);

    if (rc < 0)
        return rc;
    rc = os->store_read(os->ctx, tx, path, val, sizeof(val));
    if (rc < 0)
        return rc;
    return pvf_parse_u64(val, v);
}

uint64_t pvf_read_u64(const struct pvf_os *os, uint32_t tx, const char *dir,
                      const char *key, uint64_t def)
{
    uint64_t v;

    return pvf_get_u64(os, tx, dir, key, &v) == 0 ? v : def;
}

int pvf_write_str(const struct pvf_os *os, uint32_t tx, const char *dir,
                  const char *key, const char *s)
{
    char path[256];
    int rc = pvf_join(path, sizeof(path), dir, key);

    return rc < 0 ? rc : os->store_write(os->ctx, tx, path, s);
}

int pvf_write_u64(const struct pvf_os *os, uint32_t tx, const char *dir,
                  const char *key, uint64_t v)
{
    char val[24];

    pvf_utoa(v, val, sizeof(val));
    return pvf_write_str(os, tx, dir, key, val);
}

int pvf_read_state(const struct pvf_os *os, const char *dir)
{
    char path[256], val[8];
    int rc = pvf_join(path, sizeof(path), dir, "state");

    if (rc < 0)
        return XenbusStateUnknown;
    rc = os->store_read(os->ctx, 0, path, val, sizeof(val));
    if (rc < 0)
        return XenbusStateUnknown;
    rc = xbstate_parse(val, (unsigned)rc);
    return rc < 0 ? XenbusStateUnknown : rc;
}

int pvf_transact(const struct pvf_os *os, int (*body)(void *arg, uint32_t tx),
                 void *arg)
{
    for (int tries = 0; tries < 100; tries++) {
        uint32_t tx;
        int rc = os->store_tx_start(os->ctx, &tx);

        if (rc < 0)
            return rc;
        rc = body(arg, tx);
        if (rc < 0) {
            os->store_tx_end(os->ctx, tx, 1);
            return rc;
        }
        rc = os->store_tx_end(os->ctx, tx, 0);
        if (rc != -XEN_EAGAIN)
            return rc;
    }
    return -XEN_EAGAIN;
}

struct switch_arg {
    const struct pvf_os *os;
    const char *dir;
    int state;
};

static int switch_body(void *arg, uint32_t tx)
{
    const struct switch_arg *a = arg;

    return pvf_write_u64(a->os, tx, a->dir, "state", (uint64_t)a->state);
}

int pvf_switch_state(const struct pvf_os *os, const char *dir, int state)
{
    struct switch_arg a = { os, dir, state };

    return pvf_transact(os, switch_body, &a);
}

/* The directory of queue i out of nr under node (pvf_publish_queues); 0 or -XEN_E2BIG. */
static int queue_dir(char *buf, unsigned len, const char *node, unsigned i, unsigned nr)
{
    char name[16] = "queue-";

    if (nr == 1)
        return pvf_join(buf, len, node, NULL);
    pvf_utoa(i, name + 6, sizeof(name) - 6);
    return pvf_join(buf, len, node, name);
}

int pvf_publish_queues(const struct pvf_link *link, uint32_t tx, unsigned nr, int mq_key,
                       int (*one)(void *dev, uint32_t tx, const char *dir, unsigned i),
                       void *dev)
{
    int rc = 0;

    if (mq_key)
        rc = pvf_write_u64(link->os, tx, link->node, PVK_KEY_MQ_NUM_QUEUES, nr);
    for (unsigned i = 0; rc == 0 && i < nr; i++) {
        char dir[160];

        rc = queue_dir(dir, sizeof(dir), link->node, i, nr);
        if (rc == 0)
            rc = one(dev, tx, dir, i);
    }
    return rc;
}

int pvf_wait_state(const struct pvf_os *os, const char *dir, int lo, int hi,
                   int fail_from, unsigned ms)
{
    uint64_t deadline = os->now_ms(os->ctx) + ms;

    for (;;) {
        int st = pvf_read_state(os, dir);
        uint64_t now;

        if ((st >= lo && st <= hi) || (fail_from && st >= fail_from))
            return st;
        now = os->now_ms(os->ctx);
        if (now >= deadline)
            return -XEN_ETIMEDOUT;
        os->store_wait(os->ctx, (unsigned)(deadline - now));
    }
}

int pvf_open_handshake(const struct pvf_os *os, const char *node,
                       const char *backend, unsigned ms)
{
    char bstate[160];
    int rc, st;

    rc = pvf_join(bstate, sizeof(bstate), backend, "state");
    if (rc < 0 || (rc = os->store_watch(os->ctx, bstate)) < 0)
        return rc;
    if (pvf_read_state(os, node) != XenbusStateInitialising)
        pvf_switch_state(os, node, XenbusStateInitialising);
    /* A backend still Closed from an earlier connection is on its way back
     * to InitWait, so only a timeout ends this wait. */
    st = pvf_wait_state(os, backend, XenbusStateInitWait, XenbusStateInitWait, 0, ms);
    if (st != XenbusStateInitWait)
        return st < 0 ? st : -XEN_EIO;
    return 0;
}

int pvf_close_handshake(const struct pvf_os *os, const char *node,
                        const char *backend, unsigned ms)
{
    int st;

    pvf_switch_state(os, node, XenbusStateClosing);
    st = pvf_wait_state(os, backend, XenbusStateClosing, XenbusStateClosed, 0, ms);
    pvf_switch_state(os, node, XenbusStateClosed);
    if (st >= 0)
        st = pvf_wait_state(os, backend, XenbusStateClosed, XenbusStateClosed, 0, ms);
    return st;
}

void pvf_unwatch_state(const struct pvf_os *os, const char *dir)
{
    char path[160];

    if (pvf_join(path, sizeof(path), dir, "state") == 0)
        os->store_unwatch(os->ctx, path);
}

int pvf_link_init(struct pvf_link *link, const struct pvf_os *os, const char *node)
{
    char path[160];
    uint64_t v;
    int rc = pvf_join(link->node, sizeof(link->node), node, 0);

    link->os = os;
    if (rc < 0)
        return rc;
    if (pvf_join(path, sizeof(path), node, PVK_KEY_BACKEND) < 0 ||
        os->store_read(os->ctx, 0, path, link->backend, sizeof(link->backend)) <= 0)
        return -XEN_ENOENT;
    if (pvf_get_u64(os, 0, node, PVK_KEY_BACKEND_ID, &v) < 0 || v >= DOMID_FIRST_RESERVED)
        return -XEN_EINVAL;
    link->backend_id = (domid_t)v;
    return 0;
}

int pvf_queues_alloc(void *dev, unsigned nr, unsigned max, int (*alloc)(void *dev, unsigned i),
                     void (*release)(void *dev, unsigned i))
{
    for (unsigned i = 0; i < nr; i++) {
        int rc = alloc(dev, i);

        if (rc < 0) {
            pvf_queues_free(dev, max, release);
            return rc;
        }
    }
    return 0;
}

void pvf_queues_free(void *dev, unsigned max, void (*release)(void *dev, unsigned i))
{
    for (unsigned i = 0; i < max; i++)
        release(dev, i);
}
