/*
 * pvf_os.h - the OS-glue interface of pvkit's portable frontends.
 *
 * The frontend cores (blkfront, console-front) are freestanding C: they use
 * no libc beyond memcpy/memset (which every freestanding C environment must
 * supply) and reach the platform only through this table: page allocation,
 * granting pages to the backend, event channels, the store and a clock.  A
 * test guest kernel fills it with hypercalls; the hosted glue
 * (hosted/hosted_dom.c) fills it with memfd pages, sockets and libxenstore.
 * Conventions: errors are negative values from xen/errno.h (-XEN_EAGAIN,
 * ...); store paths are absolute; `tx` 0 means "no transaction".
 */
#ifndef PVF_OS_H
#define PVF_OS_H

#include <stdint.h>
#include "proto/pvk_abi.h"

struct pvf_os {
    void *ctx;
    domid_t self;

    /* Zeroed memory for the core's own bookkeeping (not shared). */
    void *(*zalloc)(void *ctx, unsigned long size);
    void (*free)(void *ctx, void *p);
    /* `n` zeroed, virtually contiguous pages; frames[i] is page i's frame. */
    void *(*pages_alloc)(void *ctx, unsigned n, uint64_t *frames);
    void (*pages_free)(void *ctx, void *va, unsigned n);

    /* Grants `frame` to `to`; read-only if `ro`.  0 or -errno. */
    int (*grant)(void *ctx, domid_t to, uint64_t frame, int ro, grant_ref_t *ref);
    /* Revokes a grant; -XEN_EBUSY while the backend still uses it. */
    int (*ungrant)(void *ctx, grant_ref_t ref);

    /* Allocates an unbound port that `remote` may bind to. */
    int (*evtchn_alloc)(void *ctx, domid_t remote, evtchn_port_t *port);
    void (*evtchn_notify)(void *ctx, evtchn_port_t port);
    void (*evtchn_close)(void *ctx, evtchn_port_t port);

    /* Reads a value into buf (NUL-terminated); length or -errno. */
    int (*store_read)(void *ctx, uint32_t tx, const char *path, char *buf,
                      unsigned len);
    int (*store_write)(void *ctx, uint32_t tx, const char *path, const char *val);
    int (*store_tx_start)(void *ctx, uint32_t *tx);
    /* Ends a transaction; -XEN_EAGAIN if it conflicted and must be redone. */
    int (*store_tx_end)(void *ctx, uint32_t tx, int abort);
    int (*store_watch)(void *ctx, const char *path);
    int (*store_unwatch)(void *ctx, const char *path);
    /* Blocks until a watch fires or `ms` pass; 0, or -XEN_ETIMEDOUT. */
    int (*store_wait)(void *ctx, unsigned ms);

    /* Monotonic milliseconds. */
    uint64_t (*now_ms)(void *ctx);
};

#endif
